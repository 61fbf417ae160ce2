import Foundation

/// Replays a lesson's commands and compares what they print with the lesson's `output` blocks,
/// so lessons never rot.
///
/// What is checked:
/// - Every command of every `stepwise` block runs, in order, through one session (the `run` closure):
///   a command that throws is a failure naming its line.
/// - When an `output` block follows, the concatenated output of the block's commands must equal it,
///   line by line, after trimming trailing whitespace on each line and dropping trailing blank lines
///   (on both sides). A mismatch is a failure with a unified diff.
/// - A quiz's `reveal` command runs too (it must not throw); its output is compared with the quiz's
///   `output` block if there is one; and the quiz's answer must be consistent with that output:
///   a number answer needs some number in the output within the tolerance; a token answer must
///   appear in the output in the REPL's quoted form (`' Paris'`) or in double quotes; a head answer
///   must appear as `L.H` (e.g. `0.3`, not followed by a digit), `L0H3` or `L0.H3`.
///   A quiz without `reveal` cannot be checked: it is listed in ``LessonCheckResult/notes``.
public enum LessonChecker {
    /// Checks one lesson.
    /// - Parameters:
    ///   - lesson: the parsed lesson (the caller loads `lesson.model` into the session first).
    ///   - run: runs one REPL command in plain mode (no colour) and returns its output lines;
    ///     throws when the command fails.
    /// - Returns: every failure, in file order, and notes about what could not be checked.
    /// - Parameter value: one element of a step of the current trace, for quizzes with `check: value …`.
    public static func check(lesson: Lesson, run: (String) throws -> [String],
                             value: (String) throws -> Double = { _ in throw StepwiseError.usage("no trace to read a value from") }) -> LessonCheckResult {
        var result = LessonCheckResult(file: lesson.file)
        for block in lesson.blocks {
            switch block {
            case .narration:
                continue
            case .commands(let c):
                var actual: [String] = []
                var threw = false
                for command in c.commands {
                    result.commandsRun += 1
                    do {
                        actual += splitNewlines(try run(command.text))
                    } catch {
                        threw = true
                        result.failures.append(LessonCheckFailure(
                            file: lesson.file, line: command.line,
                            message: "command '\(command.text)' failed: \(error)"))
                    }
                }
                if let expected = c.expected, !threw {
                    result.outputsCompared += 1
                    if let f = compare(expected: expected, actual: actual, lesson: lesson,
                                       what: "stepwise block at line \(c.line)", line: c.line) {
                        result.failures.append(f)
                    }
                }
            case .quiz(let q):
                checkQuiz(q, lesson: lesson, run: run, value: value, into: &result)
            }
        }
        return result
    }

    private static func checkQuiz(_ q: Quiz, lesson: Lesson, run: (String) throws -> [String],
                                  value: (String) throws -> Double, into result: inout LessonCheckResult) {
        guard let reveal = q.reveal else {
            result.notes.append("\(lesson.location(q.line)): quiz answer \(q.answer) not checked: no reveal command")
            return
        }
        result.commandsRun += 1
        let actual: [String]
        do {
            actual = splitNewlines(try run(reveal.text))
        } catch {
            result.failures.append(LessonCheckFailure(
                file: lesson.file, line: reveal.line, message: "reveal command '\(reveal.text)' failed: \(error)"))
            return
        }
        if let expected = q.expected {
            result.outputsCompared += 1
            if let f = compare(expected: expected, actual: actual, lesson: lesson,
                               what: "quiz reveal at line \(reveal.line)", line: reveal.line) {
                result.failures.append(f)
            }
        }
        result.quizzesChecked += 1
        if let check = q.check {
            if let problem = mismatch(of: q.answer, check: check, output: normalize(actual), value: value) {
                result.failures.append(LessonCheckFailure(
                    file: lesson.file, line: q.line,
                    message: "quiz answer \(q.answer) does not agree with \(check) after '\(reveal.text)': \(problem)"))
            }
            return
        }
        result.notes.append("\(lesson.location(q.line)): quiz answer \(q.answer) checked against any value in the output; add check: to name the one")
        if let problem = inconsistency(of: q.answer, with: normalize(actual)) {
            result.failures.append(LessonCheckFailure(
                file: lesson.file, line: q.line,
                message: "quiz answer \(q.answer) does not agree with the output of '\(reveal.text)': \(problem)"))
        }
    }

    /// Why `answer` does not equal the value `check` names, or nil when it does.
    static func mismatch(of answer: QuizAnswer, check: QuizCheck, output: [String],
                         value: (String) throws -> Double) -> String? {
        switch check {
        case .value(let query):
            guard case .number(let want, let tolerance) = answer else { return "check: value needs a number answer" }
            let got: Double
            do { got = try value(query) } catch { return "cannot read \(query): \(error)" }
            return abs(got - want) <= tolerance * (1 + 1e-9) ? nil : "it is \(QuizAnswer.format(got))"
        case .text(let before, let after):
            for line in output {
                let start: String.Index
                if before.isEmpty { start = line.startIndex } else if let b = line.range(of: before) { start = b.upperBound } else { continue }
                var rest = line[start...]
                if !after.isEmpty {
                    guard let a = rest.range(of: after) else { continue }
                    rest = rest[..<a.lowerBound]
                }
                let field = rest.trimmingCharacters(in: .whitespaces)
                let token = String(field.split(separator: " ", maxSplits: 1).first ?? "")
                switch answer {
                case .number(let want, let tolerance):
                    guard let got = Double(token) else { continue }
                    return abs(got - want) <= tolerance * (1 + 1e-9) ? nil : "it reads \(token)"
                case .token(let want):
                    let label = TokenLabel.display(want)
                    return field.hasPrefix(label) ? nil : "it reads \(field)"
                case .head(let layer, let head):
                    guard let (l, h) = QuizAnswer.parseHead(token) else { continue }
                    return (l, h) == (layer, head) ? nil : "it reads \(token)"
                }
            }
            return "no line of the output reads '\(before){}\(after)'"
        }
    }

    /// Why `answer` does not agree with a reveal's output, or nil when it does.
    static func inconsistency(of answer: QuizAnswer, with output: [String]) -> String? {
        let text = output.joined(separator: "\n")
        switch answer {
        case .number(let value, let tolerance):
            let numbers = numbersIn(text)
            if numbers.contains(where: { abs($0 - value) <= tolerance * (1 + 1e-9) }) { return nil }
            let seen = numbers.prefix(8).map { QuizAnswer.format($0) }.joined(separator: ", ")
            return numbers.isEmpty ? "it shows no number"
                : "no number in it is within \(QuizAnswer.format(tolerance)) of \(QuizAnswer.format(value)) "
                + "(seen: \(seen)\(numbers.count > 8 ? ", …" : ""))"
        case .token(let token):
            let forms = [TokenLabel.display(token), "\"" + token + "\""]
            return forms.contains(where: { text.contains($0) }) ? nil : "it does not show \(forms[0])"
        case .head(let layer, let head):
            let patterns = ["(?<![0-9.])\(layer)\\.\(head)(?![0-9])", "(?i)\\bL\(layer)\\.?H\(head)(?![0-9])"]
            for p in patterns where text.range(of: p, options: .regularExpression) != nil { return nil }
            return "it does not mention \(layer).\(head) or L\(layer)H\(head)"
        }
    }

    /// Every decimal number in a text (`-0.25`, `3`, `1.5e-3`).
    static func numbersIn(_ text: String) -> [Double] {
        guard let re = try? NSRegularExpression(pattern: "-?[0-9]+(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?") else {
            return []
        }
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).compactMap {
            Double(ns.substring(with: $0.range))
        }
    }

    /// A failure with a diff when the output differs from the expected block, else nil.
    private static func compare(expected: ExpectedOutput, actual: [String], lesson: Lesson,
                                what: String, line: Int) -> LessonCheckFailure? {
        let e = normalize(expected.lines), a = normalize(actual)
        if e == a { return nil }
        return LessonCheckFailure(
            file: lesson.file, line: line,
            message: "output of the \(what) differs from the output block at line \(expected.line)",
            diff: unifiedDiff(expected: e, actual: a,
                              expectedLabel: "expected (\(lesson.location(expected.line)))", actualLabel: "actual"))
    }

    /// Output lines as compared: embedded newlines split, trailing whitespace trimmed on each line,
    /// trailing blank lines dropped.
    public static func normalize(_ lines: [String]) -> [String] {
        var out = splitNewlines(lines).map { line in
            var s = Substring(line)
            while let c = s.last, c.isWhitespace { s = s.dropLast() }
            return String(s)
        }
        while out.last == "" { out.removeLast() }
        return out
    }

    private static func splitNewlines(_ lines: [String]) -> [String] {
        lines.flatMap { l in
            l.contains("\n") ? l.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) : [l]
        }
    }

    /// A unified diff of two line lists: `--- expectedLabel`, `+++ actualLabel`, then hunks
    /// `@@ -start,count +start,count @@` (1-based line numbers within each list) with `context` lines around
    /// each change. Empty when the lists are equal.
    /// - Complexity: O(n·m) time and memory in the line counts.
    public static func unifiedDiff(expected: [String], actual: [String], expectedLabel: String = "expected",
                                   actualLabel: String = "actual", context: Int = 3) -> [String] {
        // Edit script from the longest common subsequence.
        let n = expected.count, m = actual.count
        var lcs = Array(repeating: Array(repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lcs[i][j] = expected[i] == actual[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        enum Op { case same, removed, added }
        var ops: [(op: Op, e: Int, a: Int)] = []  // e, a: indices before this op
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, expected[i] == actual[j] {
                ops.append((.same, i, j)); i += 1; j += 1
            } else if i < n, j == m || lcs[i + 1][j] >= lcs[i][j + 1] {
                ops.append((.removed, i, j)); i += 1  // removals first, as diff prints them
            } else {
                ops.append((.added, i, j)); j += 1
            }
        }
        let changed = ops.indices.filter { ops[$0].op != .same }
        guard !changed.isEmpty else { return [] }
        // Group changes whose context overlaps into hunks.
        var hunks: [ClosedRange<Int>] = []
        for k in changed {
            let lo = max(0, k - context), hi = min(ops.count - 1, k + context)
            if let last = hunks.last, lo <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, hi)
            } else {
                hunks.append(lo...hi)
            }
        }
        var out = ["--- \(expectedLabel)", "+++ \(actualLabel)"]
        for h in hunks {
            let slice = ops[h]
            let eCount = slice.filter { $0.op != .added }.count
            let aCount = slice.filter { $0.op != .removed }.count
            let eStart = eCount == 0 ? slice.first!.e : slice.first!.e + 1
            let aStart = aCount == 0 ? slice.first!.a : slice.first!.a + 1
            out.append("@@ -\(eStart),\(eCount) +\(aStart),\(aCount) @@")
            for o in slice {
                switch o.op {
                case .same: out.append(" " + expected[o.e])
                case .removed: out.append("-" + expected[o.e])
                case .added: out.append("+" + actual[o.a])
                }
            }
        }
        return out
    }
}

/// The outcome of ``LessonChecker/check(lesson:run:)``.
public struct LessonCheckResult: Sendable, Equatable {
    /// The lesson's file.
    public var file: String
    /// Every failure, in file order.
    public var failures: [LessonCheckFailure] = []
    /// What could not be checked (`file:line: …`), e.g. a quiz without a reveal command.
    public var notes: [String] = []
    /// Commands run, reveal commands included.
    public var commandsRun = 0
    /// `output` blocks compared.
    public var outputsCompared = 0
    /// Quiz answers checked against their reveal output.
    public var quizzesChecked = 0

    public init(file: String) { self.file = file }

    /// True when nothing failed.
    public var passed: Bool { failures.isEmpty }

    /// The report printed by `stepwise check`: each failure with its diff, the notes, then a summary line
    /// (`lessons/01.md: ok (12 commands, 5 outputs, 2 quizzes)` or `lessons/01.md: 2 failures`).
    public var report: [String] {
        var lines = failures.flatMap { [$0.headline] + $0.diff }
        lines += notes.map { "note: " + $0 }
        let counts = "\(commandsRun) commands, \(outputsCompared) outputs, \(quizzesChecked) quizzes"
        lines.append(passed ? "\(file): ok (\(counts))"
                     : "\(file): \(failures.count) failure\(failures.count == 1 ? "" : "s") (\(counts))")
        return lines
    }
}

/// One thing wrong with a lesson, at a place in its file.
public struct LessonCheckFailure: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// The 1-based line: the failing command, or the stepwise block whose output differs.
    public var line: Int
    /// What is wrong, one line.
    public var message: String
    /// A unified diff (expected vs actual output), empty when not an output mismatch.
    public var diff: [String]

    public init(file: String, line: Int, message: String, diff: [String] = []) {
        self.file = file
        self.line = line
        self.message = message
        self.diff = diff
    }

    /// `file:line: message`.
    public var headline: String { "\(file):\(line): \(message)" }

    /// The headline followed by the diff lines.
    public var description: String { ([headline] + diff).joined(separator: "\n") }
}
