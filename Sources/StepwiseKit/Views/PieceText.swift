/// A vocabulary piece (`Ġcat`, `Ċ`, `##ing`) for the piece columns of `tokens` and `explain`.
///
/// With Unicode the piece prints as the tokenizer stores it. In ASCII mode (`set unicode off`) a
/// byte-level piece is turned back into its bytes: a space prints as `_`, other printable ASCII as
/// itself, every other byte as `<0xNN>` (the form byte tokens take everywhere); a piece of another
/// tokenizer keeps its ASCII and shows other characters as `<U+NNNN>`.
public enum PieceText {
    /// The legend printed under a table whose pieces were rewritten for ASCII.
    public static let asciiLegend = "(pieces in ASCII: _ is a space, <0xNN> a byte)"

    /// `piece` as shown; `byteLevel` says the tokenizer's pieces spell bytes (GPT-2's alphabet).
    public static func display(_ piece: String, unicode: Bool, byteLevel: Bool) -> String {
        guard !unicode else { return piece }
        var out = ""
        for u in piece.unicodeScalars {
            if byteLevel, let b = ByteEncoder.byte(for: u) {
                switch b {
                case 0x20: out += "_"
                case 0x21...0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
                default: out += "<0x" + hex(UInt32(b), 2) + ">"
                }
            } else if (0x20...0x7E).contains(u.value) {
                out.unicodeScalars.append(u)
            } else {
                out += "<U+" + hex(u.value, 4) + ">"
            }
        }
        return out
    }

    /// Whether ASCII mode changed anything in these pieces (then the legend is worth a line).
    public static func needsLegend(_ pieces: [String], unicode: Bool, byteLevel: Bool) -> Bool {
        !unicode && pieces.contains { display($0, unicode: false, byteLevel: byteLevel) != $0 }
    }

    static func hex(_ v: UInt32, _ digits: Int) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }
}
