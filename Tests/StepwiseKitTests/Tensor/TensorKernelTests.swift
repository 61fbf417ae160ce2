import Testing
@testable import StepwiseKit

@Suite("Tensor matmul kernels")
struct TensorKernelTests {
    /// Shapes that take every path: one to three rows (the dot-product kernel, four columns at a time and
    /// the rest), every partial row tile of the 3-, 6- and 8-row kernels, partial panels and an odd number
    /// of panels (the 32-column tile's 16-column tail), k not a multiple of 8 or 16 and several k-blocks,
    /// split into column chunks and into row chunks.
    static let shapes = [
        (1, 1536, 576), (1, 4099, 37), (2, 100, 40), (3, 33, 300), (4, 16, 8), (5, 31, 257), (7, 47, 9), (9, 80, 1),
        (32, 576, 576), (32, 200, 1536), (130, 40, 96), (67, 513, 129), (128, 24, 64), (13, 49, 600), (200, 300, 260),
    ]

    @Test("products match the definition under every ISA this CPU runs", arguments: shapes)
    func matchesNaive(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: UInt64(m * 100_000 + n * 10 + k))
        let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let b = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
        let want = naiveABT(a, b, m: m, n: n, k: k)
        for isa in KernelISA.supported {
            let got = MatMul.abT(a: a, b: b, m: m, n: n, k: k, isa: isa)
            let err = zip(got, want).map { abs($0 - $1) }.max() ?? 0
            #expect(err < 1e-4 * Float(k).squareRoot(), "max error \(err) at \(shape), \(isa)")
        }
    }

    @Test("pre-packed weights give the same products under every ISA", arguments: shapes + [(3, 17, 40), (33, 50, 700)])
    func packedMatchesNaive(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: UInt64(m * 7 + n * 13 + k))
        let x = Tensor(shape: [m, k], data: (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 })
        let w = Tensor(shape: [n, k], data: (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 })
        let packed = PackedMatrix(w)
        #expect(packed.unpacked() == w)
        let want = naiveABT(x.data, w.data, m: m, n: n, k: k)
        for isa in KernelISA.supported {
            let got = packed.linear(x, isa: isa)
            #expect(got.shape == [m, n])
            let err = zip(got.data, want).map { abs($0 - $1) }.max() ?? 0
            #expect(err < 1e-4 * Float(k).squareRoot(), "max error \(err) at \(shape), \(isa)")
        }
    }

    @Test("k = 0 gives zeros; the output is fully overwritten; empty weights pack")
    func emptyDepth() {
        for isa in KernelISA.supported {
            #expect(MatMul.abT(a: [], b: [], m: 3, n: 5, k: 0, isa: isa) == [Float](repeating: 0, count: 15))
            #expect(MatMul.abT(a: [], b: [], m: 9, n: 5, k: 0, isa: isa) == [Float](repeating: 0, count: 45))
        }
        let empty = PackedMatrix(Tensor(shape: [4, 0], data: []))
        #expect(empty.linear(Tensor(shape: [2, 0], data: [])).data == [Float](repeating: 0, count: 8))
        #expect(PackedMatrix(Tensor(shape: [0, 3], data: [])).linear(Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])).shape == [2, 0])
    }

    @Test("the kernels' row tiles: 3 portable, 6 AVX2, 8 AVX-512")
    func tileRows() {
        #expect(KernelISA.portable.tileRows == 3)
        if KernelISA.avx2.isSupported { #expect(KernelISA.avx2.tileRows == 6) }
        if KernelISA.avx512.isSupported { #expect(KernelISA.avx512.tileRows == 8) }
    }
}
