import Foundation
import Testing
@testable import StepwiseKit

/// A Gemma 3 GGUF's metadata, one key changed per case: the SentencePiece tokenizer (scores, token types)
/// and the `gemma3.*` sizes. Built on ``GGUFMetadataCase`` (which starts from a llama file) by replacing
/// the architecture's keys.
func gemmaCase(_ name: String, says: String, u32: [String: UInt32] = [:], drop: [String] = [],
               values: [String: GGUFValue] = [:], embeddingRows: Int? = 4) -> GGUFMetadataCase {
    let llamaKeys = ["llama.block_count", "llama.embedding_length", "llama.feed_forward_length",
                     "llama.attention.head_count", "llama.context_length"]
    var sizes: [String: UInt32] = ["gemma3.block_count": 1, "gemma3.embedding_length": 8, "gemma3.feed_forward_length": 16,
                                   "gemma3.attention.head_count": 2, "gemma3.attention.head_count_kv": 1,
                                   "gemma3.attention.key_length": 4, "gemma3.attention.value_length": 4,
                                   "gemma3.context_length": 16, "gemma3.attention.sliding_window": 4]
    sizes.merge(u32) { $1 }
    var v: [String: GGUFValue] = [
        "general.architecture": .string("gemma3"), "tokenizer.ggml.model": .string("llama"),
        "tokenizer.ggml.tokens": .array(.string, ["a", "b", "ab", "<bos>"].map { .string($0) }),
        "tokenizer.ggml.scores": .array(.float32, [-1, -2, -0.5, 0].map { .float32($0) }),
        "tokenizer.ggml.token_type": .array(.int32, [1, 1, 1, 3].map { .int32($0) }),
        "tokenizer.ggml.bos_token_id": .uint32(3), "tokenizer.ggml.add_space_prefix": .bool(false),
    ]
    v.merge(values) { $1 }
    for k in drop { v[k] = nil; sizes[k] = nil }
    return GGUFMetadataCase(name: name, says: says, u32: sizes,
                            drop: llamaKeys + ["tokenizer.ggml.pre", "tokenizer.ggml.merges"] + drop, values: v,
                            embeddingRows: embeddingRows)
}

let gemmaMetadataCases: [GGUFMetadataCase] = [
    gemmaCase("valid metadata, only the embedding", says: "has no tensor 'output_norm.weight'"),
    gemmaCase("no scores", says: "has no tokenizer.ggml.scores", drop: ["tokenizer.ggml.scores"]),
    gemmaCase("scores as strings", says: "tokenizer.ggml.scores is an array<string>[4], expected an array of float32",
              values: ["tokenizer.ggml.scores": .array(.string, ["1", "2", "3", "4"].map { .string($0) })]),
    gemmaCase("scores of the wrong length", says: "tokenizer.ggml.scores has 3 entries but tokenizer.ggml.tokens has 4",
              values: ["tokenizer.ggml.scores": .array(.float32, [-1, -2, -3].map { .float32($0) })]),
    gemmaCase("a NaN score", says: "the score of piece 1 is nan; scores must be finite",
              values: ["tokenizer.ggml.scores": .array(.float32, [-1, .nan, -3, 0].map { .float32($0) })]),
    gemmaCase("token types of the wrong length", says: "tokenizer.ggml.token_type has 2 entries",
              values: ["tokenizer.ggml.token_type": .array(.int32, [.int32(1), .int32(1)])]),
    gemmaCase("bos outside the vocabulary", says: "tokenizer.ggml.bos_token_id is uint32 9, expected a token id in 0..<4",
              values: ["tokenizer.ggml.bos_token_id": .uint32(9)]),
    gemmaCase("tokenizer model gpt2 on a Gemma file", says: "tokenizer model 'gpt2' is not SentencePiece BPE",
              values: ["tokenizer.ggml.model": .string("gpt2")]),
    gemmaCase("no block_count", says: "has no integer gemma3.block_count", drop: ["gemma3.block_count"]),
    gemmaCase("value heads wider than key heads", says: "value heads of 8 dimensions beside key heads of 4",
              u32: ["gemma3.attention.value_length": 8]),
    gemmaCase("sliding window 0", says: "sliding_window is 0; it must be positive", u32: ["gemma3.attention.sliding_window": 0]),
    gemmaCase("head_count_kv not dividing the heads", says: "2 attention heads are not a multiple of 3 key/value heads",
              u32: ["gemma3.attention.head_count_kv": 3]),
    gemmaCase("block_count 2^32-1", says: "num_hidden_layers is 4294967295; more than 1024 is impossible",
              u32: ["gemma3.block_count": .max]),
    gemmaCase("rms epsilon infinite", says: "gemma3.attention.layer_norm_rms_epsilon is inf, expected a finite number",
              values: ["gemma3.attention.layer_norm_rms_epsilon": .float32(.infinity)]),
    gemmaCase("embedding rows contradict the tokens", says: "tensor 'token_embd.weight' has 3 rows but tokenizer.ggml.tokens has 4 tokens",
              embeddingRows: 3),
]

@Suite("Hostile Gemma GGUF metadata")
struct HostileGemmaGGUFTests {
    @Test("bad Gemma GGUF metadata is one StepwiseError naming the file", arguments: gemmaMetadataCases)
    func badMetadata(_ c: GGUFMetadataCase) throws {
        let t = try TempFolder()
        try c.bytes().write(to: t.file("m.gguf"))
        let e = try #require(expectStepwiseError { _ = try ModelLoader.load(t.file("m.gguf").path) })
        #expect(e.message.hasPrefix(t.file("m.gguf").path), "\(c.name): \(e.message)")
        #expect(e.message.contains(c.says), "\(c.name): \(e.message)")
    }

    @Test("the base metadata gives a working SentencePiece tokenizer: merge by score, byte fallback, specials whole")
    func baseTokenizer() throws {
        let t = try TempFolder()
        try gemmaCase("base", says: "").bytes().write(to: t.file("m.gguf"))
        let tok = try GemmaGGUF.tokenizer(GGUFFile(path: t.file("m.gguf").path))
        #expect(try tok.encode("ab") == [2])
        #expect(try tok.encode("ba<bos>ab") == [1, 0, 3, 2])
        #expect(try tok.encodeForModel("a") == [3, 0])
        // No byte tokens and no <unk> in this vocabulary: an unknown character is an error, not a wrong id.
        let e = try #require(expectStepwiseError { _ = try tok.encode("c") })
        #expect(e.message.contains("no piece for \"c\" (U+0063), no byte token <0x63> and no unknown token"), "\(e.message)")
        // SentencePiece's dummy prefix when the file asks for it (and by default, as llama.cpp).
        try gemmaCase("prefix", says: "", values: ["tokenizer.ggml.tokens": .array(.string, ["a", "b", "▁a", "<bos>"].map { .string($0) }),
                                                  "tokenizer.ggml.add_space_prefix": .bool(true)]).bytes().write(to: t.file("p.gguf"))
        let p = try GemmaGGUF.tokenizer(GGUFFile(path: t.file("p.gguf").path))
        #expect(p.addSpacePrefix)
    }
}
