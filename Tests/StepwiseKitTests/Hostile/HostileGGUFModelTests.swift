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
    /// Values of any type, written after the others (replacing a key of the same name).
    var values: [String: GGUFValue] = [:]
    /// Rows of the one tensor written, `token_embd.weight` (F32 `[rows, 8]`); nil writes no tensor.
    var embeddingRows: Int? = 4
    var description: String { name }

    /// A tokenizer-complete llama GGUF with only its embedding: 4 tokens, one merge, block_count 1,
    /// width 8, 2 heads, `token_embd.weight` [4, 8].
    func bytes() -> Data {
        var u = ["llama.block_count": UInt32(1), "llama.embedding_length": 8, "llama.feed_forward_length": 16,
                 "llama.attention.head_count": 2, "llama.context_length": 16, "tokenizer.ggml.bos_token_id": 0]
        var s = ["general.architecture": "llama", "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "smollm"]
        var a = ["tokenizer.ggml.tokens": ["a", "b", "ab", "<s>"], "tokenizer.ggml.merges": ["a b"]]
        u.merge(u32) { $1 }; s.merge(strings) { $1 }; a.merge(stringArrays) { $1 }
        for k in drop + Array(values.keys) { u[k] = nil; s[k] = nil; a[k] = nil }
        var b = GGUFBuilder()
        b.header(tensors: embeddingRows == nil ? 0 : 1, kvs: UInt64(u.count + s.count + a.count + values.count))
        for (k, v) in s.sorted(by: { $0.key < $1.key }) { b.kvString(k, v) }
        for (k, v) in u.sorted(by: { $0.key < $1.key }) { b.kvU32(k, v) }
        for (k, v) in a.sorted(by: { $0.key < $1.key }) {
            b.string(k); b.u32(GGUFValueType.array.rawValue); b.u32(GGUFValueType.string.rawValue); b.u64(UInt64(v.count))
            for x in v { b.string(x) }
        }
        for (k, v) in values.sorted(by: { $0.key < $1.key }) { b.string(k); b.value(v) }
        if let rows = embeddingRows {
            b.tensor("token_embd.weight", ne: [8, Int64(rows)], type: GGUFTensorType.f32.rawValue, offset: 0)
            b.data(count: 4 * 8 * rows)
        }
        return b.bytes
    }
}

extension GGUFBuilder {
    /// A metadata value: its `uint32` type, then the value.
    mutating func value(_ v: GGUFValue) {
        u32(v.type.rawValue)
        payload(v)
    }

    mutating func payload(_ v: GGUFValue) {
        switch v {
        case .uint8(let x): u8(x)
        case .int8(let x): u8(UInt8(bitPattern: x))
        case .bool(let x): u8(x ? 1 : 0)
        case .uint16(let x): withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) }
        case .int16(let x): withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) }
        case .uint32(let x): u32(x)
        case .int32(let x): u32(UInt32(bitPattern: x))
        case .uint64(let x): u64(x)
        case .int64(let x): i64(x)
        case .float32(let x): u32(x.bitPattern)
        case .float64(let x): u64(x.bitPattern)
        case .string(let x): string(x)
        case .array(let a):
            u32(a.elementType.rawValue)
            u64(UInt64(a.count))
            for item in a { payload(item) }
        }
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
    GGUFMetadataCase(name: "valid metadata, only the embedding", says: "has no tensor 'output_norm.weight'"),
    GGUFMetadataCase(name: "no tensors at all (refused before the tokenizer is built)", says: "has no tensor 'token_embd.weight'", embeddingRows: nil),

    // MARK: values of the wrong type (each was silently a default or ignored)
    GGUFMetadataCase(name: "epsilon as a string", says: "llama.attention.layer_norm_rms_epsilon is a string (\"1e-5\"), expected a number",
                     values: ["llama.attention.layer_norm_rms_epsilon": .string("1e-5")]),
    GGUFMetadataCase(name: "epsilon infinite", says: "llama.attention.layer_norm_rms_epsilon is inf, expected a finite number",
                     values: ["llama.attention.layer_norm_rms_epsilon": .float32(.infinity)]),
    GGUFMetadataCase(name: "rope.freq_base as a bool", says: "llama.rope.freq_base is bool true, expected a number",
                     values: ["llama.rope.freq_base": .bool(true)]),
    GGUFMetadataCase(name: "head_count_kv as a string", says: "llama.attention.head_count_kv is a string (\"2\"), expected an integer",
                     values: ["llama.attention.head_count_kv": .string("2")]),
    GGUFMetadataCase(name: "block_count as a float", says: "llama.block_count is float32 1.0, expected an integer",
                     values: ["llama.block_count": .float32(1)]),
    GGUFMetadataCase(name: "merges as integers", says: "tokenizer.ggml.merges is an array<int32>[2], expected an array of strings",
                     values: ["tokenizer.ggml.merges": .array(.int32, [.int32(0), .int32(1)])]),
    GGUFMetadataCase(name: "tokens as integers", says: "tokenizer.ggml.tokens is an array<uint32>[4], expected an array of strings",
                     values: ["tokenizer.ggml.tokens": .array(.uint32, [.uint32(0), .uint32(1), .uint32(2), .uint32(3)])]),
    GGUFMetadataCase(name: "bos id 2^64-1", says: "tokenizer.ggml.bos_token_id 18446744073709551615 is outside the vocabulary (0..<4)",
                     values: ["tokenizer.ggml.bos_token_id": .uint64(.max)]),
    GGUFMetadataCase(name: "eos id negative", says: "tokenizer.ggml.eos_token_id -1 is outside the vocabulary (0..<4)",
                     values: ["tokenizer.ggml.eos_token_id": .int32(-1)]),
    GGUFMetadataCase(name: "bos id as a string", says: "tokenizer.ggml.bos_token_id is a string (\"0\"), expected an integer token id",
                     values: ["tokenizer.ggml.bos_token_id": .string("0")]),
    GGUFMetadataCase(name: "token_type of the wrong length", says: "tokenizer.ggml.token_type has 3 entries but tokenizer.ggml.tokens has 4",
                     values: ["tokenizer.ggml.token_type": .array(.int32, [.int32(1), .int32(1), .int32(1)])]),
    GGUFMetadataCase(name: "token_type as strings", says: "tokenizer.ggml.token_type is an array<string>[4], expected an array of integers",
                     values: ["tokenizer.ggml.token_type": .array(.string, [.string("1"), .string("1"), .string("1"), .string("1")])]),
    GGUFMetadataCase(name: "add_bos_token as an integer", says: "tokenizer.ggml.add_bos_token is uint8 1, expected a bool",
                     values: ["tokenizer.ggml.add_bos_token": .uint8(1)]),
    GGUFMetadataCase(name: "pre-tokenizer as an integer", says: "tokenizer.ggml.pre is uint32 7, expected a string",
                     values: ["tokenizer.ggml.pre": .uint32(7)]),
    GGUFMetadataCase(name: "architecture as an integer", says: "general.architecture is uint32 1, expected a string",
                     values: ["general.architecture": .uint32(1)]),

    // MARK: sizes that contradict each other
    GGUFMetadataCase(name: "llama.vocab_size contradicts the tokens", says: "llama.vocab_size is 5000000 but tokenizer.ggml.tokens has 4 tokens",
                     values: ["llama.vocab_size": .uint32(5_000_000)]),
    GGUFMetadataCase(name: "embedding rows contradict the tokens", says: "tensor 'token_embd.weight' has 3 rows but tokenizer.ggml.tokens has 4 tokens",
                     embeddingRows: 3),
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

    @Test("the typed cases really are typed: each value reads back as written")
    func valuesRoundTrip() throws {
        let t = try TempFolder()
        let c = GGUFMetadataCase(name: "", says: "", values: ["x.u64": .uint64(.max), "x.ints": .array(.int32, [.int32(1), .int32(-2)]),
                                                             "x.s": .string("1e-5"), "x.f": .float32(.infinity)])
        try c.bytes().write(to: t.file("m.gguf"))
        let f = try GGUFFile(path: t.file("m.gguf").path)
        #expect(f["x.u64"] == .uint64(.max) && f["x.ints"]?.ints == [1, -2] && f["x.s"] == .string("1e-5"))
        #expect(f["x.f"]?.float == .infinity)
        #expect(f.ggufTensorInfo("token_embd.weight")?.shape == [4, 8])
    }

    @Test("the base metadata gives a working tokenizer")
    func baseTokenizer() throws {
        let t = try TempFolder()
        try GGUFMetadataCase(name: "base", says: "").bytes().write(to: t.file("m.gguf"))
        let tok = try GGUFModels.tokenizer(GGUFFile(path: t.file("m.gguf").path))
        #expect(try tok.encode("ab") == [2])
    }
}
