/// When output goes through a pager, and which one: the rules, without the terminal.
///
/// Like psql and git: output taller than the terminal goes through `$PAGER` (`less -R -F -X` when it
/// is not set), only when standard output is a terminal. The pager's command line is split into words
/// here and started without a shell, so nothing in `PAGER` is ever run as a shell command.
public enum Paging {
    /// `set pager on|off|auto`.
    public enum Mode: String, CaseIterable, Sendable {
        /// Page only output taller than the terminal (the default).
        case auto
        /// Page every output (a pager such as `less -F` still prints short output at once).
        case on
        /// Never page.
        case off
    }

    /// The pager when neither `STEPWISE_PAGER` nor `PAGER` is set: colours pass (`-R`), short output is
    /// printed and the pager quits (`-F`), the screen is not cleared on exit (`-X`), so what was read
    /// stays on screen above the next prompt, and Space at the end goes on (`-e`) instead of waiting for
    /// `q`; its prompt names the keys.
    public static let defaultCommand = ["less", "-R", "-F", "-X", "-e", "-Ps?e(END) .Space more, b back, q done"]

    /// Terminal rows the lines take at `width` columns: a line wider than the terminal wraps onto more.
    public static func rows(_ lines: [String], width: Int) -> Int {
        let w = max(1, width)
        return lines.reduce(0) { $0 + max(1, (TextWidth.of($1) + w - 1) / w) }
    }

    /// Whether output should go through the pager.
    /// - Parameters:
    ///   - lines: the output.
    ///   - mode: the `pager` setting.
    ///   - isTerminal: standard output (and input) are a terminal a person reads; never pages otherwise.
    ///   - width, height: the terminal's size.
    ///   - reserve: rows that must stay free below the output (the next prompt or a lesson's key hint).
    public static func shouldPage(_ lines: [String], mode: Mode, isTerminal: Bool, width: Int, height: Int,
                                  reserve: Int = 1) -> Bool {
        guard isTerminal, !lines.isEmpty else { return false }
        switch mode {
        case .off: return false
        case .on: return true
        case .auto: return rows(lines, width: width) > max(1, height - reserve)
        }
    }

    /// The pager to run, as words: `STEPWISE_PAGER`, else `PAGER`, else ``defaultCommand``. nil when the
    /// variable is set but blank, or is `cat` (no pager: print directly).
    public static func command(environment: [String: String]) -> [String]? {
        let chosen = environment["STEPWISE_PAGER"] ?? environment["PAGER"]
        guard let text = chosen else { return defaultCommand }
        let words = split(text)
        guard let first = words.first, first != "cat" else { return nil }
        return words
    }

    /// Variables added to the pager's environment: the default `less` runs in its secure mode
    /// (`LESSSECURE=1`), so keys typed into it by mistake cannot run a shell (`!`) or save a file (`s`).
    /// A pager the user chose runs as they set it up.
    public static func extraEnvironment(for words: [String]) -> [String] {
        words == defaultCommand ? ["LESSSECURE=1"] : []
    }

    /// Splits a command line into words the way a shell would for a plain command, and nothing more:
    /// blanks separate words, single quotes keep everything literally, double quotes keep blanks (a
    /// backslash escapes `"` and `\` inside them), a backslash outside quotes escapes the next
    /// character. No variables, globs, pipes, `;` or redirections: those characters are literal.
    public static func split(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var started = false
        var quote: Character?
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            switch quote {
            case "'":
                if c == "'" { quote = nil } else { current.append(c) }
            case "\"":
                if c == "\"" {
                    quote = nil
                } else if c == "\\", let n = chars.first, n == "\"" || n == "\\" {
                    current.append(n)
                    chars = chars.dropFirst()
                } else {
                    current.append(c)
                }
            default:
                if c == " " || c == "\t" || c == "\n" {
                    if started { words.append(current) }
                    current = ""
                    started = false
                } else if c == "'" || c == "\"" {
                    quote = c
                    started = true
                } else if c == "\\", let n = chars.first {
                    current.append(n)
                    chars = chars.dropFirst()
                    started = true
                } else {
                    current.append(c)
                    started = true
                }
            }
        }
        if started { words.append(current) }
        return words
    }
}
