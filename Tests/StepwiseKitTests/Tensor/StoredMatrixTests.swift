import Foundation
import Testing
@testable import StepwiseKit

/// The kernels for weights as files store them (block formats, float32/float16/bfloat16 rows) of every
/// instruction set this CPU runs, against the definition: the float32 product with the dequantized
/// weights, summed in double precision; and products of several rows against the float32 kernel on the
/// dequantized matrix, bit for bit.
@Suite("Stored matrix kernels")
struct StoredMatrixTests {
    /// Random blocks: random codes and scale bytes, with the float16 fields set to sane values (`d` in
    /// ±[0.001, 0.03] for the 32-value formats, ±[0.0001, 0.002] for the K formats whose 6- and 8-bit
    /// sub-block scales multiply it; mins in ±0.1 or [0, 0.002]).
    static func randomBlocks(_ format: StoredMatrix.Format, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        if !format.isBlocks {
            // Plain rows: values in ±1 in the format's own bits.
            return (0..<(rows * columns)).flatMap { _ -> [UInt8] in
                let x = 2 * rng.nextFloat() - 1
                switch format {
                case .f16: let h = Float16(x).bitPattern; return [UInt8(h & 0xFF), UInt8(h >> 8)]
                case .bf16: let b = x.bitPattern >> 16; return [UInt8(b & 0xFF), UInt8(b >> 8)]
                default: return withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) }
                }
            }
        }
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
            case .f32, .f16, .bf16: break
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
    static func check(_ q: StoredMatrix, _ x: Tensor, against weights: [Float], _ label: String) {
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
        var format: StoredMatrix.Format
        var m: Int, rows: Int, blocks: Int
        var description: String { "\(format.rawValue) m=\(m) \(rows) rows x \(blocks) blocks" }
    }

    /// Per format: one block and one row; three blocks (an odd count: the two-block loops' tail) and 37
    /// rows; 19 or 5 blocks and 200 rows, which the cores split.
    static let shapes: [Shape] = StoredMatrix.Format.allCases.flatMap { f in
        [Shape(format: f, m: 1, rows: 1, blocks: 1), Shape(format: f, m: 2, rows: 37, blocks: 3),
         Shape(format: f, m: 3, rows: 200, blocks: f.blockValues == 256 ? 5 : 19), Shape(format: f, m: 1, rows: 200, blocks: 2)]
    }

    @Test("block-format products equal the product with the dequantized weights, every ISA", arguments: shapes)
    func randomShapes(_ s: Shape) {
        let columns = s.blocks * s.format.blockValues
        let bytes = Self.randomBlocks(s.format, rows: s.rows, columns: columns, seed: UInt64(s.rows * 31 + s.blocks))
        let q = bytes.withUnsafeBytes { StoredMatrix(format: s.format, rows: s.rows, columns: columns, bytes: $0) }
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
          arguments: StoredMatrix.Format.blockFormats)
    func knownBlocks(_ format: StoredMatrix.Format) throws {
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
            let q = raw.withUnsafeBytes { StoredMatrix(format: format, rows: rows, columns: columns, bytes: $0) }
            Self.check(q, Self.inputs(2, columns, seed: 9), against: want, "\(format.rawValue) \(rows)x\(columns)")
        }
    }

    static let gemma = TestPaths.model("gemma3/gemma-3-270m-q4_k_m.gguf")

    @Test("Gemma 3 270M's Q4_K, Q5_0, Q6_K and Q8_0 rows against their dequantization, every ISA",
          .enabled(if: gemma != nil, "needs gemma3/gemma-3-270m-q4_k_m.gguf under STEPWISE_MODELS"))
    func gemmaRows() throws {
        let file = try GGUFFile(path: try #require(Self.gemma).path)
        var seen: Set<StoredMatrix.Format> = []
        // The first two matrices of each type (several tensors and shapes), at most 300 rows of each.
        var taken: [StoredMatrix.Format: Int] = [:]
        for info in file.tensors where info.ne.count == 2 {
            guard let format = StoredMatrix.Format(info.type), taken[format, default: 0] < 2 else { continue }
            taken[format, default: 0] += 1
            let (_, bytes) = try file.rawTensor(info.name)
            let (rows, columns) = (Swift.min(info.shape[0], 300), info.shape[1])
            let q = StoredMatrix(format: format, rows: rows, columns: columns, bytes: bytes)
            let dense = GGUFQuantization.dequantize(info.type, from: bytes, count: rows * columns)
            Self.check(q, Self.inputs(2, columns, seed: UInt64(columns)), against: dense, "\(info.name) (\(format.rawValue))")
            seen.insert(format)
        }
        #expect(seen == [.q4_K, .q5_0, .q6_K, .q8_0], "the file's block formats: \(seen)")

        // A layer whose v is Q8_0 beside Q5_0 q and k: q, k and v stacked in their own formats.
        let layer = try #require((0..<64).first { l in file.tensors.contains { $0.name == "blk.\(l).attn_v.weight" && $0.type == .q8_0 } })
        var pieces: [StoredMatrix] = [], dense: [Float] = []
        for name in ["attn_q", "attn_k", "attn_v"] {
            let (info, bytes) = try file.rawTensor("blk.\(layer).\(name).weight")
            let format = try #require(StoredMatrix.Format(info.type))
            pieces.append(StoredMatrix(format: format, rows: info.shape[0], columns: info.shape[1], bytes: bytes))
            dense += GGUFQuantization.dequantize(info.type, from: bytes, count: info.elementCount)
        }
        let qkv = try #require(StoredMatrix(stacking: pieces))
        #expect(Set(qkv.formats) == [.q5_0, .q8_0])
        Self.check(qkv, Self.inputs(1, qkv.columns, seed: 21), against: dense, "blk.\(layer) q, k, v stacked")
    }

    @Test("a stack of block matrices gives each part's product side by side, in one format or several")
    func stackedBlocks() {
        let parts: [StoredMatrix] = [(40, UInt64(11)), (24, 12), (24, 13)].map { rows, seed in
            let bytes = Self.randomBlocks(.q4_1, rows: rows, columns: 64, seed: seed)
            return bytes.withUnsafeBytes { StoredMatrix(format: .q4_1, rows: rows, columns: 64, bytes: $0) }
        }
        guard let stack = StoredMatrix(stacking: parts) else {
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
            StoredMatrix(format: .q8_0, rows: 8, columns: 64, bytes: $0)
        }
        #expect(stack.parts == [40, 24, 24])
        let split = stack.linearParts(x)
        for (piece, part) in zip(split, parts) {
            #expect(piece.shape == [2, part.rows])
            #expect(piece.data == part.linear(x).data)
        }
        #expect(StoredMatrix(stacking: []) == nil)
        let wide = Self.randomBlocks(.q4_0, rows: 8, columns: 96, seed: 15).withUnsafeBytes {
            StoredMatrix(format: .q4_0, rows: 8, columns: 96, bytes: $0)
        }
        #expect(StoredMatrix(stacking: [parts[0], wide]) == nil, "widths differ")

        // Parts in different formats stack too: each part's rows run in its own format.
        guard let mixed = StoredMatrix(stacking: [parts[0], q8, stack]) else {
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
        let q = bytes.withUnsafeBytes { StoredMatrix(format: .q4_1, rows: 1, columns: 32, bytes: $0) }
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

    @Test("a matrix-vector product's rows split into chunks that shrink as they run out, covering every row once")
    func guidedSplit() {
        #expect(StoredMatrix.guidedSplit(576, threads: 2, minimum: 16) == [0, 144, 252, 333, 393, 438, 472, 498, 517, 533, 549, 565, 576])
        for (rows, threads) in [(1, 2), (15, 2), (17, 1), (960, 2), (3072, 4), (262_144, 2)] {
            let b = StoredMatrix.guidedSplit(rows, threads: threads, minimum: 16)
            #expect(b.first == 0 && b.last == rows)
            let sizes = zip(b.dropFirst(), b).map { $0 - $1 }
            #expect(sizes.allSatisfy { $0 > 0 })
            #expect(sizes.dropLast().allSatisfy { $0 >= 16 }, "\(rows) rows: \(sizes)")
            #expect(zip(sizes.dropFirst(), sizes).allSatisfy { $0 <= $1 }, "\(rows) rows: \(sizes)")
        }
        #expect(StoredMatrix.guidedSplit(0, threads: 2, minimum: 16) == [0, 0])
    }

    @Test("the column multiple of each format is its GGUF block")
    func blockValues() {
        for f in StoredMatrix.Format.allCases {
            #expect(StoredMatrix.Format(f.ggufType) == f)
            #expect(f.blockValues == (f.rawValue.hasSuffix("_K") ? 256 : f.isBlocks ? 32 : 1))
            #expect(f.blockBytes == f.ggufType.typeSize)
        }
        #expect(StoredMatrix.Format(.q2_K) == nil && StoredMatrix.Format(.q3_K) == nil && StoredMatrix.Format(.f64) == nil)
        #expect(StoredMatrix.Format(safetensors: "BF16") == .bf16 && StoredMatrix.Format(safetensors: "F64") == nil)
    }

    // MARK: - Products of several rows, conversion, checks

    /// A random matrix of `format` and its values as ``GGUFQuantization`` converts them.
    static func random(_ format: StoredMatrix.Format, rows: Int, blocks: Int, seed: UInt64) -> (StoredMatrix, Tensor) {
        let columns = blocks * format.blockValues
        let bytes = randomBlocks(format, rows: rows, columns: columns, seed: seed)
        let q = bytes.withUnsafeBytes { StoredMatrix(format: format, rows: rows, columns: columns, bytes: $0) }
        let dense = bytes.withUnsafeBytes { GGUFQuantization.dequantize(format.ggufType, from: $0, count: rows * columns) }
        return (q, Tensor(shape: [rows, columns], data: dense))
    }

    @Test("conversion to float32 equals GGUFQuantization bit for bit, every format and ISA; gather converts single rows",
          arguments: StoredMatrix.Format.allCases)
    func conversion(_ format: StoredMatrix.Format) {
        let (q, dense) = Self.random(format, rows: 7, blocks: format.isBlocks ? 3 : 40, seed: 41)
        #expect(q.dequantized().data == dense.data)
        for isa in KernelISA.supported {
            #expect(q.dequantized(isa: isa).data == dense.data, "\(format) \(isa)")
        }
        #expect(q.gather([6, 0, 6]).data == dense.gatherRows([6, 0, 6]).data)
        #expect(q.firstNonFinite() == nil)
    }

    struct ProductShape: Sendable, CustomStringConvertible {
        var format: StoredMatrix.Format
        var m: Int, rows: Int, blocks: Int
        var description: String { "\(format.rawValue) m=\(m) \(rows) rows x \(blocks) blocks" }
    }

    /// Rows of x: 3 (the few-rows tile path), 4, 13 (tile tails of every ISA), 70 (row chunks); rows of W
    /// one, 31 (a part unit of 16), 33 and 300 (split over the cores); widths of one block, odd counts.
    static let productShapes: [ProductShape] = StoredMatrix.Format.allCases.flatMap { f -> [ProductShape] in
        let b = f.isBlocks ? (f.blockValues == 256 ? [1, 3] : [1, 5]) : [7, 70]
        return [ProductShape(format: f, m: 3, rows: 31, blocks: b[1]), ProductShape(format: f, m: 4, rows: 1, blocks: b[0]),
                ProductShape(format: f, m: 13, rows: 33, blocks: b[1]), ProductShape(format: f, m: 70, rows: 300, blocks: b[1])]
    }

    @Test("a product of three or more rows equals the float32 kernel on the dequantized matrix bit for bit, every ISA",
          arguments: productShapes)
    func matrixProducts(_ s: ProductShape) {
        let (q, dense) = Self.random(s.format, rows: s.rows, blocks: s.blocks, seed: UInt64(s.m * 7 + s.rows))
        let x = Self.inputs(s.m, q.columns, seed: UInt64(s.blocks))
        for isa in KernelISA.supported {
            let want = PackedMatrix(dense).linear(x, isa: isa)
            let got = q.linear(x, isa: isa)
            #expect(got.shape == want.shape)
            #expect(got.data == want.data, "\(s) \(isa): max difference \(zip(got.data, want.data).map { abs($0 - $1) }.max() ?? 0)")
        }
        let naive = naiveABT(x.data, dense.data, m: s.m, n: q.rows, k: q.columns)
        let (err, bound) = referenceError(q.linear(x).data, naive, tolerance: 1e-5)
        #expect(err <= bound, "\(s) against the definition: \(err) > \(bound)")
    }

    @Test("a head's slice of columns equals the packed slice bit for bit, inside blocks too, every ISA",
          arguments: [StoredMatrix.Format.q4_K, .q8_0, .q5_1, .f32, .bf16])
    func columnSlices(_ format: StoredMatrix.Format) {
        let blocks = format.blockValues == 256 ? 2 : format.isBlocks ? 8 : 256
        let (q, dense) = Self.random(format, rows: 45, blocks: blocks, seed: 77)
        let dHead = 64, heads = q.columns / dHead
        #expect(heads >= 4)
        for h in [0, 1, heads - 1] {
            let x = Self.inputs(h == 1 ? 2 : 9, dHead, seed: UInt64(h))
            let slice = PackedMatrix(dense.sliced([.all, .range(h * dHead, (h + 1) * dHead, 1)]).reshaped([q.rows, dHead]))
            for isa in KernelISA.supported {
                #expect(q.linear(x, columns: (h * dHead)..<((h + 1) * dHead), isa: isa).data == slice.linear(x, isa: isa).data,
                        "\(format) head \(h) \(isa)")
            }
        }
    }

    @Test("a non-finite scale or value is found at its flat index", arguments: StoredMatrix.Format.allCases)
    func nonFinite(_ format: StoredMatrix.Format) {
        let columns = format.isBlocks ? 2 * format.blockValues : 40
        var bytes = Self.randomBlocks(format, rows: 3, columns: columns, seed: 5)
        // The second row's second block (or value 7 of it): its scale (or value) made NaN / infinite.
        let block = (columns / format.blockValues) + (format.isBlocks ? 1 : 7)
        let base = block * format.blockBytes
        switch format {
        case .f32: bytes.replaceSubrange(base..<(base + 4), with: [0, 0, 0x80, 0x7F])  // +inf
        case .f16: bytes.replaceSubrange(base..<(base + 2), with: [0, 0x7E])  // nan
        case .bf16: bytes.replaceSubrange(base..<(base + 2), with: [0x80, 0xFF])  // -inf
        case .q6_K: bytes.replaceSubrange((base + 208)..<(base + 210), with: [0, 0x7C])
        case .q4_1, .q5_1, .q4_K, .q5_K: bytes.replaceSubrange((base + 2)..<(base + 4), with: [0, 0xFC])  // the min
        default: bytes.replaceSubrange(base..<(base + 2), with: [0, 0x7C])
        }
        let q = bytes.withUnsafeBytes { StoredMatrix(format: format, rows: 3, columns: columns, bytes: $0) }
        let found = q.firstNonFinite()
        let dense = q.dequantized().data
        let first = dense.firstIndex { !$0.isFinite }
        #expect(first != nil && found?.index == first, "\(format): \(String(describing: found)) vs \(String(describing: first))")
        #expect(found.map { $0.value.isNaN == dense[$0.index].isNaN } == true)
    }
}
