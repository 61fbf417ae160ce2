import Foundation
import Testing
@testable import StepwiseKit

/// The built-in model, loaded as the REPL loads it, against transformers' values for every step
/// (fixture made by tools/reference/gpt2_reference.py folder ...).
@Suite("built-in model against transformers", .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
struct BuiltinModelTests {
    @Test("tokenizer ids and every traced step match transformers; greedy generation matches generate()")
    func reference() throws {
        guard case .model(let model) = try ModelLoader.load(nil) else {
            Issue.record("the built-in model loaded as a tokenizer only")
            return
        }
        #expect(model.info.family == "gpt2" && model.info.layers == 2 && model.info.heads == 4 && model.info.dModel == 128)
        let doc = try #require(loadJSON(TestPaths.fixtures.appendingPathComponent("builtin/reference.json")) as? [String: Any])
        let cases = try #require(doc["cases"] as? [[String: Any]])
        #expect(cases.count == 3)
        for c in cases {
            let prompt = try #require(c["prompt"] as? String)
            let ids = try #require(c["ids"] as? [Int])
            #expect(try model.tokenizer.encodeForModel(prompt) == ids, "\(prompt.debugDescription)")
            var steps: [String: Tensor] = [:]
            for (name, v) in try #require(c["steps"] as? [String: [String: Any]]) {
                let data = (v["data"] as! [Any]).map { ($0 as? NSNumber)?.floatValue ?? -.infinity }
                steps[name] = Tensor(shape: v["shape"] as! [Int], data: data)
            }
            let trace = try model.trace(ids)
            #expect(expectTraceMatches(trace, steps, context: prompt) == steps.count)
            let want = try #require(c["greedy"] as? [Int])
            let got = try Generator(model: model, settings: .greedy).generate(prompt: ids, maxTokens: want.count) { _ in }
            #expect(got.generated == want, "greedy continuation of \(prompt.debugDescription)")
        }
    }
}
