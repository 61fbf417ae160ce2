import CKernels

/// A weight matrix `[rows, columns]` kept in one of ggml's 32-value block formats (Q4_0, Q4_1, Q8_0), as
/// a GGUF file stores it, for matrix-vector products that read 4-7x fewer bytes than float32.
///
/// Products take each block's whole-number codes against the float32 input and apply the block's
/// scale and offset once per block (`d·Σq·x + m·Σx`), so the result equals `x · dequantized()ᵀ` to
/// float32 rounding; the activations are never quantized (llama.cpp rounds them to 8 bits).
public struct QuantizedMatrix: Sendable {
    /// The block formats with a kernel here.
    public enum Format: String, Sendable {
        /// f16 d, 16 bytes of nibbles; value = d * (nibble - 8).
        case q4_0
        /// f16 d, f16 m, 16 bytes of nibbles; value = d * nibble + m.
        case q4_1
        /// f16 d, 32 int8; value = d * q.
        case q8_0

        /// Bytes per block of 32 values.
        public var blockBytes: Int {
            switch self {
            case .q4_0: 18
            case .q4_1: 20
            case .q8_0: 34
            }
        }

        /// The format of a GGUF tensor type, or nil when there is no kernel for it.
        public init?(_ type: GGUFTensorType) {
            switch type {
            case .q4_0: self = .q4_0
            case .q4_1: self = .q4_1
            case .q8_0: self = .q8_0
            default: return nil
            }
        }

        var ggufType: GGUFTensorType {
            switch self {
            case .q4_0: .q4_0
            case .q4_1: .q4_1
            case .q8_0: .q8_0
            }
        }
    }

    public let format: Format
    /// Output features (rows of the PyTorch-order weight).
    public let rows: Int
    /// Input features; a multiple of 32.
    public let columns: Int
    /// `rows` rows of `columns / 32` blocks each.
    let storage: [UInt8]
    /// The row counts of the matrices stacked here, in order (one entry for a matrix that is not a stack).
    public let parts: [Int]

    /// Bytes of one row.
    public var rowBytes: Int { columns / 32 * format.blockBytes }

    /// Copies the blocks of a `[rows, columns]` matrix.
    ///
    /// - Parameter bytes: `rows * columns / 32` blocks, row-major (a GGUF tensor with `ne = [columns, rows]`).
    public init(format: Format, rows: Int, columns: Int, bytes: UnsafeRawBufferPointer) {
        precondition(columns % 32 == 0, "QuantizedMatrix: \(columns) columns is not a whole number of blocks")
        let n = rows * (columns / 32) * format.blockBytes
        precondition(bytes.count >= n, "QuantizedMatrix: \(rows)x\(columns) \(format.rawValue) needs \(n) bytes, got \(bytes.count)")
        self.format = format
        self.rows = rows
        self.columns = columns
        storage = Array(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
        parts = [rows]
    }

    /// The matrix in float32, `[rows, columns]`, converted by ``GGUFQuantization``.
    public func dequantized() -> Tensor {
        let data = storage.withUnsafeBytes { GGUFQuantization.dequantize(format.ggufType, from: $0, count: rows * columns) }
        return Tensor(shape: [rows, columns], data: data)
    }

    /// The rows of several matrices of one format and width, one after another: `[Σ rows, columns]`.
    /// One product with the stack replaces a product with each (q, k and v; gate and up), so the cores
    /// are woken once instead of several times per token. Nil when the parts differ in format or width
    /// (a file may store them at different precisions).
    public init?(stacking parts: [QuantizedMatrix]) {
        guard let first = parts.first,
              parts.allSatisfy({ $0.format == first.format && $0.columns == first.columns }) else { return nil }
        format = first.format
        columns = first.columns
        rows = parts.reduce(0) { $0 + $1.rows }
        storage = parts.flatMap(\.storage)
        self.parts = parts.flatMap(\.parts)
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

    /// Which code computes the products.
    public enum Kernel: Sendable {
        /// The intrinsics kernels of `CKernels` when the CPU has AVX2, FMA and F16C, else `.portable`.
        case best
        /// Swift SIMD code that runs anywhere.
        case portable
    }

    /// True when this CPU runs the `CKernels` intrinsics (x86-64 with AVX2, FMA and F16C).
    public static let intrinsicsAvailable = stepwise_block_kernels_available() != 0

    /// `x · Wᵀ` for `x` `[..., columns]`: `[..., rows]`. Meant for a few rows of `x` (token-by-token
    /// generation); each row of `x` streams the whole matrix once.
    public func linear(_ x: Tensor, kernel: Kernel = .best) -> Tensor {
        precondition(x.dim(-1) == columns, "QuantizedMatrix.linear: input \(x.shape) does not fit \(rows)x\(columns)")
        let m = x.count / Swift.max(columns, 1)
        let blocks = columns / 32
        // Σx over each block of each input row: the block's offset term `m · Σx` (Q4_1) or `-8d · Σx`
        // (Q4_0) is then one multiply per block instead of one add per weight.
        var blockSums = [Float](repeating: 0, count: m * blocks)
        x.data.withUnsafeBufferPointer { xp in
            for i in 0..<(m * blocks) {
                let b = xp.baseAddress! + i * 32
                blockSums[i] = ((Self.load8(b) + Self.load8(b + 8)) + (Self.load8(b + 16) + Self.load8(b + 24))).sum()
            }
        }
        let out = [Float](unsafeUninitializedCapacity: m * rows) { buf, initialized in
            x.data.withUnsafeBufferPointer { xp in
                blockSums.withUnsafeBufferPointer { sp in
                    storage.withUnsafeBytes { wp in
                        multiply(x: xp.baseAddress!, sums: sp.baseAddress!, m: m, weights: wp.baseAddress!, out: buf.baseAddress!,
                                 intrinsics: kernel == .best && Self.intrinsicsAvailable)
                    }
                }
            }
            initialized = m * rows
        }
        return Tensor(shape: Array(x.shape.dropLast()) + [rows], data: out)
    }

    /// Rows split over the cores; every output value is one row of W against one row of x.
    func multiply(x: UnsafePointer<Float>, sums: UnsafePointer<Float>, m: Int, weights: UnsafeRawPointer,
                  out: UnsafeMutablePointer<Float>, intrinsics: Bool) {
        // A few chunks per core, so a core that starts late still finds work; a token of generation
        // makes ~120 of these calls (see Parallel).
        let chunks = Swift.max(1, Swift.min(8, rows / 32))
        let perChunk = (rows + chunks - 1) / chunks
        let ux = UnsafeSendable(x), us = UnsafeSendable(sums), uw = UnsafeSendable(weights), uo = UnsafeSendable(out)
        let (format, rows, columns, rowBytes) = (format, rows, columns, rowBytes)
        let blocks = columns / 32
        let code: Int32 = switch format {
        case .q4_0: Int32(STEPWISE_Q4_0)
        case .q4_1: Int32(STEPWISE_Q4_1)
        case .q8_0: Int32(STEPWISE_Q8_0)
        }
        let body: @Sendable (Int) -> Void = { chunk in
            let r1 = Swift.min(rows, (chunk + 1) * perChunk)
            let r0 = Swift.min(r1, chunk * perChunk)
            if intrinsics {
                stepwise_block_matvec(code, uw.value.assumingMemoryBound(to: UInt8.self), rowBytes, r0, r1,
                                      ux.value, us.value, m, blocks, uo.value, rows)
                return
            }
            for r in r0..<r1 {
                let w = uw.value + r * rowBytes
                for i in 0..<m {
                    let xi = ux.value + i * columns, si = us.value + i * blocks
                    let s: Float
                    switch format {
                    case .q4_0: s = Self.dotQ4(w, xi, si, blocks: blocks, hasMin: false)
                    case .q4_1: s = Self.dotQ4(w, xi, si, blocks: blocks, hasMin: true)
                    case .q8_0: s = Self.dotQ8_0(w, xi, blocks: blocks)
                    }
                    uo.value[i * rows + r] = s
                }
            }
        }
        if m * rows * columns < 1 << 16 || chunks == 1 {
            for c in 0..<chunks { body(c) }
        } else {
            Parallel.forEach(chunks, body)
        }
    }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// 8 bytes as floats.
    @inline(__always)
    static func floats(_ b: SIMD8<UInt8>) -> SIMD8<Float> {
        SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: b))
    }

    /// `Σ_j q_j x_j` over one block of 32 nibbles (low nibbles are values 0-15, high nibbles 16-31),
    /// as 8 partial sums.
    @inline(__always)
    static func nibbleDot(_ p: UnsafeRawPointer, _ xb: UnsafePointer<Float>) -> SIMD8<Float> {
        let low = SIMD8<UInt8>(repeating: 0x0F)
        let q = p.loadUnaligned(as: SIMD16<UInt8>.self)
        let qa = q.lowHalf, qb = q.highHalf
        var s0 = floats(qa & low) * load8(xb), s1 = floats(qb & low) * load8(xb + 8)
        s0.addProduct(floats(qa &>> 4), load8(xb + 16))
        s1.addProduct(floats(qb &>> 4), load8(xb + 24))
        return s0 + s1
    }

    /// One Q4_0 / Q4_1 row against `x`, whose block sums are `sums`.
    ///
    /// A block's weights are `d·q + m` (Q4_1) or `d·(q − 8)` (Q4_0), so its dot product with x is
    /// `d·Σ q·x + m·Σx` (with `m = −8d` for Q4_0): the nibbles are multiplied as small whole numbers,
    /// exactly, and the scale and offset are applied once per block. Equal to the product with the
    /// dequantized weights up to float32 rounding.
    @inline(__always)
    static func dotQ4(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>,
                      blocks: Int, hasMin: Bool) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var offset0: Float = 0, offset1: Float = 0
        let blockBytes = hasMin ? 20 : 18
        let codes = hasMin ? 4 : 2
        var b = 0
        while b + 2 <= blocks {
            let p0 = w + b * blockBytes, p1 = p0 + blockBytes
            let d0 = half(p0, 0), d1 = half(p1, 0)
            acc0.addProduct(nibbleDot(p0 + codes, x + b * 32), SIMD8(repeating: d0))
            acc1.addProduct(nibbleDot(p1 + codes, x + b * 32 + 32), SIMD8(repeating: d1))
            offset0 += (hasMin ? half(p0, 2) : -8 * d0) * sums[b]
            offset1 += (hasMin ? half(p1, 2) : -8 * d1) * sums[b + 1]
            b += 2
        }
        if b < blocks {
            let p = w + b * blockBytes
            let d = half(p, 0)
            acc0.addProduct(nibbleDot(p + codes, x + b * 32), SIMD8(repeating: d))
            offset0 += (hasMin ? half(p, 2) : -8 * d) * sums[b]
        }
        return (acc0 + acc1).sum() + (offset0 + offset1)
    }

    /// `Σ_j q_j x_j` over one Q8_0 block of 32 signed bytes, as 8 partial sums.
    @inline(__always)
    static func byteDot(_ p: UnsafeRawPointer, _ xb: UnsafePointer<Float>) -> SIMD8<Float> {
        let q = p.loadUnaligned(as: SIMD32<Int8>.self)
        var s0 = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: q.lowHalf.lowHalf)) * load8(xb)
        var s1 = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: q.lowHalf.highHalf)) * load8(xb + 8)
        s0.addProduct(SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: q.highHalf.lowHalf)), load8(xb + 16))
        s1.addProduct(SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: q.highHalf.highHalf)), load8(xb + 24))
        return s0 + s1
    }

    /// One Q8_0 row against `x`: `Σ_blocks d·Σ q·x`, the scale applied once per block.
    @inline(__always)
    static func dotQ8_0(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var b = 0
        while b + 2 <= blocks {
            let p0 = w + b * 34, p1 = p0 + 34
            acc0.addProduct(byteDot(p0 + 2, x + b * 32), SIMD8(repeating: half(p0, 0)))
            acc1.addProduct(byteDot(p1 + 2, x + b * 32 + 32), SIMD8(repeating: half(p1, 0)))
            b += 2
        }
        if b < blocks {
            let p = w + b * 34
            acc0.addProduct(byteDot(p + 2, x + b * 32), SIMD8(repeating: half(p, 0)))
        }
        return (acc0 + acc1).sum()
    }
}
