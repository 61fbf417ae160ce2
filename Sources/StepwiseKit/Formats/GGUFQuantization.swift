import Dispatch

/// Conversion of ggml's stored tensor types to float32.
///
/// Block layouts are ggml's (`ggml-common.h`; gguf-py's `quants.py` is the readable reference):
/// a block is a few scale fields (float16, or float32 for Q8_K) followed by packed integer codes,
/// and a value is `scale * code` (`+ min` for the `_1` and K types with a min). All multi-byte fields are
/// little-endian. Large tensors are converted on all cores, a range of whole blocks per task.
public enum GGUFQuantization {
    /// Converts `count` values of `type` stored at `source` into `destination`.
    ///
    /// - Parameters:
    ///   - type: the stored type; must satisfy ``GGUFTensorType/canDequantize``.
    ///   - source: the raw bytes, at least `type.byteCount(forValues: count)` of them.
    ///   - count: number of values; a multiple of `type.blockSize`.
    ///   - destination: room for `count` floats.
    /// - Complexity: O(count), split over all cores when `count` is large.
    public static func dequantize(_ type: GGUFTensorType, from source: UnsafeRawBufferPointer, count: Int,
                                  into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(type.canDequantize, "GGUFQuantization: cannot dequantize \(type.name)")
        guard let bytes = type.byteCount(forValues: count) else {
            preconditionFailure("GGUFQuantization: \(count) values is not a whole number of \(type.name) blocks")
        }
        precondition(source.count >= bytes, "GGUFQuantization: \(count) \(type.name) values need \(bytes) bytes, got \(source.count)")
        precondition(destination.count >= count, "GGUFQuantization: destination holds \(destination.count) floats, need \(count)")
        guard count > 0, let src = source.baseAddress, let dst = destination.baseAddress else { return }
        let blocks = count / type.blockSize
        let valuesPerTask = 1 << 16
        let tasks = min(max(1, count / valuesPerTask), 64)
        if tasks == 1 {
            convert(type, src, dst, blocks: 0..<blocks)
            return
        }
        let us = UnsafeSendable(src), ud = UnsafeSendable(dst)
        DispatchQueue.concurrentPerform(iterations: tasks) { t in
            let lo = blocks * t / tasks, hi = blocks * (t + 1) / tasks
            convert(type, us.value, ud.value, blocks: lo..<hi)  // disjoint block ranges
        }
    }

    /// Converts `count` values of `type` from raw bytes into a new array (see
    /// ``dequantize(_:from:count:into:)``).
    public static func dequantize(_ type: GGUFTensorType, from source: UnsafeRawBufferPointer, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buf, initialized in
            dequantize(type, from: source, count: count, into: buf)
            initialized = count
        }
    }

    // MARK: - Kernels (one range of whole blocks)

    private static func convert(_ type: GGUFTensorType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>,
                                blocks: Range<Int>) {
        let bs = type.blockSize, ts = type.typeSize
        for b in blocks {
            let x = src + b * ts
            let y = dst + b * bs
            switch type {
            case .f32: y[0] = Float(bitPattern: u32(x, 0))
            case .f16: y[0] = half(x, 0)
            case .bf16: y[0] = Float(bitPattern: UInt32(u16(x, 0)) << 16)
            case .f64: y[0] = Float(Double(bitPattern: UInt64(littleEndian: x.loadUnaligned(as: UInt64.self))))
            case .q4_0: q4_0(x, y)
            case .q4_1: q4_1(x, y)
            case .q5_0: q5_0(x, y)
            case .q5_1: q5_1(x, y)
            case .q8_0: q8_0(x, y)
            case .q2_K: q2_K(x, y)
            case .q3_K: q3_K(x, y)
            case .q4_K: q4_K(x, y)
            case .q5_K: q5_K(x, y)
            case .q6_K: q6_K(x, y)
            case .q8_K: q8_K(x, y)
            default: preconditionFailure("GGUFQuantization: no kernel for \(type.name)")
            }
        }
    }

    @inline(__always) private static func u16(_ p: UnsafeRawPointer, _ o: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt16.self))
    }

    @inline(__always) private static func u32(_ p: UnsafeRawPointer, _ o: Int) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }

    @inline(__always) private static func half(_ p: UnsafeRawPointer, _ o: Int) -> Float {
        Float(Float16(bitPattern: u16(p, o)))
    }

    @inline(__always) private static func byte(_ p: UnsafeRawPointer, _ o: Int) -> UInt8 {
        p.load(fromByteOffset: o, as: UInt8.self)
    }

    /// Q4_0 (18 bytes / 32 values): f16 d, 16 bytes of nibbles. Low nibbles are values 0..15, high
    /// nibbles 16..31; value = d * (nibble - 8).
    private static func q4_0(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(x, 0)
        for j in 0..<16 {
            let q = byte(x, 2 + j)
            y[j] = d * Float(Int(q & 0x0F) - 8)
            y[j + 16] = d * Float(Int(q >> 4) - 8)
        }
    }

    /// Q4_1 (20 bytes / 32 values): f16 d, f16 m, 16 bytes of nibbles; value = d * nibble + m.
    private static func q4_1(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(x, 0), m = half(x, 2)
        for j in 0..<16 {
            let q = byte(x, 4 + j)
            y[j] = d * Float(q & 0x0F) + m
            y[j + 16] = d * Float(q >> 4) + m
        }
    }

    /// Q5_0 (22 bytes / 32 values): f16 d, u32 of fifth bits (bit j for value j), nibbles as Q4_0;
    /// value = d * (q5 - 16).
    private static func q5_0(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(x, 0)
        let qh = u32(x, 2)
        for j in 0..<16 {
            let q = byte(x, 6 + j)
            let h0 = Int((qh >> UInt32(j)) & 1) << 4
            let h1 = Int((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = d * Float((Int(q & 0x0F) | h0) - 16)
            y[j + 16] = d * Float((Int(q >> 4) | h1) - 16)
        }
    }

    /// Q5_1 (24 bytes / 32 values): f16 d, f16 m, u32 of fifth bits, nibbles; value = d * q5 + m.
    private static func q5_1(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(x, 0), m = half(x, 2)
        let qh = u32(x, 4)
        for j in 0..<16 {
            let q = byte(x, 8 + j)
            let h0 = Int((qh >> UInt32(j)) & 1) << 4
            let h1 = Int((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = d * Float(Int(q & 0x0F) | h0) + m
            y[j + 16] = d * Float(Int(q >> 4) | h1) + m
        }
    }

    /// Q8_0 (34 bytes / 32 values): f16 d, 32 int8; value = d * q.
    private static func q8_0(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(x, 0)
        for j in 0..<32 {
            y[j] = d * Float(x.load(fromByteOffset: 2 + j, as: Int8.self))
        }
    }

    /// Q2_K (84 bytes / 256 values): 16 scale bytes (low nibble scale, high nibble min, one per 16
    /// values), 64 bytes of 2-bit codes, f16 d, f16 dmin. Codes: two halves of 128 values; in each, byte
    /// l of the half's 32 bytes holds values l, l+32, l+64, l+96 at shifts 0, 2, 4, 6.
    private static func q2_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(x, 80), dmin = half(x, 82)
        for e0 in stride(from: 0, to: 256, by: 16) {
            let sc = byte(x, e0 / 16)
            let dl = d * Float(sc & 0x0F), ml = dmin * Float(sc >> 4)
            let h = e0 / 128, shift = UInt8(2 * ((e0 % 128) / 32)), l0 = e0 % 32
            for i in 0..<16 {
                let q = (byte(x, 16 + h * 32 + l0 + i) >> shift) & 3
                y[e0 + i] = dl * Float(q) - ml
            }
        }
    }

    /// Q3_K (110 bytes / 256 values): 32 bytes of high-bit masks, 64 bytes of 2-bit codes (laid out as
    /// Q2_K), 12 bytes of sixteen 6-bit signed scales, f16 d. Value = d * (scale - 32) * (q2 - 4·(1 - hbit)),
    /// where hbit for value e is bit e/32 of mask byte e%32.
    private static func q3_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(x, 108)
        for s in 0..<16 {
            let lo = (byte(x, 96 + s % 8) >> UInt8(4 * (s / 8))) & 0x0F
            let hi = (byte(x, 104 + s % 4) >> UInt8(2 * (s / 4))) & 0x03
            let dl = d * Float(Int(lo | (hi << 4)) - 32)
            let e0 = s * 16
            let h = e0 / 128, shift = UInt8(2 * ((e0 % 128) / 32)), l0 = e0 % 32
            let bit = UInt8(e0 / 32)
            for i in 0..<16 {
                let q = Int((byte(x, 32 + h * 32 + l0 + i) >> shift) & 3)
                let hb = Int((byte(x, l0 + i) >> bit) & 1)
                y[e0 + i] = dl * Float(q - ((hb ^ 1) << 2))
            }
        }
    }

    /// The 6-bit scale and min of sub-block `j` (0..<8) of a Q4_K/Q5_K block's 12 scale bytes.
    @inline(__always) private static func scaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (UInt8, UInt8) {
        if j < 4 {
            return (byte(s, j) & 0x3F, byte(s, j + 4) & 0x3F)
        }
        let md = byte(s, j + 4)
        return ((md & 0x0F) | ((byte(s, j - 4) >> 2) & 0x30), (md >> 4) | ((byte(s, j) >> 2) & 0x30))
    }

    /// Q4_K (144 bytes / 256 values): f16 d, f16 dmin, 12 scale bytes (eight 6-bit scales and mins), 128
    /// bytes of nibbles. Sub-block j (32 values) uses byte chunk j/2, low nibbles for even j, high for
    /// odd; value = d·sc[j]·q - dmin·m[j].
    private static func q4_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(x, 0), dmin = half(x, 2)
        for j in 0..<8 {
            let (sc, mn) = scaleMin(x + 4, j)
            let dl = d * Float(sc), ml = dmin * Float(mn)
            let q = x + 16 + (j / 2) * 32
            let shift = UInt8(4 * (j % 2))
            let o = y + j * 32
            for l in 0..<32 {
                o[l] = dl * Float((byte(q, l) >> shift) & 0x0F) - ml
            }
        }
    }

    /// Q5_K (176 bytes / 256 values): as Q4_K plus 32 bytes of fifth bits after the scales (bit j of
    /// byte l is for value l of sub-block j).
    private static func q5_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(x, 0), dmin = half(x, 2)
        let qh = x + 16
        for j in 0..<8 {
            let (sc, mn) = scaleMin(x + 4, j)
            let dl = d * Float(sc), ml = dmin * Float(mn)
            let q = x + 48 + (j / 2) * 32
            let shift = UInt8(4 * (j % 2))
            let o = y + j * 32
            for l in 0..<32 {
                let v = ((byte(q, l) >> shift) & 0x0F) | (((byte(qh, l) >> UInt8(j)) & 1) << 4)
                o[l] = dl * Float(v) - ml
            }
        }
    }

    /// Q6_K (210 bytes / 256 values): 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 int8 scales,
    /// f16 d. In each half of 128 values: value l+64·s takes nibble s of low byte l (l < 64), and value
    /// l+32·k takes bits 2k of high byte l (l < 32); value = d·scale[e/16]·(q6 - 32).
    private static func q6_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(x, 208)
        for h in 0..<2 {
            let ql = x + h * 64, qh = x + 128 + h * 32
            for k in 0..<4 {
                let lowShift = UInt8(4 * (k / 2)), highShift = UInt8(2 * k)
                let e0 = h * 128 + k * 32
                for half16 in 0..<2 {
                    let sc = d * Float(x.load(fromByteOffset: 192 + (e0 / 16) + half16, as: Int8.self))
                    for i in 0..<16 {
                        let l = half16 * 16 + i
                        let lo = (byte(ql, (k % 2) * 32 + l) >> lowShift) & 0x0F
                        let hi = (byte(qh, l) >> highShift) & 0x03
                        y[e0 + l] = sc * Float(Int(lo | (hi << 4)) - 32)
                    }
                }
            }
        }
    }

    /// Q8_K (292 bytes / 256 values): f32 d, 256 int8, 16 int16 block sums (not needed here); value = d * q.
    private static func q8_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = Float(bitPattern: u32(x, 0))
        for j in 0..<256 {
            y[j] = d * Float(x.load(fromByteOffset: 4 + j, as: Int8.self))
        }
    }
}
