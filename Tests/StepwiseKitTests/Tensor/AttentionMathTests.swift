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

    @Test("the one-query kernels agree with the definition under every ISA: 1-9 keys (groups of four and the rest), head sizes with and without a 16-value tail, split or not",
          arguments: [(9, 3, 64), (4, 1, 256), (4, 4, 20), (6, 2, 8), (2, 1, 80)])
    func oneQueryKernels(heads: Int, kvHeads: Int, d: Int) {
        for tk in 1...9 {
            let q = random([2, heads, d], seed: UInt64(tk)), k = random([tk, kvHeads, d], seed: 10 + UInt64(tk))
            let v = random([tk, kvHeads, d], seed: 20 + UInt64(tk))
            let scale: Float = 0.125
            let want = reference(q: q, k: k, v: v, scale: scale)
            for isa in KernelISA.supported {
                let scores = AttentionMath.directScores(q: q.data, k: k.data, tq: 2, tk: tk, heads: heads, kvHeads: kvHeads,
                                                        dHead: d, scale: scale, isa: isa)
                let (e1, b1) = referenceError(scores, want.scores, tolerance: 1e-5)
                #expect(e1 <= b1, "scores, \(isa), \(tk) keys: \(e1) > \(b1)")
                let z = AttentionMath.directWeightedSum(pattern: want.scores, v: v.data, tq: 2, tk: tk, heads: heads,
                                                        kvHeads: kvHeads, dHead: d, isa: isa)
                let (e2, b2) = referenceError(z, want.z, tolerance: 1e-5)
                #expect(e2 <= b2, "weighted sum, \(isa), \(tk) keys: \(e2) > \(b2)")
                // Split over the cores: the same bits.
                for chunks in [2, 3] {
                    #expect(AttentionMath.directScores(q: q.data, k: k.data, tq: 2, tk: tk, heads: heads, kvHeads: kvHeads,
                                                       dHead: d, scale: scale, isa: isa, chunks: chunks) == scores)
                }
                #expect(AttentionMath.directWeightedSum(pattern: want.scores, v: v.data, tq: 2, tk: tk, heads: heads,
                                                        kvHeads: kvHeads, dHead: d, isa: isa, parallel: true) == z)
            }
        }
    }

    @Test("a key weighted 0 adds nothing to the weighted sum, even where its value is not finite")
    func maskedKeysSkipped() {
        let v = Tensor(shape: [3, 1, 16], data: [Float](repeating: 1, count: 16) + [Float](repeating: .nan, count: 16)
                       + [Float](repeating: 2, count: 16))
        for isa in KernelISA.supported {
            let z = AttentionMath.directWeightedSum(pattern: [0.25, 0, 0.75], v: v.data, tq: 1, tk: 3, heads: 1, kvHeads: 1,
                                                    dHead: 16, isa: isa)
            #expect(z == [Float](repeating: 1.75, count: 16), "\(isa)")
        }
    }

    @Test("more keys than one run: the weighted sum adds runs of keys in order, the same bits on one core or several",
          arguments: [65, 150, 300])
    func runsOfKeys(tk: Int) {
        let (heads, kvHeads, d) = (4, 2, 48)
        let q = random([2, heads, d], seed: 5), k = random([tk, kvHeads, d], seed: 6), v = random([tk, kvHeads, d], seed: 7)
        let want = reference(q: q, k: k, v: v, scale: 0.1)
        for isa in KernelISA.supported {
            let one = AttentionMath.directWeightedSum(pattern: want.scores, v: v.data, tq: 2, tk: tk, heads: heads,
                                                      kvHeads: kvHeads, dHead: d, isa: isa, parallel: false)
            let (e, b) = referenceError(one, want.z, tolerance: 1e-5)
            #expect(e <= b, "\(isa), \(tk) keys: \(e) > \(b)")
            #expect(AttentionMath.directWeightedSum(pattern: want.scores, v: v.data, tq: 2, tk: tk, heads: heads,
                                                    kvHeads: kvHeads, dHead: d, isa: isa, parallel: true) == one)
            let scores = AttentionMath.directScores(q: q.data, k: k.data, tq: 2, tk: tk, heads: heads, kvHeads: kvHeads,
                                                    dHead: d, scale: 0.1, isa: isa, chunks: 1)
            #expect(AttentionMath.directScores(q: q.data, k: k.data, tq: 2, tk: tk, heads: heads, kvHeads: kvHeads,
                                               dHead: d, scale: 0.1, isa: isa, chunks: 4) == scores)
        }
    }
}
