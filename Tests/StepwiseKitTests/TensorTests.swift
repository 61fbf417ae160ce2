import Testing
@testable import StepwiseKit

@Suite("Tensor")
struct TensorTests {
    @Test("linear matches the definition at awkward shapes", arguments: [
        (1, 1, 1), (3, 5, 7), (5, 17, 300), (16, 64, 64), (7, 257, 513), (33, 130, 64),
    ])
    func linearMatchesNaive(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: UInt64(m * 1000 + n * 10 + k))
        let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let b = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
        let got = Tensor(shape: [m, k], data: a).linear(Tensor(shape: [n, k], data: b))
        let want = naiveABT(a, b, m: m, n: n, k: k)
        #expect(got.shape == [m, n])
        let err = zip(got.data, want).map { abs($0 - $1) }.max() ?? 0
        #expect(err < 1e-4, "max error \(err)")
    }

    @Test("softmax is stable and masks exactly")
    func softmax() {
        let t = Tensor(shape: [2, 3], data: [1000, 1001, -.infinity, -.infinity, -.infinity, -.infinity])
        let s = t.softmax()
        #expect(abs(s.data[0] - 0.26894142) < 1e-6)
        #expect(abs(s.data[1] - 0.73105858) < 1e-6)
        #expect(s.data[2] == 0)
        #expect(s.data[3...].allSatisfy { $0 == 0 })
    }

    @Test("layer norm and RMS norm by hand")
    func norms() {
        let x = Tensor(shape: [1, 4], data: [1, 2, 3, 4])
        let (scale, y) = x.layerNorm(weight: nil, bias: nil, eps: 0)
        #expect(abs(scale.data[0] - 1.118034) < 1e-5)
        #expect(abs(y.data[0] + 1.341641) < 1e-5)
        let (rs, r) = x.rmsNorm(weight: Tensor(shape: [4], data: [1, 1, 1, 2]), eps: 0)
        #expect(abs(rs.data[0] - 2.738613) < 1e-5)
        #expect(abs(r.data[3] - 2.921187) < 1e-5)
    }

    @Test("activations at known points")
    func activations() {
        #expect(abs(Activation.gelu(1) - 0.8413447) < 1e-6)
        #expect(abs(Activation.geluTanh(1) - 0.8411920) < 1e-6)
        #expect(abs(Activation.silu(1) - 0.7310586) < 1e-6)
    }

    @Test("slicing and permuting")
    func slicing() {
        let t = Tensor(shape: [2, 3, 4], data: (0..<24).map(Float.init))
        #expect(t.sliced([.index(1), .all, .range(1, 3, 1)]).data == [13, 14, 17, 18, 21, 22])
        let p = t.permuted([1, 0, 2])
        #expect(p.shape == [3, 2, 4])
        #expect(p[1, 1, 2] == t[1, 1, 2])
        #expect(p[2, 0, 3] == t[0, 2, 3])
    }

    @Test("every kind of selection on every axis gives what indexing value by value gives")
    func slicingMatchesIndexing() {
        let t = Tensor(shape: [3, 4, 5], data: (0..<60).map(Float.init))
        let choices: [[AxisSelection]] = [
            [.all, .index(2), .range(0, 3, 2), .range(1, 4, 1), .indices([3, 1]), .indices([0, 2, 1]), .indices([1, 2, 3])],
        ]
        func values(_ sel: AxisSelection, _ n: Int) -> [Int] {
            switch sel {
            case .all: Array(0..<n)
            case .index(let i): [i]
            case .range(let lo, let hi, let step): Array(stride(from: lo, to: hi, by: step))
            case .indices(let list): list
            }
        }
        for a in choices[0] where values(a, 3).allSatisfy({ $0 < 3 }) {
            for b in choices[0] {
                for c in choices[0] {
                    let got = t.sliced([a, b, c])
                    var want: [Float] = []
                    for i in values(a, 3) { for j in values(b, 4) { for k in values(c, 5) { want.append(t[i, j, k]) } } }
                    #expect(got.data == want, "\(a), \(b), \(c)")
                }
            }
        }
        #expect(Tensor(shape: [1, 7], data: (0..<7).map(Float.init)).sliced([.index(0), .all]).data == (0..<7).map(Float.init))
        #expect(t.sliced([.range(1, 1, 1)]).shape == [0, 4, 5])
    }
}
