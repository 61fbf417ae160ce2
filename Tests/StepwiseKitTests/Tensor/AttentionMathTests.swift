import Testing
@testable import StepwiseKit

@Suite("attention arithmetic")
struct AttentionMathTests {
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in 2 * rng.nextFloat() - 1 })
    }

    /// Scores and weighted sums the slow, obvious way, for `[tq, heads, d]` queries over `[tk, kvHeads, d]`.
    func reference(q: Tensor, k: Tensor, v: Tensor, scale: Float) -> (scores: [Float], z: [Float]) {
        let (tq, heads, d) = (q.shape[0], q.shape[1], q.shape[2])
        let (tk, kvHeads) = (k.shape[0], k.shape[1])
        let group = heads / kvHeads
        var scores = [Float](repeating: 0, count: heads * tq * tk)
        var z = [Float](repeating: 0, count: tq * heads * d)
        for h in 0..<heads {
            for i in 0..<tq {
                for j in 0..<tk {
                    var s: Float = 0
                    for e in 0..<d { s += q[i, h, e] * k[j, h / group, e] }
                    scores[(h * tq + i) * tk + j] = s * scale
                }
                for j in 0..<tk {
                    // A made-up pattern: the scores themselves, so every weight differs.
                    let w = scores[(h * tq + i) * tk + j]
                    for e in 0..<d { z[(i * heads + h) * d + e] += w * v[j, h / group, e] }
                }
            }
        }
        return (scores, z)
    }

    @Test("one or two queries (the in-place path) and many (the matrix-kernel path) agree with the definition",
          arguments: [(1, 9, 9, 3, 64), (2, 7, 4, 4, 32), (5, 7, 9, 3, 20), (40, 40, 6, 2, 16)])
    func scoresAndWeightedSums(tq: Int, tk: Int, heads: Int, kvHeads: Int, d: Int) {
        let q = random([tq, heads, d], seed: 1), k = random([tk, kvHeads, d], seed: 2), v = random([tk, kvHeads, d], seed: 3)
        let scale = 1 / Float(d).squareRoot()
        let want = reference(q: q, k: k, v: v, scale: scale)
        let scores = AttentionMath.scores(q: q, k: k, scale: scale)
        #expect(scores.shape == [heads, tq, tk])
        let (e1, b1) = referenceError(scores.data, want.scores, tolerance: 1e-5)
        #expect(e1 <= b1, "scores: \(e1) > \(b1)")
        let z = AttentionMath.weightedSum(pattern: scores, v: v)
        #expect(z.shape == [tq, heads, d])
        let (e2, b2) = referenceError(z.data, want.z, tolerance: 1e-5)
        #expect(e2 <= b2, "weighted sum: \(e2) > \(b2)")
    }
}
