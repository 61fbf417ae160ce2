/// Inline Markdown in narration, for the terminal: `**bold**` in bold and `` `code` `` in a colour when
/// colour is on, the marks dropped either way; `*emphasis*` and `_emphasis_` lose their marks;
/// `[text](url)` reads `text (url)`. Backslash escapes (`\*`) print the character.
public enum NarrationStyle {
    /// One styled run of text.
    struct Run: Equatable {
        enum Kind { case plain, bold, code }
        var text: String
        var kind: Kind
    }

    /// The colour (256-colour index) for code spans: a blue legible on dark and light backgrounds.
    static let codeColour = 31

    /// `text` with its inline marks rendered, as words for the wrapper: each word carries its own style
    /// codes (so a line break never leaves a style open), and measures by what it shows.
    /// - Parameter color: emit SGR codes (bold, a code colour); false: plain text.
    public static func words(_ text: String, color: Bool) -> [String] {
        var words: [String] = []
        var current = ""
        func end() { if !current.isEmpty { words.append(current); current = "" } }
        for run in runs(text) {
            let pieces = run.text.split(separator: " ", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if i > 0 { end() }
                guard !piece.isEmpty else { continue }
                current += style(String(piece), run.kind, color)
            }
        }
        end()
        return words
    }

    /// One line with its marks rendered (no wrapping).
    public static func line(_ text: String, color: Bool) -> String {
        runs(text).map { style($0.text, $0.kind, color) }.joined()
    }

    static func style(_ s: String, _ kind: Run.Kind, _ color: Bool) -> String {
        guard color, !s.isEmpty else { return s }
        switch kind {
        case .plain: return s
        case .bold: return ANSI.bold + s + ANSI.reset
        case .code: return ANSI.fg(codeColour) + s + ANSI.reset
        }
    }

    /// Splits text into plain, bold and code runs. Code spans are literal; an unmatched mark stays as it is.
    static func runs(_ s: String) -> [Run] {
        var out: [Run] = []
        func add(_ t: String, _ k: Run.Kind) {
            guard !t.isEmpty else { return }
            if let last = out.last, last.kind == k { out[out.count - 1].text += t } else { out.append(Run(text: t, kind: k)) }
        }
        let c = Array(s)
        var i = 0
        var plain = ""
        func flushPlain() { emphasis(plain).forEach { add($0.text, $0.kind) }; plain = "" }
        while i < c.count {
            if c[i] == "\\", i + 1 < c.count, let k = escapable.firstIndex(of: c[i + 1]) {
                // A stand-in that no mark matches; put back at the end.
                plain.unicodeScalars.append(Unicode.Scalar(0xE000 + UInt32(escapable.distance(from: escapable.startIndex, to: k)))!)
                i += 2
                continue
            }
            if c[i] == "`" {
                let n = c[i...].prefix { $0 == "`" }.count
                var j = i + n
                var close: Int?
                while j < c.count {
                    if c[j] == "`" {
                        let m = c[j...].prefix { $0 == "`" }.count
                        if m == n { close = j; break }
                        j += m
                    } else {
                        j += 1
                    }
                }
                if let close {
                    flushPlain()
                    var code = String(c[(i + n)..<close])
                    if code.hasPrefix(" ") && code.hasSuffix(" ") && code.count > 2 { code = String(code.dropFirst().dropLast()) }
                    add(code, .code)
                    i = close + n
                    continue
                }
            }
            plain.append(c[i])
            i += 1
        }
        flushPlain()
        return out.map { Run(text: restore($0.text), kind: $0.kind) }
    }

    /// The characters a backslash escapes.
    static let escapable = Array("\\`*_[]()#")

    /// The escaped characters back in place of their stand-ins.
    static func restore(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { (0xE000..<(0xE000 + UInt32(escapable.count))).contains($0.value) }) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            if (0xE000..<(0xE000 + UInt32(escapable.count))).contains(u.value) { out.append(escapable[Int(u.value - 0xE000)]) }
            else { out.unicodeScalars.append(u) }
        }
        return out
    }

    /// `**bold**` runs; `*x*` and `_x_` lose their marks; links become `text (url)`.
    static func emphasis(_ s: String) -> [Run] {
        let t = links(s)
        var out: [Run] = []
        var rest = Substring(t)
        while let open = rest.range(of: "**") {
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "**"), close.lowerBound > after.startIndex,
                  after.first != " ", after[after.index(before: close.lowerBound)] != " " else { break }
            out.append(Run(text: italics(String(rest[..<open.lowerBound])), kind: .plain))
            out.append(Run(text: italics(String(after[..<close.lowerBound])), kind: .bold))
            rest = after[close.upperBound...]
        }
        out.append(Run(text: italics(String(rest)), kind: .plain))
        return out.filter { !$0.text.isEmpty }
    }

    /// Drops the marks of `*emphasis*` and `_emphasis_` (a mark touching a letter on its inner side
    /// and not on its outer side; `2 * 3 * 4` and snake_case stay).
    static func italics(_ s: String) -> String {
        var c = Array(s)
        for mark in ["*", "_"] as [Character] {
            var i = 0
            while i < c.count {
                guard c[i] == mark, i + 1 < c.count, !c[i + 1].isWhitespace, i == 0 || !(c[i - 1].isLetter || c[i - 1].isNumber) else { i += 1; continue }
                var j = i + 1
                while j < c.count && !(c[j] == mark && !c[j - 1].isWhitespace && (j + 1 == c.count || !(c[j + 1].isLetter || c[j + 1].isNumber))) { j += 1 }
                guard j < c.count, j > i + 1 else { i += 1; continue }
                c.remove(at: j)
                c.remove(at: i)
                i = j - 1
            }
        }
        return String(c)
    }

    /// `[text](url)` → `text (url)`.
    static func links(_ s: String) -> String {
        guard s.contains("](") else { return s }
        var out = ""
        var rest = Substring(s)
        while let open = rest.firstIndex(of: "["), let close = rest[open...].firstIndex(of: "]"),
              rest.index(after: close) < rest.endIndex, rest[rest.index(after: close)] == "(",
              let end = rest[close...].firstIndex(of: ")") {
            out += rest[..<open]
            out += rest[rest.index(after: open)..<close] + " (" + rest[rest.index(close, offsetBy: 2)..<end] + ")"
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}
