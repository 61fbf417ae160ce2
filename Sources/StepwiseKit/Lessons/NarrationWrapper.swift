/// Word-wraps Markdown narration for the terminal.
///
/// Paragraph lines are joined and re-wrapped; list items (`- `, `* `, `+ `, `1. `, `1) `) start a new line
/// and their continuation lines hang under the item's text; `> ` quotes keep their marker; code fences
/// (``` or ~~~), table rows (`|`), headings and lines indented four spaces outside a list are kept verbatim.
/// Runs of blank lines become one; a line ending in two spaces or `\` is a hard break. A word longer
/// than the width stays whole on its own line. Widths are terminal columns (``TextWidth``).
public enum NarrationWrapper {
    /// What happens to inline Markdown (`**bold**`, `` `code` ``, `*emphasis*`, links).
    public enum Inline: Sendable, Equatable {
        /// Left as written (help texts, which have none, and callers that render it themselves).
        case keep
        /// Rendered without colour: the marks dropped (``NarrationStyle``).
        case plain
        /// Rendered with Stepwise's colour codes: bold, and code in a colour.
        case color
    }

    /// Wraps `lines` to at most `width` columns where words allow.
    /// - Parameter inline: how inline Markdown is shown; headings lose their `#` marks unless `.keep`.
    /// - Precondition: `width > 0`.
    public static func wrap(_ lines: [String], width: Int, inline: Inline = .keep) -> [String] {
        precondition(width > 0, "wrap width must be positive, got \(width)")
        var out: [String] = []
        var words: [String] = []
        var first = "", rest = ""  // prefixes of the first and later lines of the pending paragraph
        var inList = false
        var afterHardBreak = false
        var fence: Fence?

        func flush() {
            guard !words.isEmpty else { return }
            if inline != .keep {
                // Spans may cross the source's line breaks: render the paragraph's text as a whole.
                words = NarrationStyle.words(words.joined(separator: " "), color: inline == .color)
            }
            out += fill(words, width: width, first: first, rest: rest)
            words = []
        }
        func blank() {
            flush()
            if let last = out.last, !last.isEmpty { out.append("") }
        }

        for line in lines {
            if let f = fence {
                out.append(line)
                if f.isClosed(by: line) { fence = nil }
                continue
            }
            if let f = Fence(opening: line) {
                flush()
                out.append(line)
                fence = f
                continue
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                afterHardBreak = false
                blank()
                continue
            }
            let indent = line.prefix(while: { $0 == " " }).count
            if trimmed.hasPrefix("#"), inline != .keep {
                flush()
                let text = trimmed.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                out.append(inline == .color ? ANSI.bold + NarrationStyle.line(text, color: false) + ANSI.reset
                           : NarrationStyle.line(text, color: false))
                inList = false
                continue
            }
            if trimmed.hasPrefix("#") || trimmed.hasPrefix("|") || (indent >= 4 && !inList && words.isEmpty) {
                flush()
                out.append(line)
                inList = false
                continue
            }
            let hardBreak = line.hasSuffix("  ") || trimmed.hasSuffix("\\")
            var text = trimmed
            if trimmed.hasSuffix("\\") { text = String(trimmed.dropLast()) }
            if let marker = listMarker(trimmed) {
                flush()
                let lead = String(repeating: " ", count: min(indent, 8))
                first = lead + marker
                rest = String(repeating: " ", count: first.count)
                text = String(text.dropFirst(marker.count))
                inList = true
            } else if trimmed.hasPrefix(">") {
                let body = trimmed.dropFirst().drop(while: { $0 == " " })
                if words.isEmpty || first != "> " { flush(); first = "> "; rest = "> " }
                text = String(body)
                inList = false
                if body.isEmpty { flush(); out.append(">"); continue }
            } else if words.isEmpty && !afterHardBreak {
                first = ""; rest = ""
                inList = false
            }
            words += text.split(separator: " ").map(String.init)
            afterHardBreak = hardBreak
            if hardBreak {
                flush()
                first = rest
            }
        }
        flush()
        while out.last == "" { out.removeLast() }
        return out
    }

    /// The list marker with its following space (`"- "`, `"12. "`) if the line starts a list item.
    static func listMarker(_ s: String) -> String? {
        if let c = s.first, c == "-" || c == "*" || c == "+", s.dropFirst().first == " " {
            // `---` and `***` rules are not items; "- " followed by text is.
            return String(c) + " "
        }
        let digits = s.prefix(while: \.isNumber)
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        let after = s.dropFirst(digits.count)
        if let p = after.first, p == "." || p == ")", after.dropFirst().first == " " {
            return String(digits) + String(p) + " "
        }
        return nil
    }

    /// Greedy fill of words into lines of at most `width` columns, with prefixes.
    static func fill(_ words: [String], width: Int, first: String, rest: String) -> [String] {
        var lines: [String] = []
        var current = first
        var used = TextWidth.of(first)
        var empty = true
        for w in words {
            let ww = TextWidth.of(w)
            if empty {
                current += w
                used += ww
                empty = false
            } else if used + 1 + ww <= width {
                used += 1 + ww
                current += " " + w
            } else {
                lines.append(current)
                current = rest + w
                used = TextWidth.of(rest) + ww
            }
        }
        lines.append(current)
        return lines
    }
}
