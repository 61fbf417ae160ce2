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

    /// Random blocks with sane float16 scales: `d` in ±[0.001, 0.03], `m` in ±0.1.
    func randomBlocks(_ format: QuantizedMatrix.Format, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var bytes: [UInt8] = []
        func half(_ x: Float) { let h = Float16(x).bitPattern; bytes += [UInt8(h & 0xFF), UInt8(h >> 8)] }
        for _ in 0..<(rows * columns / 32) {
            let sign: Float = rng.next() % 2 == 0 ? 1 : -1
            half(sign * (0.001 + 0.029 * rng.nextFloat()))
            if format == .q4_1 { half(0.2 * rng.nextFloat() - 0.1) }
            let codes = format == .q8_0 ? 32 : 16
            for _ in 0..<codes { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
        }
        return bytes
    }

    @Test("block-format products equal dequantize-then-multiply", arguments: [
        (QuantizedMatrix.Format.q4_0, 1, 576), (.q4_1, 1, 576), (.q8_0, 1, 576), (.q4_1, 2, 576), (.q8_0, 3, 576),
        (.q4_0, 2, 608), (.q4_1, 1, 608), (.q8_0, 2, 608),  // an odd number of blocks per row
    ])
    func quantizedMatchesDequantized(format: QuantizedMatrix.Format, m: Int, columns: Int) {
        let rows = 200
        let bytes = randomBlocks(format, rows: rows, columns: columns, seed: UInt64(m * 7 + format.blockBytes))
        let q = bytes.withUnsafeBytes { QuantizedMatrix(format: format, rows: rows, columns: columns, bytes: $0) }
        var rng = SplitMix64(seed: 3)
        let x = Tensor(shape: [m, columns], data: (0..<(m * columns)).map { _ in 2 * rng.nextFloat() - 1 })
        let dense = q.dequantized()
        #expect(dense.shape == [rows, columns])
        let want = x.linear(dense)
        // Both kernels (the intrinsics one runs only where the CPU has AVX2/FMA/F16C): the same float32
        // weights, with the scale and offset applied per block instead of per weight.
        for kernel in [QuantizedMatrix.Kernel.best, .portable] {
            let got = q.linear(x, kernel: kernel)
            #expect(got.shape == [m, rows])
            let (err, bound) = referenceError(got.data, want.data, tolerance: 1e-5)
            #expect(err <= bound, "\(format) m=\(m) \(kernel): \(err) > \(bound)")
        }
        #expect(want.maxAbs > 0.01, "the test data is not degenerate")
    }

    @Test("a stack of block matrices gives each part's product side by side; mixed formats do not stack")
    func stackedBlocks() {
        let parts: [QuantizedMatrix] = [(40, UInt64(11)), (24, 12), (24, 13)].map { rows, seed in
            let bytes = randomBlocks(.q4_1, rows: rows, columns: 64, seed: seed)
            return bytes.withUnsafeBytes { QuantizedMatrix(format: .q4_1, rows: rows, columns: 64, bytes: $0) }
        }
        guard let stack = QuantizedMatrix(stacking: parts) else {
            Issue.record("three Q4_1 matrices of width 64 did not stack")
            return
        }
        #expect(stack.rows == 88)
        var rng = SplitMix64(seed: 5)
        let x = Tensor(shape: [2, 64], data: (0..<128).map { _ in 2 * rng.nextFloat() - 1 })
        let whole = stack.linear(x).data
        let pieces = parts.map { $0.linear(x).data }
        for i in 0..<2 {
            let want = pieces[0][(i * 40)..<(i * 40 + 40)] + pieces[1][(i * 24)..<(i * 24 + 24)] + pieces[2][(i * 24)..<(i * 24 + 24)]
            #expect(Array(whole[(i * 88)..<(i * 88 + 88)]) == Array(want))
        }
        let q8 = randomBlocks(.q8_0, rows: 8, columns: 64, seed: 14).withUnsafeBytes {
            QuantizedMatrix(format: .q8_0, rows: 8, columns: 64, bytes: $0)
        }
        #expect(stack.parts == [40, 24, 24])
        let split = stack.linearParts(x)
        for (piece, part) in zip(split, parts) {
            #expect(piece.shape == [2, part.rows])
            #expect(piece.data == part.linear(x).data)
        }
        #expect(QuantizedMatrix(stacking: [parts[0], q8]) == nil)
        #expect(QuantizedMatrix(stacking: []) == nil)
    }

    @Test("Q4_1 blocks: low nibbles are values 0-15, high nibbles 16-31, value = d * q + m")
    func q4_1Layout() {
        // d = 0.5, m = -1, codes: byte j holds low nibble j % 16 and high nibble 15 - j % 16.
        var bytes: [UInt8] = [0x00, 0x38, 0x00, 0xBC]  // float16 0.5 and -1.0, little-endian
        for j in 0..<16 { bytes.append(UInt8(j) | (UInt8(15 - j) << 4)) }
        let q = bytes.withUnsafeBytes { QuantizedMatrix(format: .q4_1, rows: 1, columns: 32, bytes: $0) }
        let lowValues: [Float] = (0..<16).map { (j: Int) -> Float in 0.5 * Float(j) - 1 }
        let highValues: [Float] = (0..<16).map { (j: Int) -> Float in 0.5 * Float(15 - j) - 1 }
        let want = lowValues + highValues
        #expect(q.dequantized().data == want)
        var x = [Float](repeating: 0, count: 32)
        x[3] = 1; x[20] = 2
        #expect(q.linear(Tensor(shape: [32], data: x)).data == [want[3] + 2 * want[20]])
    }
}
