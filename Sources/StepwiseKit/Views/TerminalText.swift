/// Text made safe for a terminal. Strings from files and users (model metadata, token pieces, lesson
/// text, echoed input) can hold control characters and escape sequences that would move the cursor,
/// retitle the window, rewrite the screen or hide text, and bidirectional overrides that make text
/// read differently from what it is. Every such character prints as a visible escape instead; the only
/// escape sequences that reach the terminal are Stepwise's own colour codes (``ANSI``), and those only
/// when colour is on.
public enum TerminalText {
    /// Every control character visible (`\x1b`, `\n`, `\t`, `\u{85}`) and every bidirectional control
    /// shown as `<U+202E>`: for one-line labels of untrusted text.
    public static func visible(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: needsEscape) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars { append(u, to: &out) }
        return String(out)
    }

    /// A line ready to print: like ``visible(_:)`` but newlines stay, and when `color` is on the SGR
    /// sequences that ``ANSI`` produces (`ESC[0m`, `ESC[1m`, `ESC[38;5;Nm`, `ESC[48;5;Nm`) stay too.
    public static func safe(_ line: String, color: Bool) -> String {
        let scalars = Array(line.unicodeScalars)
        guard scalars.contains(where: { needsEscape($0) && $0 != "\n" }) else { return line }
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            let u = scalars[i]
            if u == "\n" { out.append(u); i += 1; continue }
            if u == "\u{1B}", color, let n = ownSGRLength(scalars, at: i) {
                out.append(contentsOf: scalars[i..<(i + n)])
                i += n
                continue
            }
            append(u, to: &out)
            i += 1
        }
        return String(out)
    }

    /// True for the scalars that must not reach a terminal as they are.
    static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        return v < 0x20 || (0x7F...0x9F).contains(v) || isBidiControl(v)
    }

    /// U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069: marks, embeddings, overrides and isolates.
    static func isBidiControl(_ v: UInt32) -> Bool {
        v == 0x061C || v == 0x200E || v == 0x200F || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }

    static func append(_ u: Unicode.Scalar, to out: inout String.UnicodeScalarView) {
        let v = u.value
        let text: String
        switch v {
        case 0x0A: text = "\\n"
        case 0x09: text = "\\t"
        case 0x0D: text = "\\r"
        case ..<0x20, 0x7F: text = "\\x" + hex(v, 2)
        case 0x80...0x9F: text = "\\u{" + hex(v, 2) + "}"
        default:
            if isBidiControl(v) { text = "<U+" + hex(v, 4) + ">" } else { out.append(u); return }
        }
        out.append(contentsOf: text.unicodeScalars)
    }

    static func hex(_ v: UInt32, _ digits: Int) -> String {
        let s = String(v, radix: 16, uppercase: digits == 4)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }

    /// The length of one of ``ANSI``'s sequences starting at `i`, or nil.
    static func ownSGRLength(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        guard i + 2 < s.count, s[i + 1] == "[" else { return nil }
        var j = i + 2
        var params = ""
        while j < s.count, j - i < 16, s[j] == ";" || ("0"..."9").contains(s[j]) {
            params.unicodeScalars.append(s[j])
            j += 1
        }
        guard j < s.count, s[j] == "m" else { return nil }
        let parts = params.split(separator: ";", omittingEmptySubsequences: false)
        switch parts.count {
        case 1 where params == "0" || params == "1":
            return j - i + 1
        case 3 where (parts[0] == "38" || parts[0] == "48") && parts[1] == "5":
            guard let n = Int(parts[2]), (0...255).contains(n), parts[2].count <= 3 else { return nil }
            return j - i + 1
        default:
            return nil
        }
    }
}
