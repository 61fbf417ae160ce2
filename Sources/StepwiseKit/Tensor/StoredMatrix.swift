import CKernels

/// A weight matrix `[rows, columns]` (PyTorch `[out, in]`) read where the file keeps it, in the file's
/// element format: float32, float16 or bfloat16 rows, or one of ggml's block formats. The bytes are the
/// memory-mapped file's (or a copy the matrix owns); no float32 copy of the whole matrix is made.
///
/// - For one or two rows of `x` (token-by-token generation), where reading the weights dominates, the
///   block kernels take each block's whole-number codes against the float32 input and apply the
///   (sub-)block's scale and offset once (`d·Σq·x + m·Σx`); the result equals `x · dequantized()ᵀ` to
///   float32 rounding. The activations are never quantized (llama.cpp rounds them to 8 bits).
/// - For more rows (a traced prompt), the weights are converted 16 rows at a time into the float32
///   kernel's panels as it multiplies (`stepwise_sgemm_stored`), which gives exactly the values of
///   ``PackedMatrix`` on ``dequantized()``.
///
/// A row holds a whole number of blocks: `columns` must be a multiple of ``Format/blockValues``
/// (32, or 256 for the K formats; 1 for the plain formats). GGUF files guarantee it for their tensors
/// (ggml's rule, checked by ``GGUFFile``); check it before building a matrix from other bytes.
public struct StoredMatrix: @unchecked Sendable {
    /// The element formats the kernels read in place (ggml's layouts; see `CKernels.h` and ``GGUFQuantization``).
    public enum Format: String, Sendable, CaseIterable {
        /// IEEE float32 values.
        case f32
        /// IEEE float16 values.
        case f16
        /// bfloat16 values (the top half of a float32).
        case bf16
        /// 32 values: f16 d, 16 bytes of nibbles; value = d * (nibble - 8).
        case q4_0
        /// 32 values: f16 d, f16 m, 16 bytes of nibbles; value = d * nibble + m.
        case q4_1
        /// 32 values: f16 d, u32 of fifth bits, 16 bytes of nibbles; value = d * (q5 - 16).
        case q5_0
        /// 32 values: f16 d, f16 m, u32 of fifth bits, 16 bytes of nibbles; value = d * q5 + m.
        case q5_1
        /// 32 values: f16 d, 32 int8; value = d * q.
        case q8_0
        /// 256 values: f16 d, f16 dmin, eight 6-bit scales and mins, 4-bit codes; value = d·sc·q − dmin·m.
        case q4_K
        /// 256 values: as Q4_K with a fifth bit per code.
        case q5_K
        /// 256 values: 6-bit codes, sixteen int8 scales, f16 d; value = d·scale·(q − 32).
        case q6_K

        /// The block formats (the ones with matrix-vector kernels of their own).
        public static let blockFormats: [Format] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]

        /// Values per block: a row's `columns` must be a multiple of this.
        public var blockValues: Int { Int(stepwise_format_block_values(code)) }

        /// Bytes per block of ``blockValues`` values.
        public var blockBytes: Int { Int(stepwise_format_block_bytes(code)) }

        /// True for ggml's block formats, false for plain float32/float16/bfloat16 rows.
        public var isBlocks: Bool { blockValues > 1 }

        /// The format of a GGUF tensor type, or nil when no kernel reads it in place.
        public init?(_ type: GGUFTensorType) {
            guard let f = Self.allCases.first(where: { $0.ggufType == type }) else { return nil }
            self = f
        }

        /// The format of a safetensors dtype (`F32`, `F16`, `BF16`), or nil.
        public init?(safetensors dtype: String) {
            switch dtype {
            case "F32": self = .f32
            case "F16": self = .f16
            case "BF16": self = .bf16
            default: return nil
            }
        }

        /// The GGUF tensor type stored in this format.
        public var ggufType: GGUFTensorType {
            switch self {
            case .f32: .f32
            case .f16: .f16
            case .bf16: .bf16
            case .q4_0: .q4_0
            case .q4_1: .q4_1
            case .q5_0: .q5_0
            case .q5_1: .q5_1
            case .q8_0: .q8_0
            case .q4_K: .q4_K
            case .q5_K: .q5_K
            case .q6_K: .q6_K
            }
        }

        /// The code of `CKernels`' `STEPWISE_Q*` / `STEPWISE_F*`.
        var code: Int32 {
            switch self {
            case .f32: Int32(STEPWISE_F32)
            case .f16: Int32(STEPWISE_F16)
            case .bf16: Int32(STEPWISE_BF16)
            case .q4_0: Int32(STEPWISE_Q4_0)
            case .q4_1: Int32(STEPWISE_Q4_1)
            case .q5_0: Int32(STEPWISE_Q5_0)
            case .q5_1: Int32(STEPWISE_Q5_1)
            case .q8_0: Int32(STEPWISE_Q8_0)
            case .q4_K: Int32(STEPWISE_Q4_K)
            case .q5_K: Int32(STEPWISE_Q5_K)
            case .q6_K: Int32(STEPWISE_Q6_K)
            }
        }

        /// True for the formats with an offset term (`m`, or `dmin·m` per sub-block), which the kernels
        /// take as `m·Σx` from the input's sums over 32 values.
        var hasMin: Bool { self == .q4_1 || self == .q5_1 || self == .q4_K || self == .q5_K }
    }

    /// The format (of the first part, for a stack of parts in several formats: see ``formats``).
    public var format: Format { segments[0].format }
    /// The format of each stacked part, in order (one entry for a matrix that is not a stack).
    public var formats: [Format] { segments.map(\.format) }
    /// Output features (rows of the PyTorch-order weight).
    public let rows: Int
    /// Input features; a multiple of every part's `format.blockValues`.
    public let columns: Int
    /// The row counts of the matrices stacked here, in order (one entry for a matrix that is not a stack).
    public let parts: [Int]

    /// One stored piece: its format, its rows of the stack, and where its first row starts.
    struct Segment {
        var format: Format
        var rows: Range<Int>
        var base: UnsafeRawPointer
    }
    let segments: [Segment]
    /// What keeps the bytes alive: the mapped files, or the copies this matrix owns.
    private let owners: [AnyObject]

    /// Bytes of one row (of the first part, for a stack of several formats).
    public var rowBytes: Int { Self.rowBytes(format, columns) }

    /// Bytes the matrix occupies where it is stored.
    public var byteCount: Int { segments.reduce(0) { $0 + $1.rows.count * Self.rowBytes($1.format, columns) } }

    static func rowBytes(_ format: Format, _ columns: Int) -> Int { columns / format.blockValues * format.blockBytes }

    /// A copy of bytes some other object owns.
    private final class Bytes {
        let storage: UnsafeMutableRawBufferPointer
        init(_ source: UnsafeRawBufferPointer) {
            storage = .allocate(byteCount: Swift.max(source.count, 1), alignment: 64)
            if source.count > 0 { storage.copyMemory(from: source) }
        }
        deinit { storage.deallocate() }
    }

    /// Copies the stored bytes of a `[rows, columns]` matrix.
    ///
    /// - Parameter bytes: `rows * columns / format.blockValues` blocks, row-major (a GGUF tensor with
    ///   `ne = [columns, rows]`, or its first `rows` rows).
    /// - Precondition: `columns` is a multiple of `format.blockValues`.
    public init(format: Format, rows: Int, columns: Int, bytes: UnsafeRawBufferPointer) {
        let n = Self.checkedSize(format, rows, columns, bytes.count)
        let copy = Bytes(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
        self.init(format: format, rows: rows, columns: columns, base: UnsafeRawPointer(copy.storage.baseAddress!), owner: copy)
    }

    /// The matrix read in place from `bytes`, which `owner` (a mapped file) keeps valid.
    ///
    /// - Precondition: `columns` is a multiple of `format.blockValues`; float32 rows start 4-byte aligned.
    public init(format: Format, rows: Int, columns: Int, bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        _ = Self.checkedSize(format, rows, columns, bytes.count)
        precondition(format != .f32 || bytes.baseAddress.map { Int(bitPattern: $0) % 4 == 0 } ?? true,
                     "StoredMatrix: float32 rows must be 4-byte aligned")
        guard let base = bytes.baseAddress else {
            self.init(format: format, rows: rows, columns: columns, bytes: bytes)
            return
        }
        self.init(format: format, rows: rows, columns: columns, base: base, owner: owner)
    }

    private init(format: Format, rows: Int, columns: Int, base: UnsafeRawPointer, owner: AnyObject) {
        self.rows = rows
        self.columns = columns
        parts = [rows]
        segments = [Segment(format: format, rows: 0..<rows, base: base)]
        owners = [owner]
    }

    private static func checkedSize(_ format: Format, _ rows: Int, _ columns: Int, _ available: Int) -> Int {
        precondition(columns % format.blockValues == 0,
                     "StoredMatrix: \(columns) columns is not a whole number of \(format.rawValue) blocks of \(format.blockValues)")
        let n = rows * rowBytes(format, columns)
        precondition(available >= n, "StoredMatrix: \(rows)x\(columns) \(format.rawValue) needs \(n) bytes, got \(available)")
        return n
    }

    /// The rows of several matrices of one width, one after another: `[Σ rows, columns]`. One product
    /// with the stack replaces a product with each (q, k and v; gate and up), so the cores are woken
    /// once instead of several times per token. The parts may differ in format (Gemma 3's Q4_K_M file
    /// keeps v in Q8_0 in some layers and q, k in Q5_0). Nil when there are no parts or their widths differ.
    public init?(stacking parts: [StoredMatrix]) {
        guard let first = parts.first, parts.allSatisfy({ $0.columns == first.columns }) else { return nil }
        columns = first.columns
        rows = parts.reduce(0) { $0 + $1.rows }
        self.parts = parts.flatMap(\.parts)
        var segments: [Segment] = []
        var row = 0
        for part in parts {
            for s in part.segments {
                segments.append(Segment(format: s.format, rows: (row + s.rows.lowerBound)..<(row + s.rows.upperBound), base: s.base))
            }
            row += part.rows
        }
        self.segments = segments
        owners = parts.flatMap(\.owners)
    }

    // MARK: - Values

    /// Rows `ids` converted to float32, `[ids.count, columns]` (an embedding lookup).
    /// - Precondition: every id is a row.
    public func gather(_ ids: [Int]) -> Tensor {
        var out = [Float](repeating: 0, count: ids.count * columns)
        out.withUnsafeMutableBufferPointer { o in
            for (i, id) in ids.enumerated() {
                precondition((0..<rows).contains(id), "StoredMatrix.gather: row \(id) of \(rows)")
                convert(row: id, into: o.baseAddress! + i * columns)
            }
        }
        return Tensor(shape: [ids.count, columns], data: out)
    }

    /// The matrix in float32, `[rows, columns]`, each value as ``GGUFQuantization`` converts it.
    /// - Parameter isa: the conversion kernels' variant (tests name each).
    public func dequantized(isa: KernelISA = .selected) -> Tensor {
        var out = [Float](repeating: 0, count: rows * columns)
        out.withUnsafeMutableBufferPointer { o in
            for s in segments where !s.rows.isEmpty {
                stepwise_dequantize(isa.code, s.format.code, s.base.assumingMemoryBound(to: UInt8.self),
                                    s.rows.count * columns / s.format.blockValues, o.baseAddress! + s.rows.lowerBound * columns)
            }
        }
        return Tensor(shape: [rows, columns], data: out)
    }

    private func convert(row r: Int, into destination: UnsafeMutablePointer<Float>) {
        let s = segments.first { $0.rows.contains(r) }!
        let bytes = Self.rowBytes(s.format, columns)
        stepwise_dequantize(KernelISA.selected.code, s.format.code,
                            (s.base + (r - s.rows.lowerBound) * bytes).assumingMemoryBound(to: UInt8.self),
                            columns / s.format.blockValues, destination)
    }

    /// The first value that is NaN or ±infinity, as its flat index and value, or nil. Only scales are
    /// read for the block formats (finite scales give finite values), so this is fast enough for a load.
    public func firstNonFinite() -> (index: Int, value: Float)? {
        for s in segments {
            let blocks = s.rows.count * columns / s.format.blockValues
            let b = Int(stepwise_first_nonfinite_block(s.format.code, s.base.assumingMemoryBound(to: UInt8.self), blocks))
            guard b >= 0 else { continue }
            var values = [Float](repeating: 0, count: s.format.blockValues)
            values.withUnsafeMutableBufferPointer {
                stepwise_dequantize(KernelISA.selected.code, s.format.code,
                                    (s.base + b * s.format.blockBytes).assumingMemoryBound(to: UInt8.self), 1, $0.baseAddress!)
            }
            let j = values.firstIndex { !$0.isFinite } ?? 0
            return (s.rows.lowerBound * columns + b * s.format.blockValues + j, values[j])
        }
        return nil
    }

    // MARK: - Products

    /// Up to this many rows of `x`, products with block formats run the matrix-vector kernels, and with
    /// float32 rows a dot-product kernel that streams them once.
    static let vectorRows = 2

    /// The product with a stack, split back into one tensor per stacked matrix: `[..., parts[i]]` each.
    public func linearParts(_ x: Tensor, isa: KernelISA = .selected) -> [Tensor] {
        linear(x, isa: isa).splitLastAxis(parts)
    }

    /// `x · Wᵀ` for `x` `[..., columns]`: `[..., rows]`.
    ///
    /// - Parameter isa: the kernel variant (default: the one this process selected; tests name each).
    ///   One the CPU lacks runs the portable variant.
    public func linear(_ x: Tensor, isa: KernelISA = .selected) -> Tensor {
        precondition(x.dim(-1) == columns, "StoredMatrix.linear: input \(x.shape) does not fit \(rows)x\(columns)")
        let m = x.shape.dropLast().reduce(1, *)
        let shape = Array(x.shape.dropLast()) + [rows]
        if m * rows == 0 || columns == 0 { return Tensor(shape: shape, data: [Float](repeating: 0, count: m * rows)) }
        let out = [Float](unsafeUninitializedCapacity: m * rows) { buf, initialized in
            x.data.withUnsafeBufferPointer { xp in
                if m <= Self.vectorRows, segments.allSatisfy({ $0.format.isBlocks || $0.format == .f32 }) {
                    vectorProduct(x: xp.baseAddress!, m: m, out: buf.baseAddress!, isa: isa)
                } else {
                    matrixProduct(x: xp.baseAddress!, m: m, columns: 0..<columns, out: buf.baseAddress!, isa: isa)
                }
            }
            initialized = m * rows
        }
        return Tensor(shape: shape, data: out)
    }

    /// `x · W[:, columns]ᵀ` for `x` `[m, columns.count]`: `[m, rows]` (a head's slice of an output
    /// projection), always through the float32 kernel, so it equals ``PackedMatrix`` on that slice of
    /// ``dequantized()`` bit for bit.
    public func linear(_ x: Tensor, columns range: Range<Int>, isa: KernelISA = .selected) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == range.count && range.lowerBound >= 0 && range.upperBound <= columns,
                     "StoredMatrix.linear: input \(x.shape) does not fit columns \(range) of \(rows)x\(columns)")
        let m = x.shape[0]
        if m * rows == 0 || range.isEmpty { return Tensor(shape: [m, rows], data: [Float](repeating: 0, count: m * rows)) }
        let out = [Float](unsafeUninitializedCapacity: m * rows) { buf, initialized in
            x.data.withUnsafeBufferPointer { xp in
                matrixProduct(x: xp.baseAddress!, m: m, columns: range, out: buf.baseAddress!, isa: isa)
            }
            initialized = m * rows
        }
        return Tensor(shape: [m, rows], data: out)
    }

    /// Rows of A packed once, then chunks of W's rows (and of A's tiles, when there are few of those)
    /// over the cores; each chunk converts its weights a few rows at a time.
    private func matrixProduct(x: UnsafePointer<Float>, m: Int, columns range: Range<Int>, out: UnsafeMutablePointer<Float>,
                               isa: KernelISA) {
        let k = range.count, n = rows, c0 = range.lowerBound, width = columns
        let unit = MatMul.panelWidth * MatMul.panelsPerUnit
        MatMul.withPackedRows(x, m: m, k: k, isa: isa) { packed, tileRows in
            let (columnChunks, rowChunks, perM) = MatMul.split(m: m, n: n, k: k, columnUnits: (n + unit - 1) / unit, tileRows: tileRows)
            let perN = ((n + columnChunks - 1) / columnChunks + unit - 1) / unit * unit
            let up = UnsafeSendable(packed), uo = UnsafeSendable(out)
            let segments = UnsafeSendable(self.segments), code = isa.code
            Parallel.forEach(columnChunks * rowChunks) { chunk in
                let j0 = (chunk % columnChunks) * perN, i0 = (chunk / columnChunks) * perM
                let j1 = Swift.min(n, j0 + perN), i1 = Swift.min(m, i0 + perM)
                guard j0 < j1, i0 < i1 else { return }
                for s in segments.value where s.rows.lowerBound < j1 && j0 < s.rows.upperBound {
                    let lo = Swift.max(j0, s.rows.lowerBound), hi = Swift.min(j1, s.rows.upperBound)
                    let bytes = Self.rowBytes(s.format, width)
                    stepwise_sgemm_stored(code, s.format.code,
                                          (s.base + (lo - s.rows.lowerBound) * bytes).assumingMemoryBound(to: UInt8.self),
                                          bytes, c0, k, up.value + i0 * k, i1 - i0, hi - lo, uo.value + i0 * n + lo, n)
                }
            }
        }
    }

    /// Boundaries `0 = b₀ < b₁ < … = rows` of chunks taken in order by `threads` threads: each takes
    /// 1/(2·threads) of the rows still left, at least `minimum`. The first chunks are large, so there are
    /// few of them; the last are small, so the thread that finishes first waits little for the others.
    static func guidedSplit(_ rows: Int, threads: Int, minimum: Int) -> [Int] {
        var bounds = [0]
        while let last = bounds.last, last < rows {
            bounds.append(Swift.min(rows, last + Swift.max(minimum, (rows - last) / (2 * threads))))
        }
        return bounds.count > 1 ? bounds : [0, 0]
    }

    /// Rows split over the cores; every output value is one row of W against one row of x.
    private func vectorProduct(x: UnsafePointer<Float>, m: Int, out: UnsafeMutablePointer<Float>, isa: KernelISA) {
        // Σx over each 32 values of each input row, for the offset terms (`m·Σx`): one multiply per
        // block instead of one add per weight.
        var blockSums: [Float] = []
        if segments.contains(where: { $0.format.hasMin }) {
            blockSums = [Float](repeating: 0, count: m * columns / 32)
            blockSums.withUnsafeMutableBufferPointer { stepwise_block_sums(x, m * columns / 32, $0.baseAddress!) }
        }
        // Chunks that shrink as the rows run out (see ``guidedSplit(_:threads:minimum:)``); a token of
        // generation makes ~120 of these calls (see Parallel).
        let bounds = Self.guidedSplit(rows, threads: Parallel.threads, minimum: 16)
        let chunks = bounds.count - 1
        blockSums.withUnsafeBufferPointer { sp in
            let ux = UnsafeSendable(x), us = UnsafeSendable(sp.baseAddress), uo = UnsafeSendable(out)
            let (segments, rows, columns, isaCode) = (UnsafeSendable(segments), rows, columns, isa.code)
            let body: @Sendable (Int) -> Void = { chunk in
                let (r0, r1) = (bounds[chunk], bounds[chunk + 1])
                // The chunk's rows of each part it overlaps, in that part's format (row r of a part at
                // its own offset, its outputs from column `rows.lowerBound` of `out`).
                for s in segments.value where s.rows.lowerBound < r1 && r0 < s.rows.upperBound {
                    let lo = Swift.max(r0, s.rows.lowerBound) - s.rows.lowerBound, hi = Swift.min(r1, s.rows.upperBound) - s.rows.lowerBound
                    let bytes = Self.rowBytes(s.format, columns)
                    if s.format == .f32 {
                        let w = (s.base + lo * bytes).assumingMemoryBound(to: Float.self)
                        for i in 0..<m {
                            stepwise_sgemv(isaCode, ux.value + i * columns, w, columns, columns, hi - lo,
                                           uo.value + i * rows + s.rows.lowerBound + lo)
                        }
                    } else {
                        stepwise_block_matvec(isaCode, s.format.code, s.base.assumingMemoryBound(to: UInt8.self), bytes, lo, hi,
                                              ux.value, us.value, m, columns, uo.value + s.rows.lowerBound, rows)
                    }
                }
            }
            if m * rows * columns < 1 << 16 || chunks == 1 {
                for c in 0..<chunks { body(c) }
            } else {
                Parallel.forEach(chunks, body)
            }
        }
    }
}
