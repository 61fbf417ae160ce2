import CKernels

/// A weight matrix `[rows, columns]` kept in one of ggml's block formats, as a GGUF file stores it, for
/// matrix-vector products that read 3-8x fewer bytes than float32.
///
/// Products take each block's whole-number codes against the float32 input and apply the (sub-)block's
/// scale and offset once (`d·Σq·x + m·Σx`), so the result equals `x · dequantized()ᵀ` to float32
/// rounding; the activations are never quantized (llama.cpp rounds them to 8 bits).
///
/// A row holds a whole number of blocks: `columns` must be a multiple of ``Format/blockValues``
/// (32, or 256 for the K formats). GGUF files guarantee it for their tensors (ggml's rule, checked by
/// ``GGUFFile``); check it before building a matrix from other bytes.
public struct QuantizedMatrix: Sendable {
    /// The block formats with a kernel here (ggml's layouts; see `CKernels.h` and ``GGUFQuantization``).
    public enum Format: String, Sendable, CaseIterable {
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

        /// Values per block: a row's `columns` must be a multiple of this.
        public var blockValues: Int { ggufType.blockSize }

        /// Bytes per block of ``blockValues`` values.
        public var blockBytes: Int { ggufType.typeSize }

        /// The format of a GGUF tensor type, or nil when there is no kernel for it.
        public init?(_ type: GGUFTensorType) {
            switch type {
            case .q4_0: self = .q4_0
            case .q4_1: self = .q4_1
            case .q5_0: self = .q5_0
            case .q5_1: self = .q5_1
            case .q8_0: self = .q8_0
            case .q4_K: self = .q4_K
            case .q5_K: self = .q5_K
            case .q6_K: self = .q6_K
            default: return nil
            }
        }

        /// The GGUF tensor type stored in this format.
        public var ggufType: GGUFTensorType {
            switch self {
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

        /// The code of `CKernels`' `STEPWISE_Q*`.
        var code: Int32 {
            switch self {
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

    /// The block format (of the first part, for a stack of parts in several formats: see ``formats``).
    public var format: Format { segments[0].format }
    /// The block format of each stacked part, in order (one entry for a matrix that is not a stack).
    public var formats: [Format] { segments.map(\.format) }
    /// Output features (rows of the PyTorch-order weight).
    public let rows: Int
    /// Input features; a multiple of every part's `format.blockValues`.
    public let columns: Int
    /// The parts' blocks one after another: `rows` rows, each a whole number of its part's blocks.
    let storage: [UInt8]
    /// The row counts of the matrices stacked here, in order (one entry for a matrix that is not a stack).
    public var parts: [Int] { segments.map { $0.rows.count } }

    /// One stacked part: its format, its rows of the stack, and where its bytes start in `storage`.
    struct Segment: Sendable {
        var format: Format
        var rows: Range<Int>
        var byteOffset: Int
    }
    let segments: [Segment]

    /// Bytes of one row (of the first part, for a stack of several formats).
    public var rowBytes: Int { Self.rowBytes(format, columns) }

    static func rowBytes(_ format: Format, _ columns: Int) -> Int { columns / format.blockValues * format.blockBytes }

    /// Copies the blocks of a `[rows, columns]` matrix.
    ///
    /// - Parameter bytes: `rows * columns / format.blockValues` blocks, row-major (a GGUF tensor with
    ///   `ne = [columns, rows]`, or its first `rows` rows).
    /// - Precondition: `columns` is a multiple of `format.blockValues`.
    public init(format: Format, rows: Int, columns: Int, bytes: UnsafeRawBufferPointer) {
        precondition(columns % format.blockValues == 0,
                     "QuantizedMatrix: \(columns) columns is not a whole number of \(format.rawValue) blocks of \(format.blockValues)")
        let n = rows * Self.rowBytes(format, columns)
        precondition(bytes.count >= n, "QuantizedMatrix: \(rows)x\(columns) \(format.rawValue) needs \(n) bytes, got \(bytes.count)")
        self.rows = rows
        self.columns = columns
        storage = Array(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
        segments = [Segment(format: format, rows: 0..<rows, byteOffset: 0)]
    }

    /// The matrix in float32, `[rows, columns]`, converted by ``GGUFQuantization``.
    public func dequantized() -> Tensor {
        var data: [Float] = []
        data.reserveCapacity(rows * columns)
        storage.withUnsafeBytes { raw in
            for s in segments {
                let bytes = UnsafeRawBufferPointer(rebasing: raw[s.byteOffset..<(s.byteOffset + s.rows.count * Self.rowBytes(s.format, columns))])
                data += GGUFQuantization.dequantize(s.format.ggufType, from: bytes, count: s.rows.count * columns)
            }
        }
        return Tensor(shape: [rows, columns], data: data)
    }

    /// The rows of several matrices of one width, one after another: `[Σ rows, columns]`. One product
    /// with the stack replaces a product with each (q, k and v; gate and up), so the cores are woken
    /// once instead of several times per token. The parts may differ in format (Gemma 3's Q4_K_M file
    /// keeps v in Q8_0 in some layers and q, k in Q5_0). Nil when there are no parts or their widths differ.
    public init?(stacking parts: [QuantizedMatrix]) {
        guard let first = parts.first, parts.allSatisfy({ $0.columns == first.columns }) else { return nil }
        columns = first.columns
        rows = parts.reduce(0) { $0 + $1.rows }
        storage = parts.flatMap(\.storage)
        var segments: [Segment] = []
        var row = 0, byte = 0
        for part in parts {
            for s in part.segments {
                segments.append(Segment(format: s.format, rows: (row + s.rows.lowerBound)..<(row + s.rows.upperBound),
                                        byteOffset: byte + s.byteOffset))
            }
            row += part.rows
            byte += part.storage.count
        }
        self.segments = segments
    }

    /// The product with a stack, split back into one tensor per stacked matrix: `[..., parts[i]]` each.
    public func linearParts(_ x: Tensor) -> [Tensor] {
        let all = linear(x).data
        let m = all.count / Swift.max(rows, 1)
        var offset = 0
        return parts.map { width in
            var data: [Float] = []
            data.reserveCapacity(m * width)
            for i in 0..<m { data += all[(i * rows + offset)..<(i * rows + offset + width)] }
            offset += width
            return Tensor(shape: Array(x.shape.dropLast()) + [width], data: data)
        }
    }

    /// `x · Wᵀ` for `x` `[..., columns]`: `[..., rows]`. Meant for a few rows of `x` (token-by-token
    /// generation); each row of `x` streams the whole matrix once.
    ///
    /// - Parameter isa: the kernel variant (default: the one this process selected; tests name each).
    ///   One the CPU lacks runs the portable variant.
    public func linear(_ x: Tensor, isa: KernelISA = .selected) -> Tensor {
        precondition(x.dim(-1) == columns, "QuantizedMatrix.linear: input \(x.shape) does not fit \(rows)x\(columns)")
        let m = x.shape.dropLast().reduce(1, *)
        if m * rows == 0 || columns == 0 {
            return Tensor(shape: Array(x.shape.dropLast()) + [rows], data: [Float](repeating: 0, count: m * rows))
        }
        // Σx over each 32 values of each input row, for the offset terms (`m·Σx`): one multiply per
        // block instead of one add per weight.
        var blockSums: [Float] = []
        if segments.contains(where: { $0.format.hasMin }) {
            blockSums = [Float](repeating: 0, count: m * columns / 32)
            x.data.withUnsafeBufferPointer { xp in
                blockSums.withUnsafeMutableBufferPointer { stepwise_block_sums(xp.baseAddress!, m * columns / 32, $0.baseAddress!) }
            }
        }
        let out = [Float](unsafeUninitializedCapacity: m * rows) { buf, initialized in
            x.data.withUnsafeBufferPointer { xp in
                blockSums.withUnsafeBufferPointer { sp in
                    storage.withUnsafeBytes { wp in
                        multiply(x: xp.baseAddress!, sums: sp.baseAddress, m: m, weights: wp.baseAddress!, out: buf.baseAddress!, isa: isa)
                    }
                }
            }
            initialized = m * rows
        }
        return Tensor(shape: Array(x.shape.dropLast()) + [rows], data: out)
    }

    /// Rows split over the cores; every output value is one row of W against one row of x.
    func multiply(x: UnsafePointer<Float>, sums: UnsafePointer<Float>?, m: Int, weights: UnsafeRawPointer,
                  out: UnsafeMutablePointer<Float>, isa: KernelISA) {
        // A few chunks per core, so a core that starts late still finds work; a token of generation
        // makes ~120 of these calls (see Parallel).
        let chunks = Swift.max(1, Swift.min(8, rows / 32))
        let perChunk = (rows + chunks - 1) / chunks
        let ux = UnsafeSendable(x), us = UnsafeSendable(sums), uw = UnsafeSendable(weights), uo = UnsafeSendable(out)
        let (segments, rows, columns, isaCode) = (segments, rows, columns, isa.code)
        let body: @Sendable (Int) -> Void = { chunk in
            let r1 = Swift.min(rows, (chunk + 1) * perChunk)
            let r0 = Swift.min(r1, chunk * perChunk)
            // The chunk's rows of each part it overlaps, in that part's format (row r of a part at
            // its own offset, its outputs from column `rows.lowerBound` of `out`).
            for s in segments where s.rows.lowerBound < r1 && r0 < s.rows.upperBound {
                let lo = Swift.max(r0, s.rows.lowerBound) - s.rows.lowerBound, hi = Swift.min(r1, s.rows.upperBound) - s.rows.lowerBound
                stepwise_block_matvec(isaCode, s.format.code, (uw.value + s.byteOffset).assumingMemoryBound(to: UInt8.self),
                                      Self.rowBytes(s.format, columns), lo, hi, ux.value, us.value, m, columns,
                                      uo.value + s.rows.lowerBound, rows)
            }
        }
        if m * rows * columns < 1 << 16 || chunks == 1 {
            for c in 0..<chunks { body(c) }
        } else {
            Parallel.forEach(chunks, body)
        }
    }
}
