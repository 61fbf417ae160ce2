import Foundation
import Testing
@testable import StepwiseKit

/// SmolLM2-135M (float32 HF folder dequantized from the Q4_1 GGUF) against the golden dumps.
/// CI has only the GGUF file: there the same ``checkLlamaAgainstGolden(_:golden:sourceLocation:)`` runs once the
/// GGUF reader loads it.
@Suite("Llama SmolLM2 golden", .serialized,
       .enabled(if: TestPaths.model("smollm2-f32-hf/model.safetensors") != nil,
                "needs the float32 HF folder smollm2-f32-hf under the models directory"))
struct LlamaSmolLM2Tests {
    /// Loaded once: 540 MB of float32 weights.
    nonisolated(unsafe) static var cached: LlamaModel?

    static func model() throws -> LlamaModel {
        if let cached { return cached }
        let folder = try #require(TestPaths.model("smollm2-f32-hf"))
        let m = try LlamaModel.load(folder: folder.path, tokenizer: LlamaIDTokenizer(vocabularySize: 49152))
        cached = m
        return m
    }

    @Test("matches the golden dumps step by step",
          .enabled(if: TestPaths.goldenFile("smollm2-france.json") != nil,
                   "needs the golden files smollm2-*.json (set STEPWISE_GOLDEN to the shared/golden folder)"),
          arguments: ["smollm2-france.json", "smollm2-once.json"])
    func golden(file: String) throws {
        let url = try #require(TestPaths.goldenFile(file), "golden file \(file) is missing from \(TestPaths.golden.path)")
        let model = try Self.model()
        #expect(model.tiedEmbeddings && model.info.kvHeads == 3 && model.info.heads == 9)
        #expect(model.info.parameterCount == 134_515_008, "SmolLM2-135M has 134,515,008 parameters")
        let worst = try checkLlamaAgainstGolden(model, golden: url)
        print("[\(file)] worst error / bound: " + worst.sorted { $0.key < $1.key }
            .map { "\($0.key) \(String(format: "%.3f", $0.value))" }.joined(separator: ", "))
    }

    @Test("KV cache generation gives the full pass's logits")
    func kvCache() throws {
        let model = try Self.model()
        let ids = [504, 3575, 282, 4649, 314, 7042, 30]
        let full = try model.trace(ids, options: ForwardOptions(record: false)).logits!
        let cache = model.makeCache()
        _ = try model.forward(Array(ids[0..<5]), cache: cache, options: ForwardOptions(record: false))
        for i in 5..<7 {
            let t = try model.forward([ids[i]], cache: cache, options: ForwardOptions(record: false))
            let (err, bound) = referenceError(t.logits!.data, full.row(i).data)
            #expect(err <= bound, "position \(i): \(err) > \(bound)")
        }
    }

    @Test("traced forward time (release)")
    func timing() throws {
        let model = try Self.model()
        let clock = ContinuousClock()
        for n in [5, 32] {
            let ids = (0..<n).map { [504, 3575, 282, 4649, 314, 7042, 30, 378][$0 % 8] }
            _ = try model.trace(ids)
            var best = Duration.seconds(1000)
            for _ in 0..<3 {
                let t0 = clock.now
                _ = try model.trace(ids)
                best = min(best, clock.now - t0)
            }
            print("SmolLM2 traced forward, \(n) tokens: \(best)")
            #if !DEBUG
            if n == 5 { #expect(best < .seconds(1), "a 5-token traced pass took \(best)") }
            #endif
        }
    }
}
