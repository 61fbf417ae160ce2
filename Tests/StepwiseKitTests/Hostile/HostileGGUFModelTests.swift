import Foundation
import Testing
@testable import StepwiseKit

/// A GGUF model file's metadata, one key changed per case, loaded through ``ModelLoader``. The header
/// and tensor table themselves are covered by `GGUFCorruptTests`; these cases are what lies between a
/// valid file and a model: the tokenizer metadata and the `llama.*` sizes.
struct GGUFMetadataCase: Sendable, CustomStringConvertible {
    var name: String
    var says: String
    /// Keys to drop from, or replace in, the base metadata.
    var u32: [String: UInt32] = [:]
    var strings: [String: String] = [:]
    var stringArrays: [String: [String]] = [:]
    var drop: [String] = []
    var description: String { name }

    /// A tokenizer-complete, weightless llama GGUF: 4 tokens, one merge, block_count 1, width 8, 2 heads.
    func bytes() -> Data {
        var u = ["llama.block_count": UInt32(1), "llama.embedding_length": 8, "llama.feed_forward_length": 16,
                 "llama.attention.head_count": 2, "llama.context_length": 16, "tokenizer.ggml.bos_token_id": 0]
        var s = ["general.architecture": "llama", "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "smollm"]
        var a = ["tokenizer.ggml.tokens": ["a", "b", "ab", "<s>"], "tokenizer.ggml.merges": ["a b"]]
        u.merge(u32) { $1 }; s.merge(strings) { $1 }; a.merge(stringArrays) { $1 }
        for k in drop { u[k] = nil; s[k] = nil; a[k] = nil }
        var b = GGUFBuilder()
        b.header(tensors: 0, kvs: UInt64(u.count + s.count + a.count))
        for (k, v) in s.sorted(by: { $0.key < $1.key }) { b.kvString(k, v) }
        for (k, v) in u.sorted(by: { $0.key < $1.key }) { b.kvU32(k, v) }
        for (k, v) in a.sorted(by: { $0.key < $1.key }) {
            b.string(k); b.u32(GGUFValueType.array.rawValue); b.u32(GGUFValueType.string.rawValue); b.u64(UInt64(v.count))
            for x in v { b.string(x) }
        }
        return b.bytes
    }
}

let ggufMetadataCases: [GGUFMetadataCase] = [
    GGUFMetadataCase(name: "no architecture", says: "has no general.architecture", drop: ["general.architecture"]),
    GGUFMetadataCase(name: "architecture gpt2", says: "architecture 'gpt2' is not supported", strings: ["general.architecture": "gpt2"]),
    GGUFMetadataCase(name: "SentencePiece tokenizer", says: "tokenizer model 'llama' is not supported", strings: ["tokenizer.ggml.model": "llama"]),
    GGUFMetadataCase(name: "no tokenizer model", says: "has no tokenizer.ggml.model", drop: ["tokenizer.ggml.model"]),
    GGUFMetadataCase(name: "no tokens", says: "has no tokenizer.ggml.tokens", drop: ["tokenizer.ggml.tokens"]),
    GGUFMetadataCase(name: "unknown pre-tokenizer", says: "pre-tokenizer 'mystery' is not supported", strings: ["tokenizer.ggml.pre": "mystery"]),
    GGUFMetadataCase(name: "merge of one symbol", says: "tokenizer.ggml.merges[0] 'ab' is not two symbols", stringArrays: ["tokenizer.ggml.merges": ["ab"]]),
    GGUFMetadataCase(name: "merge of unknown pieces", says: "'z' is not in the vocabulary", stringArrays: ["tokenizer.ggml.merges": ["a z"]]),
    GGUFMetadataCase(name: "bos id outside the vocabulary", says: "outside the vocabulary", u32: ["tokenizer.ggml.bos_token_id": 4]),
    GGUFMetadataCase(name: "no block_count", says: "has no integer llama.block_count", drop: ["llama.block_count"]),
    GGUFMetadataCase(name: "head_count 0 (was a division by zero)", says: "num_attention_heads is 0; it must be positive", u32: ["llama.attention.head_count": 0]),
    GGUFMetadataCase(name: "head_count not dividing the width", says: "has no tensor", u32: ["llama.attention.head_count": 3]),
    GGUFMetadataCase(name: "block_count 2^32-1", says: "num_hidden_layers is 4294967295; more than 1024 is impossible", u32: ["llama.block_count": .max]),
    GGUFMetadataCase(name: "context_length 0", says: "max_position_embeddings is 0", u32: ["llama.context_length": 0]),
    GGUFMetadataCase(name: "valid metadata but no tensors", says: "has no tensor 'token_embd.weight'"),
]

@Suite("Hostile GGUF model metadata")
struct HostileGGUFModelTests {
    @Test("bad GGUF model metadata is one StepwiseError naming the file", arguments: ggufMetadataCases)
    func badMetadata(_ c: GGUFMetadataCase) throws {
        let t = try TempFolder()
        try c.bytes().write(to: t.file("m.gguf"))
        let e = try #require(expectStepwiseError { _ = try ModelLoader.load(t.file("m.gguf").path) })
        #expect(e.message.hasPrefix(t.file("m.gguf").path), "\(c.name): \(e.message)")
        #expect(e.message.contains(c.says), "\(c.name): \(e.message)")
    }

    @Test("the base metadata gives a working tokenizer")
    func baseTokenizer() throws {
        let t = try TempFolder()
        try GGUFMetadataCase(name: "base", says: "").bytes().write(to: t.file("m.gguf"))
        let tok = try GGUFModels.tokenizer(GGUFFile(path: t.file("m.gguf").path))
        #expect(try tok.encode("ab") == [2])
    }
}
