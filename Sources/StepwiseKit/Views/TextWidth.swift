/// Display width of text in a terminal, counted in columns.
///
/// East-Asian wide and fullwidth characters (CJK, Hangul, most emoji) take two columns, combining
/// marks and format characters (zero-width joiner, variation selectors) take none, and ANSI
/// escape sequences (`ESC[…m`) take none, so a coloured line measures the same as a plain one.
public enum TextWidth {
    /// The number of terminal columns `text` occupies.
    public static func of(_ text: String) -> Int {
        var width = 0
        var inEscape = false
        var sawBracket = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if !sawBracket {
                    sawBracket = true
                    if scalar != "[" { inEscape = false }
                    continue
                }
                if (0x40...0x7E).contains(scalar.value) { inEscape = false }
                continue
            }
            if scalar.value == 0x1B {
                inEscape = true
                sawBracket = false
                continue
            }
            width += of(scalar)
        }
        return width
    }

    /// The number of terminal columns one scalar occupies: 0, 1 or 2.
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        if v < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if (0x1160...0x11FF).contains(v) { return 0 }  // Hangul medial vowels and final consonants
        return isWide(v) ? 2 : 1
    }

    /// East-Asian Wide and Fullwidth ranges, and the emoji blocks terminals draw two columns wide.
    static func isWide(_ v: UInt32) -> Bool {
        for r in wideRanges where r.contains(v) { return true }
        return false
    }

    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0...0x23F0,
        0x23F3...0x23F3, 0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F...0x267F,
        0x2693...0x2693, 0x26A1...0x26A1, 0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5,
        0x26CE...0x26CE, 0x26D4...0x26D4, 0x26EA...0x26EA, 0x26F2...0x26F3, 0x26F5...0x26F5,
        0x26FA...0x26FA, 0x26FD...0x26FD, 0x2705...0x2705, 0x270A...0x270B, 0x2728...0x2728,
        0x274C...0x274C, 0x274E...0x274E, 0x2753...0x2755, 0x2757...0x2757, 0x2795...0x2797,
        0x27B0...0x27B0, 0x27BF...0x27BF, 0x2B1B...0x2B1C, 0x2B50...0x2B50, 0x2B55...0x2B55,
        0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
        0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
        0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1B000...0x1B2FF,
        0x1F004...0x1F004, 0x1F0CF...0x1F0CF, 0x1F18E...0x1F18E, 0x1F191...0x1F19A,
        0x1F200...0x1F251, 0x1F300...0x1F64F, 0x1F680...0x1F6FF, 0x1F7E0...0x1F7EB,
        0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    /// `text` cut to at most `width` columns; when cut, it ends with `ellipsis` (which counts).
    /// A wide character that would straddle the limit is dropped rather than split.
    public static func truncate(_ text: String, to width: Int, ellipsis: String = "…") -> String {
        if of(text) <= width { return text }
        let room = width - of(ellipsis)
        if room < 0 { return cut(ellipsis, to: width) }
        return cut(text, to: room) + ellipsis
    }

    /// The longest prefix of `text` (by characters, escapes kept) that fits in `width` columns.
    /// A reset sequence is appended when a coloured text was cut, so colour never leaks.
    static func cut(_ text: String, to width: Int) -> String {
        var out = ""
        var used = 0
        var hadEscape = false
        var truncated = false
        var chars = text.makeIterator()
        while let ch = chars.next() {
            if ch == "\u{1B}" {
                // Copy the whole escape sequence.
                var seq = String(ch)
                while let c = chars.next() {
                    seq.append(c)
                    if let a = c.asciiValue, a >= 0x40, a <= 0x7E, c != "[" { break }
                }
                out += seq
                hadEscape = true
                continue
            }
            let w = of(String(ch))
            if used + w > width { truncated = true; break }
            out.append(ch)
            used += w
        }
        if truncated && hadEscape && !out.hasSuffix(ANSI.reset) { out += ANSI.reset }
        return out
    }

    /// `text` followed by spaces up to `width` columns (unchanged when already as wide).
    static func padRight(_ text: String, _ width: Int) -> String {
        let w = of(text)
        return w >= width ? text : text + String(repeating: " ", count: width - w)
    }

    /// Spaces then `text`, `width` columns in all (unchanged when already as wide).
    static func padLeft(_ text: String, _ width: Int) -> String {
        let w = of(text)
        return w >= width ? text : String(repeating: " ", count: width - w) + text
    }

    /// `text` centred in `width` columns (an odd spare column goes to the right).
    static func center(_ text: String, _ width: Int) -> String {
        let w = of(text)
        guard w < width else { return text }
        let left = (width - w) / 2
        return String(repeating: " ", count: left) + text + String(repeating: " ", count: width - w - left)
    }

    /// Drops trailing spaces (so snapshot files carry no invisible tails).
    static func trimTrailing(_ text: String) -> String {
        var s = Substring(text)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }

    /// Breaks prose into lines of at most `width` columns at spaces; a word longer than a line is cut.
    static func wrap(_ text: String, width: Int) -> [String] {
        let width = max(1, width)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            var word = word
            while of(word) > width {
                if !line.isEmpty { lines.append(line); line = "" }
                let head = cut(word, to: width)
                lines.append(head)
                word = String(word.dropFirst(head.count))
            }
            if line.isEmpty {
                line = word
            } else if of(line) + 1 + of(word) <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = word
            }
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }
}
