import Foundation
import Testing
@testable import StepwiseKit

@Suite("activation patching", .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
struct ActivationPatchingTests {
    static func builtin() throws -> any LanguageModel {
        guard case .model(let m) = try ModelLoader.load(nil) else { throw StepwiseError(.model, "no built-in model") }
        return m
    }

    /// A case of Fixtures/hooks/patching.json, made by tools/reference/patching_reference.py (hooks on transformers' GPT-2).
    static func referenceCase(_ model: String) throws -> [String: Any] {
        let doc = try #require(loadJSON(TestPaths.fixtures.appendingPathComponent("hooks/patching.json")) as? [String: Any])
        return try #require((doc["cases"] as? [[String: Any]])?.first { $0["model"] as? String == model })
    }

    static func expectMatches(_ c: [String: Any], model: any LanguageModel, clean: [Int], corrupted: [Int], a: Int, b: Int,
                              kind: ActivationPatching.Kind) throws {
        let r = try ActivationPatching.run(model: model, clean: clean, corrupted: corrupted, a: a, b: b, kind: kind)
        let want = flattenNumbers((c["results"] as! [String: Any])[kind.rawValue]!)
        #expect(r.values.shape == want.shape)
        let (err, bound) = referenceError(r.values.data, want.data)
        #expect(err <= bound, "\(c["model"]!) \(kind.rawValue): max error \(err)")
        print("patching \(c["model"]!) \(kind.rawValue): max error \(err) (bound \(bound))")
        #expect(abs(r.cleanMetric - (c["m_clean"] as! NSNumber).floatValue) < 1e-4)
        #expect(abs(r.corruptedMetric - (c["m_corrupted"] as! NSNumber).floatValue) < 1e-4)
    }

    @Test("every cell of every kind equals the PyTorch reference on the built-in model", arguments: ActivationPatching.Kind.allCases)
    func reference(kind: ActivationPatching.Kind) throws {
        let c = try Self.referenceCase("builtin")
        let model = try Self.builtin()
        let tok = model.tokenizer
        let clean = try tok.encodeForModel(c["clean"] as! String), corrupted = try tok.encodeForModel(c["corrupted"] as! String)
        #expect(clean == c["ids_clean"] as! [Int] && corrupted == c["ids_corrupted"] as! [Int])
        let a = try AnalysisCommands.singleToken(c["a"] as! String, tok), b = try AnalysisCommands.singleToken(c["b"] as! String, tok)
        try Self.expectMatches(c, model: model, clean: clean, corrupted: corrupted, a: a, b: b, kind: kind)
    }

    @Test("every cell of every kind equals the PyTorch reference on the random GPT-2 tied-4h", arguments: ActivationPatching.Kind.allCases)
    func randomGPT2(kind: ActivationPatching.Kind) throws {
        let c = try Self.referenceCase("gpt2/tied-4h")
        let model = try GPT2Reference(GPT2Reference.folder("tied-4h")).model()
        try Self.expectMatches(c, model: model, clean: c["ids_clean"] as! [Int], corrupted: c["ids_corrupted"] as! [Int],
                               a: c["a"] as! Int, b: c["b"] as! Int, kind: kind)
    }

    @Test("patch records the step 'patching'; prompts of different lengths are a clear error")
    func command() throws {
        var s = Session()
        let model = try Self.builtin()
        s.model = model
        s.tokenizer = model.tokenizer
        s.settings.width = 100
        let out = run("patch z \"Mr. Darcy bowed to Miss Bennet, and Mr. Darcy bowed to Miss\" \"Mr. Darcy bowed to Miss Lucas, and Mr. Darcy bowed to Miss\" \" Bennet\" \" Lucas\"", &s).lines
        #expect(out[0].hasPrefix("Activation patching of z (layer × head"), "\(out)")
        #expect(out.contains { $0.hasPrefix("largest: layer 1 head 2 0.61") }, "\(out)")
        let step = try #require(s.trace?["patching"])
        #expect(step.tensor.shape == [2, 4] && step.axes.map(\.name) == ["layer", "head"])
        let bad = run("patch resid_pre \"Mr. Darcy\" \"Mr. Darcy bowed\" \" Bennet\" \" Lucas\"", &s).lines
        #expect(bad.count == 1 && bad[0].contains("same number"), "\(bad)")
        #expect(run("patch nothing \"a\" \"b\" \" Bennet\" \" Lucas\"", &s).failed)
    }

    @Test("Ctrl-C stops a sweep")
    func cancel() throws {
        let model = try Self.builtin()
        let ids = try model.tokenizer.encodeForModel("Mr. Darcy bowed to Miss Bennet")
        let other = try model.tokenizer.encodeForModel("Mr. Darcy bowed to Miss Lucas")
        #expect(throws: StepwiseError.self) {
            try ActivationPatching.run(model: model, clean: ids, corrupted: other, a: ids.last!, b: other.last!, kind: .residPre,
                                       options: ForwardOptions(isCancelled: { true }))
        }
    }
}
