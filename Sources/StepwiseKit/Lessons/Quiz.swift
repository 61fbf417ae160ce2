import Foundation

/// A predict-then-reveal question: the student answers, then the `reveal` command shows the truth.
///
/// Written in a lesson as a fenced `quiz` block:
/// ```
/// question: How much of its attention does the last token put on the first?
/// answer: 0.25 ± 0.01
/// reveal: pattern 0 3
/// ```
public struct Quiz: Sendable, Equatable {
    /// The question shown to the student (continuation lines joined with spaces).
    public var question: String
    /// The right answer.
    public var answer: QuizAnswer
    /// The command run after the student answers, to show the truth; nil when there is none.
    public var reveal: LessonCommand?
    /// Which value of the reveal the answer is checked against (``QuizCheck``); nil: anywhere in its output.
    public var check: QuizCheck?
    /// The `output` block right after the quiz block: the reveal command's expected output.
    public var expected: ExpectedOutput?
    /// The 1-based line of the opening fence.
    public var line: Int

    public init(question: String, answer: QuizAnswer, reveal: LessonCommand? = nil, check: QuizCheck? = nil,
                expected: ExpectedOutput? = nil, line: Int) {
        self.question = question
        self.answer = answer
        self.reveal = reveal
        self.check = check
        self.expected = expected
        self.line = line
    }

    /// Checks a student's answer.
    ///
    /// - Number: the answer must parse as a number within the tolerance (inclusive).
    /// - Token: quotes around the answer (`'…'` or `"…"`, with `\n`, `\t`, `\'` escapes) are removed and the
    ///   text must match exactly; an unquoted answer is compared ignoring surrounding spaces, since a
    ///   leading space cannot be typed reliably.
    /// - Head: `L.H`, `L H`, `L,H` or `L0H3`.
    /// - Returns: ``QuizVerdict/unreadable(_:)`` when the answer is empty or not of the right kind
    ///   (the student may try again), else correct or wrong.
    public func check(answer text: String) -> QuizVerdict {
        let typed = text.trimmingCharacters(in: .whitespaces)
        switch answer {
        case .number(let value, let tolerance):
            guard let x = Double(typed), x.isFinite else {
                return .unreadable("expected a number, like 0.25")
            }
            return abs(x - value) <= tolerance * (1 + 1e-9) ? .correct : .wrong(expected: answer.description)
        case .token(let expected):
            guard !typed.isEmpty else { return .unreadable("expected a token, like ' Paris'") }
            if let quoted = QuizAnswer.unquote(typed) {
                return quoted == expected ? .correct : .wrong(expected: answer.description)
            }
            let bare = expected.trimmingCharacters(in: .whitespaces)
            return typed == bare && !bare.isEmpty ? .correct : .wrong(expected: answer.description)
        case .head(let layer, let head):
            guard let (l, h) = QuizAnswer.parseHead(typed) else {
                return .unreadable("expected a head as layer.head, like 0.3")
            }
            return l == layer && h == head ? .correct : .wrong(expected: answer.description)
        }
    }
}

/// The right answer to a ``Quiz``.
public enum QuizAnswer: Sendable, Equatable, CustomStringConvertible {
    /// A number; answers within `tolerance` of `value` are right.
    case number(Double, tolerance: Double)
    /// A token's text, e.g. `" Paris"` (leading space included).
    case token(String)
    /// An attention head: `head 0.3` is layer 0, head 3.
    case head(layer: Int, head: Int)

    /// The answer as shown to the student: `0.25 ± 0.01`, `' Paris'`, `head 0.3`.
    public var description: String {
        switch self {
        case .number(let v, let t): t == 0 ? "\(Self.format(v))" : "\(Self.format(v)) ± \(Self.format(t))"
        case .token(let s): TokenLabel.display(s)
        case .head(let l, let h): "head \(l).\(h)"
        }
    }

    /// Reads the value of an `answer:` line.
    ///
    /// Forms: `0.25 ± 0.01`, `0.25 +- 0.01`, `0.25 tolerance 0.01`, `12` (exactly 12: for counts),
    /// `token ' Paris'` (or `token Paris`, `token "it's"`), `head 0.3` (or `head 0 3`).
    /// - Throws: the reason it cannot be read, as a message without a location.
    public static func parse(_ text: String) throws(QuizAnswerSyntaxError) -> QuizAnswer {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { throw QuizAnswerSyntaxError("quiz answer is empty") }
        if let rest = s.dropPrefixWord("token") {
            if rest.isEmpty { throw QuizAnswerSyntaxError("quiz answer 'token' needs the token text, like token ' Paris'") }
            if let q = unquote(rest) { return .token(q) }
            if rest.first == "'" || rest.first == "\"" {
                throw QuizAnswerSyntaxError("quiz answer token \(rest): unterminated quote")
            }
            return .token(rest)
        }
        if let rest = s.dropPrefixWord("head") {
            guard let (l, h) = parseHead(rest) else {
                throw QuizAnswerSyntaxError("quiz answer head '\(rest)': expected layer.head, like head 0.3")
            }
            return .head(layer: l, head: h)
        }
        // A number, optionally with a tolerance.
        var valueText = s
        var toleranceText: String?
        for sep in ["±", "+/-", "+-", " tolerance "] {
            if let r = s.range(of: sep) {
                valueText = String(s[..<r.lowerBound]).trimmingCharacters(in: .whitespaces)
                toleranceText = String(s[r.upperBound...]).trimmingCharacters(in: .whitespaces)
                break
            }
        }
        guard let value = Double(valueText), value.isFinite else {
            throw QuizAnswerSyntaxError(
                "quiz answer '\(s)': expected a number with a tolerance (0.25 ± 0.01), token '…' or head L.H")
        }
        guard let tt = toleranceText else { return .number(value, tolerance: 0) }
        guard let tol = Double(tt), tol.isFinite, tol >= 0 else {
            throw QuizAnswerSyntaxError("bad tolerance '\(tt)': expected a number >= 0, like 0.01")
        }
        return .number(value, tolerance: tol)
    }

    /// `L.H`, `L H`, `L,H`, `L0H3` → (layer, head); nil when not that.
    static func parseHead(_ text: String) -> (Int, Int)? {
        var s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if s.hasPrefix("l"), let hIndex = s.firstIndex(of: "h") {
            s = String(s[s.index(after: s.startIndex)..<hIndex]) + "." + String(s[s.index(after: hIndex)...])
        }
        let parts = s.split(whereSeparator: { $0 == "." || $0 == " " || $0 == "," }).map(String.init)
        guard parts.count == 2, let l = Int(parts[0]), let h = Int(parts[1]), l >= 0, h >= 0 else { return nil }
        return (l, h)
    }

    /// The text inside `'…'` or `"…"` (the whole string must be the quoted text), with `\n \t \r \\ \' \"`
    /// unescaped; nil when the string is not quoted.
    static func unquote(_ text: String) -> String? {
        guard text.count >= 2, let q = text.first, q == "'" || q == "\"", text.last == q else { return nil }
        var out = ""
        var escaping = false
        for ch in text.dropFirst().dropLast() {
            if escaping {
                switch ch {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                default: out.append(ch)
                }
                escaping = false
            } else if ch == "\\" {
                escaping = true
            } else if ch == q {
                return nil  // an unescaped quote inside: not one quoted string
            } else {
                out.append(ch)
            }
        }
        return escaping ? nil : out
    }

    /// `0.25`, `3`, `1e-05`: the shortest text that reads back as the same number.
    static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return "\(x)"
    }
}

/// Why an `answer:` value cannot be read (the parser adds the file and line).
public struct QuizAnswerSyntaxError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// The result of ``Quiz/check(answer:)``.
public enum QuizVerdict: Sendable, Equatable {
    case correct
    /// Wrong; `expected` is the right answer as shown to the student.
    case wrong(expected: String)
    /// Not an answer of the right kind (empty, or not a number for a number question): ask again.
    case unreadable(String)
}

extension String {
    /// The rest after `word` and at least one space (or nothing), if the string starts with that word.
    fileprivate func dropPrefixWord(_ word: String) -> String? {
        guard hasPrefix(word) else { return nil }
        let rest = dropFirst(word.count)
        if rest.isEmpty { return "" }
        guard rest.first == " " || rest.first == "\t" else { return nil }
        return rest.trimmingCharacters(in: .whitespaces)
    }
}

/// The one value of a reveal that `stepwise check` compares a quiz's answer with:
///
/// - `check: value STEP[i, j, …]`: one element of a step of the trace after the reveal ran, at full
///   precision (`check: value pattern 0[0, 2, 2]`);
/// - `check: text BEFORE {} AFTER`: the first line of the reveal's output that reads BEFORE, a value,
///   then AFTER (`check: text next token: {}`, `check: text {} tokens from`); the value is a number, a
///   token in quotes (`','`) or a head (`0.2`), as the answer is.
public enum QuizCheck: Sendable, Equatable, CustomStringConvertible {
    case value(String)
    case text(before: String, after: String)

    public var description: String {
        switch self {
        case .value(let q): "value \(q)"
        case .text(let b, let a): "text \(b){}\(a)"
        }
    }

    static func parse(_ s: String) throws(StepwiseError) -> QuizCheck {
        if s.hasPrefix("value ") {
            let q = s.dropFirst(6).trimmingCharacters(in: .whitespaces)
            guard q.hasSuffix("]"), q.contains("[") else {
                throw StepwiseError(.file, "check: value needs a step and an index, like 'value pattern 0[0, 2, 2]'")
            }
            return .value(q)
        }
        if s.hasPrefix("text ") {
            let t = String(s.dropFirst(5))
            guard let r = t.range(of: "{}") else {
                throw StepwiseError(.file, "check: text needs {} where the value stands, like 'text next token: {}'")
            }
            return .text(before: String(t[..<r.lowerBound]), after: String(t[r.upperBound...]))
        }
        throw StepwiseError(.file, "check: is 'value STEP[index]' or 'text BEFORE {} AFTER', got '\(s)'")
    }
}
