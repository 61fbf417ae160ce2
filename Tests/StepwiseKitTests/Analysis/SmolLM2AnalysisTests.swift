import Foundation
import Testing
@testable import StepwiseKit

/// `attribute` and `patch` on SmolLM2's Q4_1 GGUF against PyTorch hooks on transformers' LlamaForCausalLM
/// (the float32 HF copy dequantized from the same GGUF): the SmolLM2 cases of Fixtures/hooks/attribution.json
/// and patching.json, made by tools/reference/attribution_reference.py and patching_reference.py.
@Suite("attribution and patching on SmolLM2 against PyTorch", .serialized,
       .enabled(if: TestPaths.model("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") != nil,
                "needs smollm2/SmolLM2-135M-Instruct.Q4_1.gguf under STEPWISE_MODELS (.ci/fetch-models unpacks it)"))
struct SmolLM2AnalysisTests {
    static func referenceCase(_ file: String) throws -> [String: Any] {
        let doc = try #require(loadJSON(TestPaths.fixtures.appendingPathComponent("hooks/\(file)")) as? [String: Any])
        return try #require((doc["cases"] as? [[String: Any]])?.first { $0["model"] as? String == "smollm2" })
    }

    static func close(_ got: Float, _ want: Float) -> Bool { abs(got - want) <= 1e-4 * max(1, abs(want)) }

    @Test("every attribution term equals the PyTorch reference; the terms sum to the logit difference")
    func attribution() throws {
        let c = try Self.referenceCase("attribution.json")
        let model = try SmolLM2GGUFTests.model()
        let ids = c["ids"] as! [Int]
        #expect(try model.tokenizer.encodeForModel(c["prompt"] as! String) == ids)
        let a = try AnalysisCommands.singleToken(c["a_text"] as! String, model.tokenizer)
        let b = try AnalysisCommands.singleToken(c["b_text"] as! String, model.tokenizer)
        #expect(a == c["a"] as! Int && b == c["b"] as! Int)
        let r = try Attribution.decompose(try model.trace(ids), model: model, a: a, b: b)
        #expect(r.terms.map(\.label) == c["labels"] as! [String])
        let want = (c["values"] as! [NSNumber]).map(\.floatValue)
        var worst: Float = 0
        for (t, w) in zip(r.terms, want) {
            worst = max(worst, abs(t.value - w) / max(1, abs(w)))
            #expect(Self.close(t.value, w), "\(t.label): \(t.value) vs \(w)")
        }
        let logit = (c["logit"] as! NSNumber).floatValue
        #expect(Self.close(r.logit, logit), "logit \(r.logit) vs \(logit)")
        #expect(abs(r.sum - r.logit) <= 1e-5 * max(1, abs(r.logit)), "terms sum to \(r.sum), logit \(r.logit)")
        print("SmolLM2 attribution: largest term error \(worst) (relative to max(1, |ref|)); logit \(r.logit) vs \(logit)")
    }

    @Test("patching: every cell of every kind equals the PyTorch reference", arguments: ActivationPatching.Kind.allCases)
    func patching(kind: ActivationPatching.Kind) throws {
        let c = try Self.referenceCase("patching.json")
        let model = try SmolLM2GGUFTests.model()
        let tok = model.tokenizer
        let clean = try tok.encodeForModel(c["clean"] as! String), corrupted = try tok.encodeForModel(c["corrupted"] as! String)
        #expect(clean == c["ids_clean"] as! [Int] && corrupted == c["ids_corrupted"] as! [Int])
        let a = try AnalysisCommands.singleToken(c["a"] as! String, tok), b = try AnalysisCommands.singleToken(c["b"] as! String, tok)
        let r = try ActivationPatching.run(model: model, clean: clean, corrupted: corrupted, a: a, b: b, kind: kind)
        let want = flattenNumbers((c["results"] as! [String: Any])[kind.rawValue]!)
        #expect(r.values.shape == want.shape)
        let (err, bound) = referenceError(r.values.data, want.data)
        #expect(err <= bound, "\(kind.rawValue): max error \(err)")
        let mClean = (c["m_clean"] as! NSNumber).floatValue, mCorrupted = (c["m_corrupted"] as! NSNumber).floatValue
        #expect(Self.close(r.cleanMetric, mClean), "m_clean \(r.cleanMetric) vs \(mClean)")
        #expect(Self.close(r.corruptedMetric, mCorrupted), "m_corrupted \(r.corruptedMetric) vs \(mCorrupted)")
        print("SmolLM2 patching \(kind.rawValue): max error \(err); m_clean \(r.cleanMetric) vs \(mClean), m_corrupted \(r.corruptedMetric) vs \(mCorrupted)")
    }
}
