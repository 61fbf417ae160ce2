import Dispatch

/// A weight matrix `[rows, columns]` kept in one of ggml's 32-value block formats (Q4_0, Q4_1, Q8_0), as
/// a GGUF file stores it, for matrix-vector products that read 4-7x fewer bytes than float32.
///
/// Products dequantize each block into float32 exactly as ``GGUFQuantization`` does (`d * q + m`, a
/// rounded multiply then a rounded add, never fused) and take float32 dot products with the input, so
/// the result equals `x · dequantized()ᵀ` up to the order of the summation. The activations are never
/// quantized.
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
    }

    /// The matrix in float32, `[rows, columns]`, converted by ``GGUFQuantization``.
    public func dequantized() -> Tensor {
        let data = storage.withUnsafeBytes { GGUFQuantization.dequantize(format.ggufType, from: $0, count: rows * columns) }
        return Tensor(shape: [rows, columns], data: data)
    }

    /// `x · Wᵀ` for `x` `[..., columns]`: `[..., rows]`. Meant for a few rows of `x` (token-by-token
    /// generation); each row of `x` streams the whole matrix once.
    public func linear(_ x: Tensor) -> Tensor {
        precondition(x.dim(-1) == columns, "QuantizedMatrix.linear: input \(x.shape) does not fit \(rows)x\(columns)")
        let m = x.count / Swift.max(columns, 1)
        let out = [Float](unsafeUninitializedCapacity: m * rows) { buf, initialized in
            x.data.withUnsafeBufferPointer { xp in
                storage.withUnsafeBytes { wp in
                    multiply(x: xp.baseAddress!, m: m, weights: wp.baseAddress!, out: buf.baseAddress!)
                }
            }
            initialized = m * rows
        }
        return Tensor(shape: Array(x.shape.dropLast()) + [rows], data: out)
    }

    /// Rows split over the cores; every output value is one row of W against one row of x.
    func multiply(x: UnsafePointer<Float>, m: Int, weights: UnsafeRawPointer, out: UnsafeMutablePointer<Float>) {
        // A few chunks per core: waking workers costs tens of microseconds, and a token of generation
        // makes ~200 of these calls.
        let chunks = Swift.max(1, Swift.min(8, rows / 32))
        let perChunk = (rows + chunks - 1) / chunks
        let ux = UnsafeSendable(x), uw = UnsafeSendable(weights), uo = UnsafeSendable(out)
        let (format, rows, columns, rowBytes) = (format, rows, columns, rowBytes)
        let body: @Sendable (Int) -> Void = { chunk in
            let r1 = Swift.min(rows, (chunk + 1) * perChunk)
            for r in (chunk * perChunk)..<r1 {
                let w = uw.value + r * rowBytes
                for i in 0..<m {
                    let xi = ux.value + i * columns
                    let s: Float
                    switch format {
                    case .q4_0: s = Self.dotQ4(w, xi, blocks: columns / 32, hasMin: false)
                    case .q4_1: s = Self.dotQ4(w, xi, blocks: columns / 32, hasMin: true)
                    case .q8_0: s = Self.dotQ8_0(w, xi, blocks: columns / 32)
                    }
                    uo.value[i * rows + r] = s
                }
            }
        }
        if m * rows * columns < 1 << 16 || chunks == 1 {
            for c in 0..<chunks { body(c) }
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
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

    /// One Q4_0 / Q4_1 row against `x`: block `b` holds values `32b ..< 32b+32`, low nibbles first.
    @inline(__always)
    static func dotQ4(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int, hasMin: Bool) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        let blockBytes = hasMin ? 20 : 18
        let codes = hasMin ? 4 : 2
        let low = SIMD8<UInt8>(repeating: 0x0F)
        for b in 0..<blocks {
            let p = w + b * blockBytes
            let d = SIMD8<Float>(repeating: half(p, 0))
            let mn = SIMD8<Float>(repeating: hasMin ? half(p, 2) : 0)
            let q = p.loadUnaligned(fromByteOffset: codes, as: SIMD16<UInt8>.self)
            let qa = q.lowHalf, qb = q.highHalf
            var f0 = floats(qa & low), f1 = floats(qb & low), f2 = floats(qa &>> 4), f3 = floats(qb &>> 4)
            if !hasMin {
                let eight = SIMD8<Float>(repeating: 8)
                f0 -= eight; f1 -= eight; f2 -= eight; f3 -= eight
            }
            // The dequantized weights, rounded exactly as GGUFQuantization rounds them.
            let w0 = d * f0 + mn, w1 = d * f1 + mn, w2 = d * f2 + mn, w3 = d * f3 + mn
            let xb = x + b * 32
            acc0.addProduct(w0, load8(xb))
            acc1.addProduct(w1, load8(xb + 8))
            acc2.addProduct(w2, load8(xb + 16))
            acc3.addProduct(w3, load8(xb + 24))
        }
        return ((acc0 + acc1) + (acc2 + acc3)).sum()
    }

    /// One Q8_0 row against `x`.
    @inline(__always)
    static func dotQ8_0(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        for b in 0..<blocks {
            let p = w + b * 34
            let d = SIMD8<Float>(repeating: half(p, 0))
            let q = p.loadUnaligned(fromByteOffset: 2, as: SIMD32<Int8>.self)
            let f0 = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: q.lowHalf.lowHalf))
            let f1 = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: q.lowHalf.highHalf))
            let f2 = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: q.highHalf.lowHalf))
            let f3 = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: q.highHalf.highHalf))
            let xb = x + b * 32
            acc0.addProduct(d * f0, load8(xb))
            acc1.addProduct(d * f1, load8(xb + 8))
            acc2.addProduct(d * f2, load8(xb + 16))
            acc3.addProduct(d * f3, load8(xb + 24))
        }
        return ((acc0 + acc1) + (acc2 + acc3)).sum()
    }
}
