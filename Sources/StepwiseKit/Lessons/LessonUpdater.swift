import Foundation

/// Rewrites a lesson's `output` blocks with what Stepwise prints now (`stepwise check --update`), and adds
/// an `output` block after every `stepwise` block and revealing quiz that lacks one. A teacher writes the
/// narration and commands, runs this once, and reviews the diff.
public enum LessonUpdater {
    /// The lesson text with every output block filled in from a replay.
    /// - Parameters:
    ///   - text: the lesson file's text.
    ///   - lesson: the same text, parsed.
    ///   - run: runs one command and returns its lines (throws on failure).
    /// - Throws: ``StepwiseError`` naming `file:line` of a command that fails.
    public static func updated(text: String, lesson: Lesson, run: (String) throws -> [String]) throws -> String {
        var lines = text.components(separatedBy: "\n")
        // Edits from the bottom up so earlier line numbers stay valid: (first line, lines replaced, new lines).
        var edits: [(Int, Int, [String])] = []
        func execute(_ c: LessonCommand) throws -> [String] {
            do { return try run(c.text) } catch let e as StepwiseError {
                throw StepwiseError(.file, "\(lesson.location(c.line)): '\(c.text)' failed: \(e.message)")
            }
        }
        func block(after line: Int, expected: ExpectedOutput?, output: [String]) {
            let fence = String(repeating: "`", count: max(3, (output.map(longestBacktickRun).max() ?? 0) + 1))
            if let e = expected {
                // Body lines e.line+1 ... e.line+e.lines.count (1-based), between the fences.
                edits.append((e.line, e.lines.count, output))
            } else {
                edits.append((line, 0, [fence + "output"] + output + [fence]))
            }
        }
        for b in lesson.blocks {
            switch b {
            case .narration: continue
            case .commands(let c):
                var out: [String] = []
                for cmd in c.commands { out += try execute(cmd) }
                block(after: lastLine(of: c.line, in: lines), expected: c.expected, output: trimmed(out))
            case .quiz(let q):
                guard let r = q.reveal else { continue }
                block(after: lastLine(of: q.line, in: lines), expected: q.expected, output: trimmed(try execute(r)))
            }
        }
        for (at, count, new) in edits.sorted(by: { $0.0 > $1.0 }) {
            lines.replaceSubrange(at..<(at + count), with: new)
        }
        return lines.joined(separator: "\n")
    }

    /// Output lines without trailing spaces or trailing blank lines, as the checker compares them.
    static func trimmed(_ out: [String]) -> [String] {
        var o = out.map { String($0.reversed().drop { $0 == " " }.reversed()) }
        while o.last == "" { o.removeLast() }
        return o
    }

    static func longestBacktickRun(_ s: String) -> Int {
        var best = 0, cur = 0
        for ch in s { cur = ch == "`" ? cur + 1 : 0; best = max(best, cur) }
        return best
    }

    /// The 0-based index just after the closing fence of the block opening at 1-based `line`.
    static func lastLine(of line: Int, in lines: [String]) -> Int {
        let open = lines[line - 1].trimmingCharacters(in: .whitespaces)
        let marker = String(open.prefix { $0 == "`" || $0 == "~" })
        var i = line
        while i < lines.count {
            let t = lines[i].trimmingCharacters(in: .whitespaces)
            if t.hasPrefix(marker) && t.drop(while: { $0 == marker.first }).isEmpty { return i + 1 }
            i += 1
        }
        return lines.count
    }
}
