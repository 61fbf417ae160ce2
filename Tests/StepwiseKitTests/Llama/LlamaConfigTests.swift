import Foundation
import Testing
@testable import StepwiseKit

@Suite("Llama config and weight names")
struct LlamaConfigTests {
    @Test("decodes rope_theta nested in rope_parameters (transformers 5)")
    func nestedRope() throws {
        let url = TestPaths.fixtures.appendingPathComponent("llama/tiny-random/config.json")
        let c = try JSONDecoder().decode(LlamaConfig.self, from: Data(contentsOf: url))
        #expect(c.ropeTheta == 10000 && c.rmsNormEps == 1e-6 && c.headDim == 16 && c.numKeyValueHeads == 2)
        #expect(c.groupSize == 2 && !c.tieWordEmbeddings && c.vocabSize == 96 && c.maxPositionEmbeddings == 64)
    }

    @Test("decodes a top-level rope_theta and defaults head_dim and kv heads")
    func flatRope() throws {
        let json = """
        {"hidden_size": 576, "intermediate_size": 1536, "num_attention_heads": 9, "num_hidden_layers": 30,
         "rms_norm_eps": 1e-05, "rope_theta": 100000.0, "max_position_embeddings": 8192, "vocab_size": 49152,
         "tie_word_embeddings": true}
        """
        let c = try JSONDecoder().decode(LlamaConfig.self, from: Data(json.utf8))
        #expect(c.ropeTheta == 100000 && c.headDim == 64 && c.numKeyValueHeads == 9 && c.tieWordEmbeddings)
        let again = try JSONDecoder().decode(LlamaConfig.self, from: JSONEncoder().encode(c))
        #expect(again == c)
    }

    @Test("rejects scaled RoPE and inconsistent head counts")
    func rejects() throws {
        let json = """
        {"hidden_size": 64, "intermediate_size": 96, "num_attention_heads": 4, "num_hidden_layers": 1,
         "vocab_size": 10, "rope_parameters": {"rope_theta": 500000.0, "rope_type": "llama3"}}
        """
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(LlamaConfig.self, from: Data(json.utf8)) }
        let bad = LlamaConfig(hiddenSize: 64, intermediateSize: 96, numAttentionHeads: 4, numKeyValueHeads: 3,
                              numHiddenLayers: 1, rmsNormEps: 1e-5, ropeTheta: 1e4, maxPositionEmbeddings: 8,
                              vocabSize: 10, tieWordEmbeddings: true)
        #expect(throws: StepwiseError.self) { try bad.validate(source: "x.gguf") }
    }

    @Test("GGUF metadata init")
    func ggufInit() throws {
        let c = LlamaConfig(blockCount: 30, embeddingLength: 576, feedForwardLength: 1536, headCount: 9, headCountKV: 3,
                            rmsEpsilon: 1e-5, ropeFreqBase: 100000, contextLength: 8192, ropeDimensionCount: 64,
                            vocabularySize: 49152, tieWordEmbeddings: true)
        #expect(c.headDim == 64 && c.groupSize == 3 && c.numHiddenLayers == 30 && c.ropeTheta == 100000)
        try c.validate(source: "smollm2.gguf")
        var partial = c
        partial.ropeDimensionCount = 32
        #expect(throws: StepwiseError.self) { try partial.validate(source: "x.gguf") }
    }

    @Test("weight names in both layouts and llama.cpp's q/k row order")
    func names() {
        #expect(LlamaWeightLayout.gguf.name(.query, layer: 3) == "blk.3.attn_q.weight")
        #expect(LlamaWeightLayout.gguf.name(.output, layer: 0) == "blk.0.attn_output.weight")
        #expect(LlamaWeightLayout.gguf.name(.mlpNorm, layer: 1) == "blk.1.ffn_norm.weight")
        #expect(LlamaWeightLayout.huggingFace.name(.down, layer: 2) == "model.layers.2.mlp.down_proj.weight")
        #expect(LlamaWeightLayout.gguf.embeddingName == "token_embd.weight")
        #expect(LlamaWeightLayout.gguf.lmHeadName == "output.weight")
        #expect(LlamaWeightLayout.ggufDimensionOrder(headDim: 8) == [0, 4, 1, 5, 2, 6, 3, 7])
        // [2 heads x 4 rows, 1 column]: rows (h, i) -> value 10h + i
        let w = Tensor(shape: [8, 1], data: [0, 1, 2, 3, 10, 11, 12, 13])
        #expect(LlamaWeightLayout.permuteForGGUF(w, heads: 2).data == [0, 2, 1, 3, 10, 12, 11, 13])
    }
}
