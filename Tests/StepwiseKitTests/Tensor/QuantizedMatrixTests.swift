import Foundation
import Testing
@testable import StepwiseKit

/// The block-format kernels of every instruction set this CPU runs, against the definition: the float32
/// product with the dequantized weights, summed in double precision.
@Suite("Quantized matrix kernels")
struct QuantizedMatrixTests {
    /// Random blocks: random codes and scale bytes, with the float16 fields set to sane values (`d` in
    /// ±[0.001, 0.03] for the 32-value formats, ±[0.0001, 0.002] for the K formats whose 6- and 8-bit
    /// sub-block scales multiply it; mins in ±0.1 or [0, 0.002]).
    static func randomBlocks(_ format: QuantizedMatrix.Format, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        let count = rows * columns / format.blockValues
        var bytes = (0..<(count * format.blockBytes)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        func put(_ x: Float, _ offset: Int) {
            let h = Float16(x).bitPattern
            bytes[offset] = UInt8(h & 0xFF)
            bytes[offset + 1] = UInt8(h >> 8)
        }
        let small = format.blockValues == 256
        for b in 0..<count {
            let base = b * format.blockBytes
            let sign: Float = rng.next() % 2 == 0 ? 1 : -1
            let d = small ? sign * (0.0001 + 0.0019 * rng.nextFloat()) : sign * (0.001 + 0.029 * rng.nextFloat())
            switch format {
            case .q6_K: put(d, base + 208)
            case .q4_K, .q5_K: put(d, base); put(0.002 * rng.nextFloat(), base + 2)
            case .q4_1, .q5_1: put(d, base); put(0.2 * rng.nextFloat() - 0.1, base + 2)
            case .q4_0, .q5_0, .q8_0: put(d, base)
            }
        }
        return bytes
    }

    /// `m` random inputs in [-1, 1).
    static func inputs(_ m: Int, _ columns: Int, seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: [m, columns], data: (0..<(m * columns)).map { _ in 2 * rng.nextFloat() - 1 })
    }

    /// Checks `q.linear(x)` under every supported ISA against the double-precision product with `weights`.
    static func check(_ q: QuantizedMatrix, _ x: Tensor, against weights: [Float], _ label: String) {
        let m = x.count / q.columns
        let want = naiveABT(x.data, weights, m: m, n: q.rows, k: q.columns)
        #expect(KernelISA.supported.contains(.portable))
        for isa in KernelISA.supported {
            let got = q.linear(x, isa: isa)
            #expect(got.shape == Array(x.shape.dropLast()) + [q.rows])
            let (err, bound) = referenceError(got.data, want, tolerance: 1e-5)
            #expect(err <= bound, "\(label) \(isa): max error \(err) > \(bound)")
        }
    }

    struct Shape: Sendable, CustomStringConvertible {
        var format: QuantizedMatrix.Format
        var m: Int, rows: Int, blocks: Int
        var description: String { "\(format.rawValue) m=\(m) \(rows) rows x \(blocks) blocks" }
    }

    /// Per format: one block and one row; three blocks (an odd count: the two-block loops' tail) and 37
    /// rows; 19 or 5 blocks and 200 rows, which the cores split.
    static let shapes: [Shape] = QuantizedMatrix.Format.allCases.flatMap { f in
        [Shape(format: f, m: 1, rows: 1, blocks: 1), Shape(format: f, m: 2, rows: 37, blocks: 3),
         Shape(format: f, m: 3, rows: 200, blocks: f.blockValues == 256 ? 5 : 19), Shape(format: f, m: 1, rows: 200, blocks: 2)]
    }

    @Test("block-format products equal the product with the dequantized weights, every ISA", arguments: shapes)
    func randomShapes(_ s: Shape) {
        let columns = s.blocks * s.format.blockValues
        let bytes = Self.randomBlocks(s.format, rows: s.rows, columns: columns, seed: UInt64(s.rows * 31 + s.blocks))
        let q = bytes.withUnsafeBytes { QuantizedMatrix(format: s.format, rows: s.rows, columns: columns, bytes: $0) }
        let dense = q.dequantized()
        #expect(dense.shape == [s.rows, columns])
        #expect(dense.data.allSatisfy { $0.isFinite })
        let x = Self.inputs(s.m, columns, seed: UInt64(s.m + 5))
        Self.check(q, x, against: dense.data, s.description)
        #expect(x.linear(dense).maxAbs > 0.01, "the test data is not degenerate")
    }

    @Test("every ISA this CPU runs is tested; an ISA it lacks, or a name it does not know, is not chosen")
    func isaSelection() {
        #expect(KernelISA.best.isSupported)
        #expect(KernelISA.selected.isSupported)
        #expect(KernelISA.choose(nil).isa == KernelISA.best)
        #expect(KernelISA.choose("").isa == KernelISA.best)
        #expect(KernelISA.choose("portable").isa == .portable)
        #expect(KernelISA.choose("AVX2").isa == (KernelISA.avx2.isSupported ? .avx2 : KernelISA.best))
        let bogus = KernelISA.choose("sse9")
        #expect(bogus.isa == KernelISA.best)
        #expect(bogus.reason.contains("sse9") && bogus.reason.contains("portable, avx2, avx512"))
        #if arch(x86_64)
        // Every x86-64 CPU these tests run on has AVX2 (an AVX-512 one both).
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if flags.contains(" avx2 ") && flags.contains(" fma ") { #expect(KernelISA.avx2.isSupported) }
        if flags.contains(" avx512f ") && flags.contains(" avx512bw ") && flags.contains(" avx512vl ") && flags.contains(" avx512dq ") {
            #expect(KernelISA.avx512.isSupported)
        }
        #endif
    }

    @Test("blocks of every format with a kernel, as gguf-py reads them (committed fixture), every ISA",
          arguments: QuantizedMatrix.Format.allCases)
    func knownBlocks(_ format: QuantizedMatrix.Format) throws {
        let dir = TestPaths.fixtures.appendingPathComponent("gguf/blocks")
        let raw = try Data(contentsOf: dir.appendingPathComponent("\(format.ggufType.name).raw"))
        let f = try Data(contentsOf: dir.appendingPathComponent("\(format.ggufType.name).f32"))
        let want = f.withUnsafeBytes { b in
            (0..<(b.count / 4)).map { Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        let n = want.count
        try #require(n % format.blockValues == 0 && raw.count == n / format.blockValues * format.blockBytes)
        // All blocks as one row, and each block as its own row.
        for (rows, columns) in [(1, n), (n / format.blockValues, format.blockValues)] {
            let q = raw.withUnsafeBytes { QuantizedMatrix(format: format, rows: rows, columns: columns, bytes: $0) }
            Self.check(q, Self.inputs(2, columns, seed: 9), against: want, "\(format.rawValue) \(rows)x\(columns)")
        }
    }

    static let gemma = TestPaths.model("gemma3/gemma-3-270m-q4_k_m.gguf")

    @Test("Gemma 3 270M's Q4_K, Q5_0, Q6_K and Q8_0 rows against their dequantization, every ISA",
          .enabled(if: gemma != nil, "needs gemma3/gemma-3-270m-q4_k_m.gguf under STEPWISE_MODELS"))
    func gemmaRows() throws {
        let file = try GGUFFile(path: try #require(Self.gemma).path)
        var seen: Set<QuantizedMatrix.Format> = []
        // The first two matrices of each type (several tensors and shapes), at most 300 rows of each.
        var taken: [QuantizedMatrix.Format: Int] = [:]
        for info in file.tensors where info.ne.count == 2 {
            guard let format = QuantizedMatrix.Format(info.type), taken[format, default: 0] < 2 else { continue }
            taken[format, default: 0] += 1
            let (_, bytes) = try file.rawTensor(info.name)
            let (rows, columns) = (Swift.min(info.shape[0], 300), info.shape[1])
            let q = QuantizedMatrix(format: format, rows: rows, columns: columns, bytes: bytes)
            let dense = GGUFQuantization.dequantize(info.type, from: bytes, count: rows * columns)
            Self.check(q, Self.inputs(2, columns, seed: UInt64(columns)), against: dense, "\(info.name) (\(format.rawValue))")
            seen.insert(format)
        }
        #expect(seen == [.q4_K, .q5_0, .q6_K, .q8_0], "the file's block formats: \(seen)")

        // A layer whose v is Q8_0 beside Q5_0 q and k: q, k and v stacked in their own formats.
        let layer = try #require((0..<64).first { l in file.tensors.contains { $0.name == "blk.\(l).attn_v.weight" && $0.type == .q8_0 } })
        var pieces: [QuantizedMatrix] = [], dense: [Float] = []
        for name in ["attn_q", "attn_k", "attn_v"] {
            let (info, bytes) = try file.rawTensor("blk.\(layer).\(name).weight")
            let format = try #require(QuantizedMatrix.Format(info.type))
            pieces.append(QuantizedMatrix(format: format, rows: info.shape[0], columns: info.shape[1], bytes: bytes))
            dense += GGUFQuantization.dequantize(info.type, from: bytes, count: info.elementCount)
        }
        let qkv = try #require(QuantizedMatrix(stacking: pieces))
        #expect(Set(qkv.formats) == [.q5_0, .q8_0])
        Self.check(qkv, Self.inputs(1, qkv.columns, seed: 21), against: dense, "blk.\(layer) q, k, v stacked")
    }

    @Test("a stack of block matrices gives each part's product side by side, in one format or several")
    func stackedBlocks() {
        let parts: [QuantizedMatrix] = [(40, UInt64(11)), (24, 12), (24, 13)].map { rows, seed in
            let bytes = Self.randomBlocks(.q4_1, rows: rows, columns: 64, seed: seed)
            return bytes.withUnsafeBytes { QuantizedMatrix(format: .q4_1, rows: rows, columns: 64, bytes: $0) }
        }
        guard let stack = QuantizedMatrix(stacking: parts) else {
            Issue.record("three Q4_1 matrices of width 64 did not stack")
            return
        }
        #expect(stack.rows == 88)
        let x = Self.inputs(2, 64, seed: 5)
        let whole = stack.linear(x).data
        let pieces = parts.map { $0.linear(x).data }
        for i in 0..<2 {
            let want = pieces[0][(i * 40)..<(i * 40 + 40)] + pieces[1][(i * 24)..<(i * 24 + 24)] + pieces[2][(i * 24)..<(i * 24 + 24)]
            #expect(Array(whole[(i * 88)..<(i * 88 + 88)]) == Array(want))
        }
        let q8 = Self.randomBlocks(.q8_0, rows: 8, columns: 64, seed: 14).withUnsafeBytes {
            QuantizedMatrix(format: .q8_0, rows: 8, columns: 64, bytes: $0)
        }
        #expect(stack.parts == [40, 24, 24])
        let split = stack.linearParts(x)
        for (piece, part) in zip(split, parts) {
            #expect(piece.shape == [2, part.rows])
            #expect(piece.data == part.linear(x).data)
        }
        #expect(QuantizedMatrix(stacking: []) == nil)
        let wide = Self.randomBlocks(.q4_0, rows: 8, columns: 96, seed: 15).withUnsafeBytes {
            QuantizedMatrix(format: .q4_0, rows: 8, columns: 96, bytes: $0)
        }
        #expect(QuantizedMatrix(stacking: [parts[0], wide]) == nil, "widths differ")

        // Parts in different formats stack too: each part's rows run in its own format.
        guard let mixed = QuantizedMatrix(stacking: [parts[0], q8, stack]) else {
            Issue.record("Q4_1, Q8_0 and a Q4_1 stack of width 64 did not stack")
            return
        }
        #expect(mixed.formats == [.q4_1, .q8_0, .q4_1, .q4_1, .q4_1])
        #expect(mixed.parts == [40, 8, 40, 24, 24])
        let dense = mixed.dequantized()
        #expect(dense.data == parts[0].dequantized().data + q8.dequantized().data + stack.dequantized().data)
        let x3 = Self.inputs(3, 64, seed: 6)
        Self.check(mixed, x3, against: dense.data, "mixed stack")
        let pieces3 = mixed.linearParts(x3)
        for (piece, part) in zip(pieces3, [parts[0], q8] + parts) {
            #expect(piece.data == part.linear(x3).data)
        }
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
        for isa in KernelISA.supported {
            #expect(q.linear(Tensor(shape: [32], data: x), isa: isa).data == [want[3] + 2 * want[20]], "\(isa)")
        }
    }

    @Test("the column multiple of each format is its GGUF block")
    func blockValues() {
        for f in QuantizedMatrix.Format.allCases {
            #expect(QuantizedMatrix.Format(f.ggufType) == f)
            #expect(f.blockValues == (f.rawValue.hasSuffix("_K") ? 256 : 32))
        }
        #expect(QuantizedMatrix.Format(.q2_K) == nil && QuantizedMatrix.Format(.f16) == nil)
    }
}
