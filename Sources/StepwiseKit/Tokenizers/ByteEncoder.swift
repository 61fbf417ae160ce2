/// GPT-2's reversible map from the 256 byte values to printable Unicode characters.
///
/// Byte-level BPE vocabularies store pieces as strings of these characters, so that no piece holds a
/// space, a control character or half of a UTF-8 sequence: the printable bytes `!`…`~`, `¡`…`¬` and
/// `®`…`ÿ` map to themselves, and the other 68 bytes map, in byte order, to U+0100, U+0101, …
/// (so a space, byte 0x20, becomes `Ġ` U+0120 and a newline, 0x0A, becomes `Ċ` U+010A).
public enum ByteEncoder {
    /// The character for each byte value, indexed by the byte.
    public static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if isPrintable(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Byte value for each scalar value below ``decodeLimit``, or -1 when the scalar stands for no byte.
    static let bytesByScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: decodeLimit)
        for (b, s) in scalars.enumerated() { table[Int(s.value)] = Int16(b) }
        return table
    }()

    /// One past the largest scalar value the map uses (U+0143).
    static let decodeLimit = 324

    /// The vocabulary string for raw bytes: `[0x20, 0x63]` → `Ġc`.
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalars[Int(b)]) }
        return String(s)
    }

    /// The byte a vocabulary character stands for, nil when it is not one of the 256 map characters.
    @inline(__always)
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < decodeLimit, bytesByScalar[v] >= 0 else { return nil }
        return UInt8(bytesByScalar[v])
    }

    /// Appends the bytes a vocabulary piece stands for; characters outside the map are kept as their UTF-8.
    static func appendBytes(of piece: String, to out: inout [UInt8]) {
        for s in piece.unicodeScalars {
            if let b = byte(for: s) {
                out.append(b)
            } else {
                out.append(contentsOf: String(s).utf8)
            }
        }
    }

    private static func isPrintable(_ b: Int) -> Bool {
        (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
    }
}
