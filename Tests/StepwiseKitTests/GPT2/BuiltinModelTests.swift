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

    /// The structure the card promises and lesson 5 teaches, measured by Stepwise's own detector: a
    /// previous-token head on real text (the card's default prompt, the opening of Pride and Prejudice) and
    /// an induction head on 40 random tokens repeated twice.
    @Test("the card's heads: previous-token head 0.2 scores >= 0.9, an induction head in layer 1 >= 0.5")
    func heads() throws {
        guard case .model(let model) = try ModelLoader.load(nil) else {
            Issue.record("the built-in model loaded as a tokenizer only")
            return
        }
        let text = "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
            + "must be in want of a wife."
        let prev = try HeadDetector.scores(.previous, trace: model.trace(model.tokenizer.encodeForModel(text)),
                                           layers: model.info.layers)
        #expect(prev[0][2].value >= 0.9, "previous-token score of 0.2: \(prev[0][2].value)")
        let others = prev.enumerated().flatMap { l, row in row.enumerated().filter { !(l == 0 && $0.offset == 2) }.map(\.element.value) }
        #expect(others.allSatisfy { $0 < 0.5 }, "only 0.2 is a previous-token head: \(prev)")

        let ids = HeadDetector.repeatedRandomPrompt(vocabularySize: model.info.vocabularySize,
                                                    specials: model.tokenizer.specialTokens)
        let ind = try HeadDetector.scores(.induction, trace: model.trace(ids), layers: model.info.layers)
        #expect(ind[1].map(\.value).max()! >= 0.5, "best induction score in layer 1: \(ind[1])")
        #expect(ind[0].allSatisfy { $0.value < 0.1 }, "layer 0 cannot do induction alone: \(ind[0])")
    }
}
