import Foundation

/// Reads a lesson's Markdown text into a ``Lesson`` (format: `lessons/README.md`).
///
/// Every error is a ``StepwiseError`` of kind `.file` whose message starts with `file:line:`, e.g.
/// `lessons/03-embeddings.md:42: output block without a stepwise block before it`.
public enum LessonParser {
    /// The fence kinds with a meaning in a lesson; any other fence is narration shown verbatim.
    public static let fenceKinds = ["stepwise", "output", "quiz"]

    /// Parses a lesson.
    /// - Parameters:
    ///   - text: the Markdown text (`\n` or `\r\n` line ends).
    ///   - file: the path shown in messages, e.g. `lessons/03-embeddings.md`.
    /// - Throws: ``StepwiseError`` (`.file`) naming `file:line` and what is wrong.
    public static func parse(text: String, file: String) throws -> Lesson {
        // A byte-order mark, as some editors save, is not part of the lesson.
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        var reader = Reader(file: file, lines: splitLines(text))
        return try reader.read()
    }

    /// Reads and parses the lesson at `path` (the path is used as given in messages).
    /// - Throws: ``StepwiseError`` when the file cannot be read or the lesson is malformed.
    public static func load(path: String) throws -> Lesson {
        try Files.requireRegularFile(path, what: "lesson file (Markdown)")
        guard let data = try? MappedFile.data(path: path) else {
            throw StepwiseError.file(path, "cannot read the lesson file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw StepwiseError.file(path, "the lesson file is not UTF-8 text")
        }
        return try parse(text: text, file: path)
    }

    static func splitLines(_ text: String) -> [String] {
        // "\r\n" is one Character in Swift, so split on both.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

// MARK: - Reader

/// One pass over the lines of a lesson.
private struct Reader {
    let file: String
    let lines: [String]

    var title: String?
    var model: String?
    var blocks: [LessonBlock] = []
    /// Narration lines waiting to become a block: (text, 1-based line).
    var pending: [(String, Int)] = []
    /// The index in `blocks` of the stepwise or quiz block an `output` block may attach to (nothing but
    /// blank lines and HTML comments since it).
    var attachable: Int?

    init(file: String, lines: [String]) {
        self.file = file
        self.lines = lines
    }

    func error(_ line: Int, _ what: String) -> StepwiseError {
        StepwiseError.file("\(file):\(line)", what)
    }

    mutating func read() throws -> Lesson {
        var i = 0
        if let first = lines.first, first.trimmingCharacters(in: .whitespaces) == "---" {
            throw error(1, "YAML front matter is not supported; name the model with <!-- model: NAME -->")
        }
        while i < lines.count {
            let line = lines[i]
            let number = i + 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("<!--") {
                i = try readComment(from: i)
                continue
            }
            if let fence = Fence(opening: line) {
                i = try readFence(fence, from: i)
                continue
            }
            if title == nil, line.hasPrefix("# ") || line == "#" {
                let t = line.dropFirst(1).trimmingCharacters(in: .whitespaces)
                if t.isEmpty { throw error(number, "empty title: write '# Title of the lesson'") }
                title = t
                attachable = nil
                i += 1
                continue
            }
            if !trimmed.isEmpty { attachable = nil }
            pending.append((line, number))
            i += 1
        }
        flushNarration()
        guard let title else {
            throw error(1, "no title: a lesson needs a '# Title' heading")
        }
        return Lesson(file: file, title: title, model: model, blocks: blocks)
    }

    // MARK: Comments

    /// Skips an HTML comment starting at line `i` (reading `model:` from it); returns the next line index.
    mutating func readComment(from i: Int) throws -> Int {
        var body = ""
        var j = i
        while j < lines.count {
            let l = j == i ? String(lines[j].trimmingCharacters(in: .whitespaces).dropFirst(4)) : lines[j]
            if let end = l.range(of: "-->") {
                body += String(l[..<end.lowerBound])
                let after = l[end.upperBound...].trimmingCharacters(in: .whitespaces)
                if !after.isEmpty {
                    throw error(j + 1, "text after an HTML comment on the same line: put it on its own line")
                }
                break
            }
            body += l + "\n"
            j += 1
        }
        if j == lines.count { throw error(i + 1, "unterminated HTML comment: no '-->' before the end of the file") }
        let content = body.trimmingCharacters(in: .whitespacesAndNewlines)
        if content.hasPrefix("model:") {
            let name = content.dropFirst("model:".count).trimmingCharacters(in: .whitespaces)
            if name.isEmpty { throw error(i + 1, "empty model name: write <!-- model: builtin -->") }
            if name.contains("\n") { throw error(i + 1, "model comment must be one line: <!-- model: NAME -->") }
            if model != nil { throw error(i + 1, "second model comment: a lesson names one model") }
            model = name
        }
        return j + 1
    }

    // MARK: Fences

    /// Reads a fenced block opening at line `i`; returns the index of the line after its closing fence.
    mutating func readFence(_ fence: Fence, from i: Int) throws -> Int {
        var j = i + 1
        while j < lines.count, !fence.isClosed(by: lines[j]) { j += 1 }
        let opening = i + 1
        if j == lines.count {
            throw error(opening, "unterminated \(fence.marker)\(fence.info) fence: no closing \(fence.marker) "
                + "before the end of the file")
        }
        let body = Array(lines[(i + 1)..<j])
        let words = fence.info.split(whereSeparator: \.isWhitespace).map(String.init)
        let kind = words.first ?? ""
        if LessonParser.fenceKinds.contains(kind) {
            if words.count > 1 {
                throw error(opening, "unexpected '\(words.dropFirst().joined(separator: " "))' after ```\(kind): "
                    + "the fence line holds only the kind")
            }
            switch kind {
            case "stepwise": try addCommands(body, line: opening)
            case "output": try addOutput(body, line: opening)
            default: try addQuiz(body, line: opening)
            }
        } else {
            if let meant = Self.nearMiss(kind) {
                throw error(opening, "unknown fence kind '\(kind)': did you mean '\(meant)'? "
                    + "(lesson fences are stepwise, output and quiz)")
            }
            attachable = nil
            for k in i...j { pending.append((lines[k], k + 1)) }
        }
        return j + 1
    }

    /// The lesson fence kind `kind` looks like a misspelling of, if any (`ouput`, `Stepwise`, `stepwise-x`).
    static func nearMiss(_ kind: String) -> String? {
        let k = kind.lowercased()
        if k.isEmpty { return nil }
        if k.hasPrefix("stepwise") { return "stepwise" }
        for known in LessonParser.fenceKinds {
            let d = editDistance(k, known)
            if d == 0 || d <= (known.count <= 4 ? 1 : 2) { return known }
        }
        return nil
    }

    mutating func addCommands(_ body: [String], line: Int) throws {
        flushNarration()
        var commands: [LessonCommand] = []
        for (k, raw) in body.enumerated() {
            let t = raw.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            commands.append(LessonCommand(text: t, line: line + 1 + k))
        }
        if commands.isEmpty { throw error(line, "stepwise block has no commands") }
        blocks.append(.commands(CommandBlock(commands: commands, line: line)))
        attachable = blocks.count - 1
    }

    mutating func addOutput(_ body: [String], line: Int) throws {
        guard let index = attachable else {
            throw error(line, "output block without a stepwise block before it")
        }
        let expected = ExpectedOutput(lines: body, line: line)
        switch blocks[index] {
        case .commands(var c):
            c.expected = expected
            blocks[index] = .commands(c)
        case .quiz(var q):
            guard q.reveal != nil else {
                throw error(line, "output block after a quiz without a reveal command (quiz at line \(q.line))")
            }
            q.expected = expected
            blocks[index] = .quiz(q)
        case .narration:
            preconditionFailure("narration is never attachable")
        }
        attachable = nil
    }

    mutating func addQuiz(_ body: [String], line: Int) throws {
        flushNarration()
        var question: String?
        var answer: QuizAnswer?
        var reveal: LessonCommand?
        var check: QuizCheck?
        var lastKey: String?
        for (k, raw) in body.enumerated() {
            let n = line + 1 + k
            let t = raw.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            let startsIndented = raw.first == " " || raw.first == "\t"
            if let colon = t.firstIndex(of: ":"), !startsIndented {
                let key = String(t[..<colon])
                let value = t[t.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                switch key {
                case "question":
                    if question != nil { throw error(n, "quiz has two question: lines") }
                    if value.isEmpty { throw error(n, "empty quiz question") }
                    question = value
                case "answer":
                    if answer != nil { throw error(n, "quiz has two answer: lines") }
                    do { answer = try QuizAnswer.parse(value) } catch { throw self.error(n, error.message) }
                case "reveal":
                    if reveal != nil { throw error(n, "quiz has two reveal: lines (one command)") }
                    if value.isEmpty { throw error(n, "empty reveal: command") }
                    reveal = LessonCommand(text: value, line: n)
                case "check":
                    if check != nil { throw error(n, "quiz has two check: lines") }
                    do { check = try QuizCheck.parse(value) } catch { throw self.error(n, error.message) }
                default:
                    throw error(n, "unknown quiz field '\(key)' (expected question:, answer:, reveal: or check:)")
                }
                lastKey = key
            } else if startsIndented, lastKey == "question", let q = question {
                question = q + " " + t
            } else {
                throw error(n, "quiz line not understood: '\(t)' (expected question:, answer:, reveal: or check:; "
                    + "indent a question's continuation lines)")
            }
        }
        guard let question else { throw error(line, "quiz without a question: line") }
        guard let answer else {
            throw error(line, "quiz without an answer: line (answer: 0.25 ± 0.01, answer: token ' Paris' "
                + "or answer: head 0.3)")
        }
        if check != nil, reveal == nil { throw error(line, "a quiz with check: needs a reveal: command to check after") }
        blocks.append(.quiz(Quiz(question: question, answer: answer, reveal: reveal, check: check, line: line)))
        attachable = blocks.count - 1
    }

    // MARK: Narration

    mutating func flushNarration() {
        var p = pending[...]
        while let f = p.first, f.0.trimmingCharacters(in: .whitespaces).isEmpty { p = p.dropFirst() }
        while let l = p.last, l.0.trimmingCharacters(in: .whitespaces).isEmpty { p = p.dropLast() }
        if let first = p.first {
            blocks.append(.narration(Narration(lines: p.map(\.0), line: first.1)))
        }
        pending = []
    }
}

/// Levenshtein distance between two short strings.
private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var prev = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var cur = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return a.isEmpty ? b.count : prev[b.count]
}

// MARK: - Fence

/// A Markdown code fence (CommonMark: three or more backticks or tildes, indented at most three spaces).
struct Fence {
    /// The opening run, e.g. "```" or "````".
    let marker: String
    /// The info string after the marker, trimmed (`stepwise`, `python`, ``).
    let info: String

    /// The fence a line opens, or nil when it opens none.
    init?(opening line: String) {
        let indent = line.prefix(while: { $0 == " " })
        guard indent.count <= 3 else { return nil }
        let rest = line.dropFirst(indent.count)
        guard let c = rest.first, c == "`" || c == "~" else { return nil }
        let run = rest.prefix(while: { $0 == c })
        guard run.count >= 3 else { return nil }
        let info = rest.dropFirst(run.count).trimmingCharacters(in: .whitespaces)
        if c == "`", info.contains("`") { return nil }
        marker = String(run)
        self.info = info
    }

    /// True when `line` closes this fence: the same character, at least as many, nothing after.
    func isClosed(by line: String) -> Bool {
        let indent = line.prefix(while: { $0 == " " })
        guard indent.count <= 3 else { return false }
        let t = line.dropFirst(indent.count).trimmingCharacters(in: .whitespaces)
        guard let c = marker.first, t.count >= marker.count else { return false }
        return t.allSatisfy { $0 == c }
    }
}
