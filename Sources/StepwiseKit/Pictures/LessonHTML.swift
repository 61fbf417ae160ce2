import Foundation

/// `stepwise html LESSON.md OUT.html`: a lesson played straight through into one self-contained page
/// to hand out — narration as HTML, each command with its output and pictures, quizzes as
/// collapsible answers (`<details>`).
public enum LessonHTML {
    /// Plays the lesson at `path` (its commands write nothing, as under `stepwise check`) and returns the page.
    ///
    /// Pictures take the session's theme and palette as the lesson leaves them when each is drawn (a
    /// lesson may `set theme light`); the page takes the theme the lesson ends with.
    /// - Parameters:
    ///   - context: where it is asked from (default: 80 columns, no colour, like `stepwise check`).
    ///   - theme: the theme the lesson starts with, instead of the default (dark).
    ///   - palette: the palette it starts with, instead of viridis.
    /// - Throws: ``StepwiseError`` when the lesson cannot be read or its model cannot be loaded.
    public static func render(path: String, context: CommandContext? = nil, theme: ViewOptions.Theme? = nil,
                              palette: ColorScale.Palette? = nil) throws -> String {
        let context = context ?? LessonRunner.checkContext
        let p = try LessonRunner.prepare(path, context: context, mayWrite: false)
        let interpreter = StandardCommands.interpreter()
        let box = p.box
        if let theme { box.value.settings.theme = theme }
        if let palette { box.value.settings.palette = palette }
        func run(_ command: String) -> HTMLPage.Entry {
            switch interpreter.execute(command, in: &box.value, context: p.context) {
            case .output(let out):
                var e = HTMLPage.Entry(command: command, output: out)
                switch CommandFigures.pictures(command: command, output: out, session: box.value, context: p.context,
                                               interpreter: interpreter) {
                case .pictures(let ps): e.pictures = ps
                case .stale(let why): e.note = why
                }
                return e
            case .failure(let line):
                return HTMLPage.Entry(command: command, output: [], error: line)
            case .quit:
                return HTMLPage.Entry(command: command, output: [])
            }
        }

        var body = "<h1>\(NarrationHTML.inline(p.lesson.title))</h1>\n"
        if let m = box.value.model {
            body += "<p class=\"meta\">model \(Markup.escape(m.info.name)) · made with Stepwise · hover a cell for its exact value</p>\n"
        }
        for block in p.lesson.blocks {
            if context.isCancelled() { throw StepwiseError.usage("stopped") }
            switch block {
            case .narration(let n):
                body += NarrationHTML.render(n.lines)
            case .commands(let c):
                for command in c.commands { body += HTMLPage.entry(run(command.text)) }
            case .quiz(let q):
                body += "<details class=\"quiz\">\n<summary>Quiz: \(NarrationHTML.inline(q.question))</summary>\n"
                body += "<p class=\"answer\">Answer: <code>\(Markup.escape(q.answer.description))</code></p>\n"
                if let reveal = q.reveal { body += HTMLPage.entry(run(reveal.text)) }
                body += "</details>\n"
            }
        }
        return HTMLPage.document(title: p.lesson.title, body: body, theme: box.value.settings.theme)
    }
}

/// A lesson's narration (Markdown) as HTML: paragraphs, `#` headings, `-`/`*` and numbered lists,
/// `>` quotes and code fences; inline `**bold**`, `*italic*` and `` `code` ``. A link `[text](url)` is
/// written as its text and the address in parentheses, as plain text: the page links to nothing.
/// Everything else is text, escaped.
public enum NarrationHTML {
    public static func render(_ lines: [String]) -> String {
        var out = ""
        var paragraph: [String] = []
        var list: (ordered: Bool, items: [String])?
        var i = 0
        func flush() {
            if !paragraph.isEmpty {
                out += "<p>" + inline(paragraph.joined(separator: " ")) + "</p>\n"
                paragraph = []
            }
            if let l = list {
                let tag = l.ordered ? "ol" : "ul"
                out += "<\(tag)>\n" + l.items.map { "<li>" + inline($0) + "</li>\n" }.joined() + "</\(tag)>\n"
                list = nil
            }
        }
        while i < lines.count {
            let line = lines[i]
            let t = line.trimmingCharacters(in: .whitespaces)
            if let fence = Fence(opening: line) {
                flush()
                var j = i + 1
                var code: [String] = []
                while j < lines.count, !fence.isClosed(by: lines[j]) { code.append(lines[j]); j += 1 }
                out += "<pre class=\"narration\"><code>" + code.map(Markup.escape).joined(separator: "\n") + "</code></pre>\n"
                i = j + 1
                continue
            }
            i += 1
            if t.isEmpty { flush(); continue }
            if let h = heading(t) {
                flush()
                out += "<h\(h.level)>" + inline(h.text) + "</h\(h.level)>\n"
                continue
            }
            if let item = listItem(t) {
                if !paragraph.isEmpty || (list != nil && list!.ordered != item.ordered) { flush() }
                if list == nil { list = (item.ordered, []) }
                list!.items.append(item.text)
                continue
            }
            if t.hasPrefix(">") {
                flush()
                out += "<blockquote><p>" + inline(String(t.dropFirst()).trimmingCharacters(in: .whitespaces)) + "</p></blockquote>\n"
                continue
            }
            if list != nil, line.first == " " || line.first == "\t" {
                list!.items[list!.items.count - 1] += " " + t
                continue
            }
            if list != nil { flush() }
            paragraph.append(t)
        }
        flush()
        return out
    }

    static func heading(_ t: String) -> (level: Int, text: String)? {
        let hashes = t.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes), t.dropFirst(hashes).first == " " else { return nil }
        // The lesson's own title is the page's h1; headings inside start at h2.
        return (min(6, hashes + 1), String(t.dropFirst(hashes)).trimmingCharacters(in: .whitespaces))
    }

    static func listItem(_ t: String) -> (ordered: Bool, text: String)? {
        for bullet in ["- ", "* ", "+ "] where t.hasPrefix(bullet) { return (false, String(t.dropFirst(2))) }
        let digits = t.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, digits.count <= 3, t.dropFirst(digits.count).hasPrefix(". ") {
            return (true, String(t.dropFirst(digits.count + 2)))
        }
        return nil
    }

    /// Inline Markdown: code spans first (their text stays as written), then bold, italic and links.
    public static func inline(_ s: String) -> String {
        var out = ""
        var text = ""
        let chars = Array(s)
        var i = 0
        func emit() { out += emphasis(text); text = "" }
        while i < chars.count {
            if chars[i] == "`" {
                let run = chars[i...].prefix { $0 == "`" }.count
                var j = i + run
                var found: Int?
                while j < chars.count {
                    if chars[j] == "`" {
                        let r = chars[j...].prefix { $0 == "`" }.count
                        if r == run { found = j; break }
                        j += r
                    } else {
                        j += 1
                    }
                }
                if let end = found {
                    emit()
                    let code = String(chars[(i + run)..<end]).trimmingCharacters(in: .whitespaces)
                    out += "<code>" + Markup.escape(code) + "</code>"
                    i = end + run
                    continue
                }
            }
            text.append(chars[i])
            i += 1
        }
        emit()
        return out
    }

    /// `**bold**`, `*italic*` and `[text](url)`, the text escaped.
    static func emphasis(_ s: String) -> String {
        var t = links(s)
        t = Markup.escape(t)
        t = replacePairs(t, "**", "<strong>", "</strong>")
        t = replacePairs(t, "*", "<em>", "</em>")
        return t
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
            let label = rest[rest.index(after: open)..<close]
            let url = rest[rest.index(close, offsetBy: 2)..<end]
            out += label + " (" + url + ")"
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    /// Replaces matched pairs of `mark` around non-blank text with the tags.
    static func replacePairs(_ s: String, _ mark: String, _ open: String, _ close: String) -> String {
        var out = ""
        var rest = Substring(s)
        while let a = rest.range(of: mark) {
            let after = rest[a.upperBound...]
            guard let b = after.range(of: mark), b.lowerBound > after.startIndex,
                  after.first != " ", after[after.index(before: b.lowerBound)] != " " else {
                out += rest[..<a.upperBound]
                rest = after
                continue
            }
            out += rest[..<a.lowerBound] + open + after[..<b.lowerBound] + close
            rest = after[b.upperBound...]
        }
        return out + rest
    }
}
