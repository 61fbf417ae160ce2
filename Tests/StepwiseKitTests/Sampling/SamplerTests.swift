import Foundation
import Testing
@testable import StepwiseKit

/// Labels `t0`, `t1`, ... for small hand-made vocabularies.
private func label(_ id: Int) -> String { "t\(id)" }

private func close(_ a: Double, _ b: Double, _ tol: Double = 1e-12) -> Bool { abs(a - b) <= tol }

@Suite("Sampler")
struct SamplerTests {
    static let order = ["sample.logits", "sample.scaled", "sample.top_k", "sample.top_p", "sample.probs",
                        "sample.draw", "sample.choice"]

    @Test("the seven stages come in order with their shapes, axes and labels")
    func stepsInOrder() throws {
        let s = try SamplingSettings(temperature: 0.8, topK: 3, topP: 0.9)
        var rng = SplitMix64(seed: 1)
        let r = Sampler.sample(logits: [0.5, 2, -1, 1.75, 2], settings: s, rng: &rng, labels: label)
        #expect(r.steps.map(\.name) == Self.order)
        for name in ["sample.logits", "sample.scaled", "sample.top_k", "sample.probs"] {
            let step = try #require(r.step(name))
            #expect(step.tensor.shape == [5])
            #expect(step.axes == [Axis("vocab", labels: ["t0", "t1", "t2", "t3", "t4"])])
        }
        let topP = try #require(r.step("sample.top_p"))
        #expect(topP.tensor.shape == [3, 3])
        #expect(topP.axes[0] == Axis("rank", labels: ["t1", "t4", "t3"]))
        #expect(topP.axes[1].labels == ["token id", "probability", "cumulative"])
        #expect(r.step("sample.choice")!.tensor.shape == [3])
        #expect(r.steps.allSatisfy { !$0.title.isEmpty && !$0.formula.isEmpty && !$0.explanation.isEmpty })
        #expect(r.steps.dropFirst().map { $0.inputs.first! } == Array(Self.order.dropLast()))
        #expect(r.step("sample.top_k")!.formula.contains("kept 3 of 5"))
    }

    @Test("temperature divides the logits before the softmax")
    func temperature() throws {
        let s = try SamplingSettings(temperature: 2)
        let r = Sampler.sample(logits: [1, 2, 3, 4], settings: s, u: 0.5, labels: label)
        #expect(r.step("sample.scaled")!.tensor.data == [0.5, 1, 1.5, 2])
        // softmax([0.5, 1, 1.5, 2]) computed by hand (Python, math.exp).
        let want: [Int: Double] = [3: 0.45505423392341127, 2: 0.27600434470659363, 1: 0.16740509727844333, 0: 0.1015363240915518]
        #expect(r.kept.map(\.id) == [3, 2, 1, 0])
        for t in r.kept { #expect(close(t.probability, want[t.id]!), "id \(t.id): \(t.probability)") }
        // u = 0.5: cumulative 0.455 then 0.731 → rank 1, id 2.
        #expect(r.tokenID == 2 && r.rank == 1 && r.u == 0.5)
        #expect(r.step("sample.scaled")!.explanation.contains("above 1"))
    }

    @Test("top-k keeps exactly k; equal logits go to the lower id")
    func topKTies() throws {
        let s = try SamplingSettings(topK: 2)
        let r = Sampler.sample(logits: [1, 3, 3, 2, 3], settings: s, u: 0.99, labels: label)
        let inf = -Float.infinity
        #expect(r.step("sample.top_k")!.tensor.data == [inf, 3, 3, inf, inf])
        #expect(r.keptByTopK == 2)
        #expect(r.kept.map(\.id) == [1, 2])
        #expect(r.kept.allSatisfy { $0.probability == 0.5 })
        #expect(r.tokenID == 2)
        #expect(r.step("sample.probs")!.tensor.data == [0, 0.5, 0.5, 0, 0])
        // top-k larger than the vocabulary keeps everything.
        let wide = try SamplingSettings(topK: 99)
        let all = Sampler.sample(logits: [1, 3, 3, 2, 3], settings: wide, u: 0, labels: label)
        #expect(all.keptByTopK == 5 && all.kept.map(\.id) == [1, 2, 4, 3, 0])
    }

    @Test("top-p keeps the smallest group reaching p, boundary included", arguments: [
        (0.25, 1), (0.5, 2), (0.5000001, 3), (0.75, 3), (0.7500001, 4), (1e-9, 1), (1.0, 4),
    ])
    func topPBoundary(p: Double, kept: Int) throws {
        // Four equal logits: probabilities exactly 0.25 each, cumulative exactly 0.25, 0.5, 0.75, 1.
        let s = try SamplingSettings(topP: p)
        let r = Sampler.sample(logits: [0, 0, 0, 0], settings: s, u: 0, labels: label)
        #expect(r.kept.map(\.id) == Array(0..<kept))
        #expect(r.kept.allSatisfy { $0.probability == 1 / Double(kept) })
        let table = r.step("sample.top_p")!.tensor
        #expect(table.data == [0, 0.25, 0.25, 1, 0.25, 0.5, 2, 0.25, 0.75, 3, 0.25, 1])
        #expect(r.step("sample.top_p")!.formula.contains("kept \(kept) of 4"))
    }

    @Test("kept probabilities are renormalised to sum to 1")
    func renormalisation() throws {
        // softmax([2, 1, 0]) = 0.665, 0.245, 0.090; cumulative 0.665, 0.910 ≥ 0.9 → keep 2;
        // renormalised: 1 / (1 + e^-1) and e^-1 / (1 + e^-1).
        let s = try SamplingSettings(topK: 3, topP: 0.9)
        let r = Sampler.sample(logits: [2, 1, 0, -1], settings: s, u: 0.7, labels: label)
        #expect(r.keptByTopK == 3)
        #expect(r.kept.map(\.id) == [0, 1])
        #expect(close(r.kept[0].probability, 0.7310585786300048))
        #expect(close(r.kept[1].probability, 0.26894142136999516))
        let topP = r.step("sample.top_p")!.tensor
        #expect(abs(topP[0, 1] - 0.6652409557748218) < 1e-7 && abs(topP[2, 1] - 0.09003057317038046) < 1e-7)
        #expect(r.step("sample.top_k")!.tensor.data[3] == -.infinity)
        let probs = r.step("sample.probs")!.tensor.data
        #expect(abs(probs[0] - 0.7310586) < 1e-7 && abs(probs[1] - 0.2689414) < 1e-7 && probs[2] == 0 && probs[3] == 0)
        #expect(r.tokenID == 0 && r.rank == 0)  // 0.7 < 0.731
        #expect(close(Sampler.distribution(logits: [2, 1, 0, -1], settings: s).reduce(0, +), 1))
    }

    @Test("the draw picks the first token whose cumulative probability exceeds u")
    func drawWithFixedU() throws {
        let s = SamplingSettings.standard
        // Cumulative 0.25, 0.5, 0.75, 1: u equal to a boundary moves on to the next token.
        let cases: [(Double, Int)] = [(0, 0), (0.2499999, 0), (0.25, 1), (0.5, 2), (0.7499, 2), (0.75, 3), (0.9999999, 3)]
        for (u, want) in cases {
            let r = Sampler.sample(logits: [0, 0, 0, 0], settings: s, u: u, labels: label)
            #expect(r.tokenID == want, "u = \(u)")
        }
        // A token of probability 0 is never drawn, even at the top of the range.
        let r = Sampler.sample(logits: [0, -.infinity, 0], settings: s, u: 0.9999999, labels: label)
        #expect(r.tokenID == 2 && r.kept.map(\.id) == [0, 2, 1])
        let draw = r.step("sample.draw")!
        #expect(draw.tensor.shape == [3, 3])
        #expect(draw.tensor.data == [0, 0.5, 0.5, 2, 0.5, 1, 1, 0, 1])
        #expect(draw.formula.contains("u = 0.9999999 "))
        #expect(draw.explanation.contains("u = 0.9999 "))
    }

    @Test("greedy takes the argmax, ties to the lower id, and draws nothing")
    func greedy() {
        var rng = SplitMix64(seed: 9)
        let before = rng
        let r = Sampler.sample(logits: [1, 5, 5, 2], settings: .greedy, rng: &rng, labels: label)
        #expect(r.tokenID == 1 && r.probability == 1 && r.u == nil)
        #expect(rng.state == before.state)
        #expect(r.steps.map(\.name) == Self.order)
        #expect(r.step("sample.top_k")!.tensor.data == [-.infinity, 5, -.infinity, -.infinity])
        #expect(r.step("sample.probs")!.tensor.data == [0, 1, 0, 0])
        #expect(r.step("sample.scaled")!.formula.contains("greedy"))
        // The model's own probability is still reported: e^5 / (e + 2e^5 + e^2).
        let want = exp(5.0) / (exp(1.0) + 2 * exp(5.0) + exp(2.0))
        #expect(close(r.modelProbability, want))
    }

    @Test("extreme temperatures give finite probabilities that sum to 1",
          arguments: [1e-300, 1e-6, 0.01, 1, 100, 1e6, 1e300])
    func extremeTemperatures(t: Double) throws {
        var gen = SplitMix64(seed: 3)
        var logits = (0..<1000).map { _ in Float(gen.nextDouble() * 40 - 20) }
        logits[17] = 25  // a clear winner
        logits[18] = -1e30  // never chosen at any temperature
        logits[19] = 24.5
        let s = try SamplingSettings(temperature: t)
        var rng = SplitMix64(seed: 5)
        let r = Sampler.sample(logits: logits, settings: s, rng: &rng, labels: label)
        let probs = r.step("sample.probs")!.tensor.data
        #expect(probs.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        #expect(abs(probs.reduce(0, +) - 1) < 1e-4)
        #expect(r.kept.allSatisfy { $0.probability.isFinite })
        #expect(r.step("sample.top_p")!.tensor.data.allSatisfy { $0.isFinite })
        #expect(!r.step("sample.scaled")!.tensor.data.contains { $0.isNaN })
        #expect(r.probability.isFinite && r.probability > 0)
        if t <= 1e-6 {
            #expect(r.tokenID == 17 && r.probability == 1)
        }
        if t == 1e6 {
            // Nearly uniform: every other token within 0.1% of 1/999; the -1e30 one stays at 0.
            #expect(probs[18] == 0)
            #expect(probs.enumerated().allSatisfy { $0.offset == 18 || abs($0.element - 1.0 / 999) < 1e-6 })
        }
        if t == 1e300 {
            // So hot that even the -1e30 logit is as likely as the rest.
            #expect(probs.allSatisfy { abs($0 - 0.001) < 1e-9 })
        }
        // Huge scaled values are clamped for display, never NaN.
        let huge = Sampler.sample(logits: [1e30, -1e30, 0], settings: s, u: 0.5, labels: label)
        #expect(huge.step("sample.scaled")!.tensor.data.allSatisfy { !$0.isNaN })
        #expect(huge.tokenID == 0 || t >= 1e30)
    }

    @Test("NaN and infinite logits do not break the sampler")
    func nonFiniteLogits() {
        let a = Sampler.sample(logits: [.nan, 1, 0], settings: .standard, u: 0.999, labels: label)
        #expect(a.kept.first { $0.id == 0 }!.probability == 0 && a.tokenID != 0)
        let b = Sampler.sample(logits: [0, .infinity, .infinity], settings: .standard, u: 0.6, labels: label)
        #expect(b.tokenID == 2 && b.probability == 0.5)
        let c = Sampler.sample(logits: [-.infinity, -.infinity], settings: .standard, u: 0.6, labels: label)
        #expect(c.tokenID == 1 && c.probability == 0.5)
    }

    @Test("a seed fixes the sequence; it matches an independent Python run of the same rules")
    func reproducible() throws {
        // Python: order by (-logit, id), top-k 5, softmax of logit/0.8, top-p 0.9, renormalise,
        // u = (splitmix64() >> 11) / 2^53, first cumulative > u.
        let logits: [Float] = [0.5, 2.0, -1.0, 1.75, 2.0, 0.0, -3.0, 1.0]
        let s = try SamplingSettings(temperature: 0.8, topK: 5, topP: 0.9, seed: 42)
        var rng = SplitMix64(seed: s.seed)
        let got = (0..<10).map { _ in Sampler.sample(logits: logits, settings: s, rng: &rng, labels: label).tokenID }
        #expect(got == [3, 1, 1, 4, 1, 3, 1, 3, 4, 4])
        var fast = SplitMix64(seed: s.seed)
        #expect((0..<10).map { _ in Sampler.pick(logits: logits, settings: s, rng: &fast).tokenID } == got)
        #expect(fast.state == rng.state)
        let r = Sampler.sample(logits: logits, settings: s, u: 0.1, labels: label)
        #expect(r.kept.map(\.id) == [1, 4, 3, 7])
        let want = [0.33133204077921136, 0.33133204077921136, 0.24240769940485707, 0.09492821903672016]
        for (t, w) in zip(r.kept, want) { #expect(close(t.probability, w)) }
        var plain = SplitMix64(seed: 42)
        let t1 = (0..<10).map { _ in Sampler.pick(logits: logits, settings: .standard, rng: &plain).tokenID }
        #expect(t1 == [3, 1, 1, 4, 1, 7, 1, 7, 4, 3])
    }

    @Test("compare puts two settings' final distributions side by side")
    func compare() throws {
        let a = try SamplingSettings(temperature: 0.5)
        let b = try SamplingSettings(temperature: 1.5)
        let rows = Sampler.compare(logits: [0, 2, 1], a: a, b: b, top: 2, labels: label)
        #expect(rows.map(\.id) == [1, 2])
        #expect(rows.map(\.label) == ["t1", "t2"])
        #expect(close(rows[0].probabilityA, 0.8668133321973348) && close(rows[0].probabilityB, 0.5627416864987679))
        #expect(close(rows[1].probabilityA, 0.11731042782619837) && close(rows[1].probabilityB, 0.2889212154417395))
        // Tokens cut by both settings are left out.
        let top2 = try SamplingSettings(topK: 2)
        let cut = Sampler.compare(logits: [0, 2, 1], a: .greedy, b: top2, top: 10, labels: label)
        #expect(cut.map(\.id) == [1, 2] && cut[0].probabilityA == 1 && cut[1].probabilityA == 0)
    }

    @Test("the rank order is the comparison sort's: highest logit first, ties (NaN as −∞, −0 as +0) by lower id")
    func rankOrderMatchesTheComparison() {
        var rng = SplitMix64(seed: 11)
        let special: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1, -1, .leastNonzeroMagnitude, -.greatestFiniteMagnitude]
        for n in [1, 2, 7, 300, 70_000] {
            let logits: [Float] = (0..<n).map { _ in
                switch rng.next() % 4 {
                case 0: special[Int(rng.next() % UInt64(special.count))]
                case 1: Float(Int(rng.next() % 5)) - 2  // many ties
                default: (rng.nextFloat() - 0.5) * 40
                }
            }
            let l = logits.map { $0.isNaN ? -Double.infinity : Double($0) }
            let want = l.indices.sorted { l[$0] > l[$1] || (l[$0] == l[$1] && $0 < $1) }
            #expect(Sampler.rankOrder(logits) == want, "\(n) logits")
        }
    }
}
