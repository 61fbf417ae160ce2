import Foundation
import Testing
@testable import StepwiseKit

@Suite("Head detector")
struct HeadDetectorTests {
    @Test("detection patterns follow TransformerLens's definitions")
    func patterns() {
        let ids = [5, 7, 5, 9, 7, 5]
        let prev = HeadDetector.pattern(.previous, ids: ids)
        #expect(prev[1, 0] == 1 && prev[5, 4] == 1 && prev.data.reduce(0, +) == 5)
        let dup = HeadDetector.pattern(.duplicate, ids: ids)
        // 5 at 0, 2, 5; 7 at 1, 4: row 2 → 0; row 4 → 1; row 5 → 0 and 2. The diagonal is never set.
        #expect(dup[2, 0] == 1 && dup[4, 1] == 1 && dup[5, 0] == 1 && dup[5, 2] == 1 && dup.data.reduce(0, +) == 4)
        let ind = HeadDetector.pattern(.induction, ids: ids)
        // The duplicate pattern shifted one key to the right: row 2 → 1; row 4 → 2; row 5 → 1 and 3.
        #expect(ind[2, 1] == 1 && ind[4, 2] == 1 && ind[5, 1] == 1 && ind[5, 3] == 1 && ind.data.reduce(0, +) == 4)
        let first = HeadDetector.pattern(.first, ids: ids)
        #expect(first[0, 0] == 0 && (1..<6).allSatisfy { first[$0, 0] == 1 })
    }

    @Test("a score is the fraction of attention on the pattern; TransformerLens's divides by every row")
    func scoring() {
        // Rows: q0 [1], q1 [0.25 0.75], q2 [0.5 0.5 0] (causal).
        let p = Tensor(shape: [3, 3], data: [1, 0, 0, 0.75, 0.25, 0, 0.1, 0.5, 0.4])
        let s = HeadDetector.score(pattern: p, detection: HeadDetector.pattern(.previous, ids: [1, 2, 3]))
        // Previous-token attention 0.75 + 0.5 over rows 1 and 2; TransformerLens: (0.75 + 0.5) / 3.
        #expect(abs(s.value - 0.625) < 1e-6)
        #expect(abs(s.transformerLens - 1.25 / 3) < 1e-6)
        #expect(s.rows == 2 && s.allRows == 3)
        let none = HeadDetector.score(pattern: p, detection: HeadDetector.pattern(.duplicate, ids: [1, 2, 3]))
        #expect(none.value == 0 && none.rows == 0)
    }

    @Test("the repeated random prompt: seeded, twice the same tokens, BOS first when the tokenizer adds it")
    func randomPrompt() {
        let specials = SpecialTokens(bos: 1, eos: 2, addBOS: true)
        let a = HeadDetector.repeatedRandomPrompt(vocabularySize: 49152, specials: specials)
        let b = HeadDetector.repeatedRandomPrompt(vocabularySize: 49152, specials: specials)
        #expect(a == b && a.count == 81 && a[0] == 1)
        #expect(Array(a[1...40]) == Array(a[41...80]))
        #expect(Set(a[1...40]).count == 40 && a[1...].allSatisfy { (1000..<20000).contains($0) })
        let c = HeadDetector.repeatedRandomPrompt(vocabularySize: 300, specials: SpecialTokens(), length: 10, seed: 3)
        #expect(c.count == 20 && c.allSatisfy { (30..<270).contains($0) })
    }

    @Test("a hand-set previous-token head is found (score > 0.9) and the others are not")
    func handSetPreviousTokenHead() throws {
        let model = try HandSetGPT2.make()
        let ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
        let trace = try model.trace(ids)
        let scores = try HeadDetector.scores(.previous, trace: trace, layers: HandSetGPT2.layers)
        for l in 0..<HandSetGPT2.layers {
            for h in 0..<HandSetGPT2.heads {
                let v = scores[l][h].value
                if l == HandSetGPT2.prevLayer && h == HandSetGPT2.prevHead {
                    #expect(v > 0.99, "head \(l).\(h): previous-token score \(v)")
                    #expect(abs(scores[l][h].transformerLens - v * 11 / 12) < 1e-5)
                } else {
                    // Uniform attention: mean over q = 1…11 of 1/(q+1) = (H₁₂ − 1)/11 = 0.19120.
                    #expect(abs(v - 0.19120) < 1e-4, "head \(l).\(h): previous-token score \(v)")
                }
            }
        }
        // The previous-token head is neither a sink nor an induction head.
        let first = try HeadDetector.scores(.first, trace: trace, layers: HandSetGPT2.layers)
        #expect(first[HandSetGPT2.prevLayer][HandSetGPT2.prevHead].value < 0.1)
    }

    @Test("detect previous prompt marks the hand-set head; detect alone names it P")
    func detectCommand() throws {
        let model = try HandSetGPT2.make()
        var s = Session()
        s.model = model
        s.tokenizer = model.tokenizer
        #expect(!run("prompt t3 t1 t4 t1 t5 t9 t2 t6 t5 t3 t5 t8", &s).failed)
        let out = run("detect previous prompt", &s).lines
        #expect(out.contains { $0.hasPrefix("    1") && $0.contains("1.000*") }, "\(out)")
        #expect(out.contains { $0.hasPrefix("best: 1.0 1.000") }, "\(out)")
        let summary = run("detect", &s).lines
        #expect(summary.contains { $0.hasPrefix("    1") && $0.contains("P1.00") }, "\(summary)")
        #expect(summary.contains("previous: 1.0 1.000, 0.0 0.191, 0.1 0.191"), "\(summary)")
        // The random-prompt form fits the 16-position context: 8 tokens repeated twice.
        let random = run("detect induction", &s).lines
        #expect(random.first?.contains("8 random tokens repeated twice (16 tokens") == true, "\(random)")
        #expect(run("detect sideways", &s).lines == ["error: unknown behaviour 'sideways': previous, duplicate, induction or first"])
    }

    @Test("SmolLM2 has induction heads scoring at least 0.5 on a repeated random prompt",
          .enabled(if: TestPaths.model("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") != nil,
                   "needs smollm2/SmolLM2-135M-Instruct.Q4_1.gguf under STEPWISE_MODELS"))
    func smolLM2Induction() throws {
        let path = TestPaths.model("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")!.path
        let model = try GGUFModels.load(path: path)
        let ids = HeadDetector.repeatedRandomPrompt(vocabularySize: model.info.vocabularySize,
                                                    specials: model.tokenizer.specialTokens)
        let trace = try model.trace(ids)
        let scores = try HeadDetector.scores(.induction, trace: trace, layers: model.info.layers)
        let flat = scores.enumerated().flatMap { l, row in row.enumerated().map { (l, $0, $1.value) } }.sorted { $0.2 > $1.2 }
        print("SmolLM2 induction, best heads:", flat.prefix(6).map { "\($0.0).\($0.1) \($0.2)" })
        #expect(flat[0].2 >= 0.5, "best induction head \(flat[0].0).\(flat[0].1) scores \(flat[0].2)")
        // And the table the command prints marks it.
        var s = Session()
        s.model = model
        s.tokenizer = model.tokenizer
        let out = run("detect induction", &s).lines
        #expect(out.contains { $0.contains("*") }, "\(out)")
        print(out.joined(separator: "\n"))
    }
}
