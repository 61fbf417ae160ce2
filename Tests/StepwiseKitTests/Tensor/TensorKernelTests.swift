import Testing
@testable import StepwiseKit

@Suite("Tensor matmul kernels")
struct TensorKernelTests {
    /// Shapes that take every path: one row (matrix-vector), 2-3 rows, packed tiles with partial panels
    /// and partial 4-row tiles, several k-blocks, split into column chunks and into row chunks.
    @Test("packed and matrix-vector kernels match the definition", arguments: [
        (1, 1536, 576), (1, 4099, 37), (2, 100, 40), (3, 33, 300), (4, 16, 8), (5, 31, 257),
        (32, 576, 576), (32, 200, 1536), (130, 40, 96), (67, 513, 129), (128, 24, 64),
    ])
    func matchesNaive(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: UInt64(m * 100_000 + n * 10 + k))
        let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let b = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
        let got = MatMul.abT(a: a, b: b, m: m, n: n, k: k)
        let want = naiveABT(a, b, m: m, n: n, k: k)
        let err = zip(got, want).map { abs($0 - $1) }.max() ?? 0
        #expect(err < 1e-4 * Float(k).squareRoot(), "max error \(err) at \(shape)")
    }

    @Test("pre-packed weights give the same products", arguments: [
        (1, 576, 64), (3, 17, 40), (8, 200, 576), (32, 1536, 576), (33, 50, 700),
    ])
    func packedMatchesNaive(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: UInt64(m * 7 + n * 13 + k))
        let x = Tensor(shape: [m, k], data: (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 })
        let w = Tensor(shape: [n, k], data: (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 })
        let packed = PackedMatrix(w)
        #expect(packed.unpacked() == w)
        let got = packed.linear(x)
        #expect(got.shape == [m, n])
        let want = naiveABT(x.data, w.data, m: m, n: n, k: k)
        let err = zip(got.data, want).map { abs($0 - $1) }.max() ?? 0
        #expect(err < 1e-4 * Float(k).squareRoot(), "max error \(err) at \(shape)")
    }

    @Test("k = 0 gives zeros; the output is fully overwritten")
    func emptyDepth() {
        #expect(MatMul.abT(a: [], b: [], m: 3, n: 5, k: 0) == [Float](repeating: 0, count: 15))
    }
}
