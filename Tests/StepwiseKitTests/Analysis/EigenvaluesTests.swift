import Foundation
import Testing
@testable import StepwiseKit

@Suite("Eigenvalues")
struct EigenvaluesTests {
    func sorted(_ v: [Eigenvalues.Value]) -> [Eigenvalues.Value] {
        v.sorted { ($0.re, $0.im) < ($1.re, $1.im) }
    }

    @Test("known spectra: triangular, rotation, symmetric")
    func known() {
        let tri = Eigenvalues.of(Tensor(shape: [3, 3], data: [2, 5, 7, 0, -1, 3, 0, 0, 4]))
        #expect(sorted(tri).map(\.re).enumerated().allSatisfy { abs($1 - [-1, 2, 4][$0]) < 1e-9 })
        let rot = Eigenvalues.of(Tensor(shape: [2, 2], data: [0, -1, 1, 0]))
        #expect(sorted(rot).allSatisfy { abs($0.re) < 1e-12 && abs(abs($0.im) - 1) < 1e-12 })
        // [[2,1],[1,2]] ⊕ [[0,-2],[2,0]] mixed by a permutation: eigenvalues 1, 3, ±2i.
        let m = Tensor(shape: [4, 4], data: [2, 0, 1, 0,
                                             0, 0, 0, -2,
                                             1, 0, 2, 0,
                                             0, 2, 0, 0])
        let e = sorted(Eigenvalues.of(m))
        #expect(e.count == 4)
        #expect(abs(e[0].re) < 1e-9 && abs(e[0].im + 2) < 1e-9 && abs(e[1].im - 2) < 1e-9)
        #expect(abs(e[2].re - 1) < 1e-9 && abs(e[3].re - 3) < 1e-9)
    }

    @Test("random 64×64: Σλ = trace and Σλ² = trace(A²); Πλ = det of a 3×3", arguments: [UInt64(1), 2, 3])
    func random(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let n = 64
        let a = Tensor(shape: [n, n], data: (0..<(n * n)).map { _ in rng.nextFloat() * 2 - 1 })
        let e = Eigenvalues.of(a)
        #expect(e.count == n)
        let tr = (0..<n).reduce(0.0) { $0 + Double(a[$1, $1]) }
        let sumRe = e.reduce(0) { $0 + $1.re }, sumIm = e.reduce(0) { $0 + $1.im }
        #expect(abs(sumRe - tr) < 1e-6 && abs(sumIm) < 1e-6)
        let a2 = a.matmul(a)
        let tr2 = (0..<n).reduce(0.0) { $0 + Double(a2[$1, $1]) }
        let sq = e.reduce(0) { $0 + $1.re * $1.re - $1.im * $1.im }
        #expect(abs(sq - tr2) < 1e-3 * max(1, abs(tr2)))
        // Πλ = det: 4·(3·2 − 1·0) − 1·(0·2 − 1·1) + 2·(0·0 − 3·1) = 24 + 1 − 6 = 19.
        let b = Tensor(shape: [3, 3], data: [4, 1, 2, 0, 3, 1, 1, 0, 2])
        let eb = Eigenvalues.of(b)
        var pr = (re: 1.0, im: 0.0)
        for v in eb { pr = (pr.re * v.re - pr.im * v.im, pr.re * v.im + pr.im * v.re) }
        #expect(abs(pr.re - 19) < 1e-9 && abs(pr.im) < 1e-9)
    }
}
