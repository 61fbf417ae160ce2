import Foundation
import Testing
@testable import StepwiseKit

@Suite("direct logit attribution")
struct AttributionTests {
    /// The fixture made by tools/reference/attribution_reference.py (PyTorch forward hooks on transformers' GPT-2).
    static func cases() throws -> [[String: Any]] {
        let doc = try #require(loadJSON(TestPaths.fixtures.appendingPathComponent("hooks/attribution.json")) as? [String: Any])
        return try #require(doc["cases"] as? [[String: Any]])
    }

    static func model(_ name: String) throws -> any LogitAttributing {
        if name == "builtin" {
            guard case .model(let m) = try ModelLoader.load(nil) else { throw StepwiseError(.model, "no built-in model") }
            return try #require(m as? any LogitAttributing)
        }
        return try GPT2Reference(GPT2Reference.folder(String(name.dropFirst("gpt2/".count)))).model()
    }

    @Test("every term equals the PyTorch reference (built-in model, random GPT-2); the terms sum to the logit",
          .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
    func reference() throws {
        // SmolLM2's case is checked by SmolLM2AnalysisTests (it needs the GGUF).
        let cases = try Self.cases().filter { $0["model"] as? String != "smollm2" }
        #expect(cases.count == 4)
        for c in cases {
            let name = c["model"] as! String
            let model = try Self.model(name)
            let ids = c["ids"] as! [Int]
            if let prompt = c["prompt"] as? String {
                #expect(try model.tokenizer.encodeForModel(prompt) == ids)
                #expect(try AnalysisCommands.singleToken(c["a_text"] as! String, model.tokenizer) == c["a"] as! Int)
            }
            let r = try Attribution.decompose(try model.trace(ids), model: model, a: c["a"] as! Int, b: c["b"] as? Int)
            #expect(r.terms.map(\.label) == c["labels"] as! [String], "\(name)")
            let want = (c["values"] as! [NSNumber]).map(\.floatValue)
            for (t, w) in zip(r.terms, want) {
                #expect(abs(t.value - w) <= 1e-4 * max(1, abs(w)), "\(name) \(t.label): \(t.value) vs \(w)")
            }
            let logit = (c["logit"] as! NSNumber).floatValue
            #expect(abs(r.logit - logit) <= 1e-4 * max(1, abs(logit)))
            #expect(abs(r.sum - r.logit) <= 1e-5 * max(1, abs(r.logit)), "\(name): terms sum to \(r.sum), logit \(r.logit)")
        }
    }

    @Test("Llama: heads, MLPs, embed and a zero bias (no pos_embed), summing to the logit difference")
    func llama() throws {
        let model = try LlamaTinyModelTests.loadHF()
        let r = try Attribution.decompose(try model.trace([5, 17, 3, 88, 42]), model: model, a: 7, b: 9)
        let L = model.info.layers, H = model.info.heads
        #expect(r.terms.count == L * H + L + 2)
        #expect(r.terms.last == Attribution.Term(label: "bias", value: 0))
        #expect(!r.terms.contains { $0.label == "pos_embed" })
        #expect(abs(r.sum - r.logit) <= 1e-5 * max(1, abs(r.logit)))
    }

    @Test("attribute records the step, draws sorted bars, says the sum equals the logit; bad tokens are clear errors")
    func command() throws {
        var s = try fixtureSession()
        #expect(!run("prompt t1 t5 t9 t2 t7", &s).failed)
        let steps = s.trace!.steps.count
        let out = run("attribute \"t3\" \"t4\"", &s).lines
        #expect(out[0].hasPrefix("Direct logit attribution of logit(' t3') − logit(' t4') at the last position"), "\(out)")
        #expect(out.contains { $0.contains("terms sum to") && $0.contains("(equal to float precision)") }, "\(out)")
        let step = try #require(s.trace!["attribution"])
        #expect(s.trace!.steps.count == steps + 1)
        #expect(step.axes.map(\.name) == ["component"])
        #expect(step.axes[0].labels!.prefix(2) == ["L0H0", "L0H1"] && step.axes[0].labels!.suffix(3) == ["embed", "pos_embed", "bias"])
        // Rows sorted by value, largest first.
        let shown = out.compactMap { line in step.axes[0].labels!.first { line.hasPrefix("  " + $0 + " ") } }
        #expect(shown.count == step.tensor.count)
        let order = shown.map { step.tensor.data[step.axes[0].labels!.firstIndex(of: $0)!] }
        #expect(order == order.sorted(by: >))
        #expect(!run("show attribution", &s).failed)
        let bad = run("attribute \"t3 t4\"", &s).lines
        #expect(bad.count == 1 && bad[0].contains("is 2 tokens") && bad[0].contains("' t3' ' t4'"), "\(bad)")
    }
}
