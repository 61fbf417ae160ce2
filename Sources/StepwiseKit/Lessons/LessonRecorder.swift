/// Writes a REPL session as a lesson skeleton (the REPL's `record` command): a title, then for each command
/// a placeholder narration line, a `stepwise` block and an `output` block. ``LessonParser`` reads it back.
public enum LessonRecorder {
    /// The narration placed before each block, for the teacher to replace.
    public static let placeholder = "Say what this shows."

    /// The Markdown text of a lesson skeleton.
    /// - Parameters:
    ///   - title: the lesson's title (`# title`); newlines become spaces.
    ///   - model: the model the session used, written as `<!-- model: NAME -->`; nil to leave it out.
    ///   - session: each command as typed and the lines it printed (plain mode), in order. Empty commands
    ///     and commands starting with `#` (which a lesson would read as comments) are left out.
    /// - Returns: the text, ending with a newline. Output blocks use a fence longer than any run of
    ///   backticks in the output, so any output reads back unchanged (trailing whitespace trimmed).
    public static func markdown(title: String = "Untitled lesson", model: String? = nil,
                                session: [(command: String, output: [String])]) -> String {
        var t = title.split(whereSeparator: \.isNewline).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
        if t.isEmpty { t = "Untitled lesson" }
        var out: [String] = []
        if let model, !model.isEmpty { out += ["<!-- model: \(model) -->", ""] }
        out += ["# \(t)", ""]
        for (command, output) in session {
            let c = command.split(whereSeparator: \.isNewline).joined(separator: " ")
                .trimmingCharacters(in: .whitespaces)
            if c.isEmpty || c.hasPrefix("#") { continue }
            let lines = LessonChecker.normalize(output)
            let fence = String(repeating: "`", count: max(3, longestBacktickRun(lines) + 1))
            out += [placeholder, "", "```stepwise", c, "```", fence + "output"] + lines + [fence, ""]
        }
        return out.joined(separator: "\n")
    }

    private static func longestBacktickRun(_ lines: [String]) -> Int {
        var best = 0
        for line in lines {
            var run = 0
            for ch in line {
                run = ch == "`" ? run + 1 : 0
                best = max(best, run)
            }
        }
        return best
    }
}
