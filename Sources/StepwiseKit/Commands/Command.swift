import Foundation

/// One REPL command: its names, help, completion and what it does.
///
/// The REPL loop, the lesson player and batch mode (`-e`, stdin) all run the same commands through
/// an ``Interpreter``.
public struct Command: Sendable {
    /// The name typed, e.g. `show`.
    public var name: String
    /// Other names, e.g. `n` for `next`.
    public var aliases: [String]
    /// Argument synopsis, e.g. `show NAME[slices]`.
    public var usage: String
    /// One line for the command list.
    public var summary: String
    /// Longer help for `help NAME`.
    public var help: String
    /// Runnable examples for `help NAME`.
    public var examples: [String]
    /// What tab completion offers for the arguments.
    public var completion: Completion
    /// Runs the command on the rest of the line; returns the lines to print.
    public var run: @Sendable (inout Session, CommandContext, String) throws -> [String]

    public init(_ name: String, aliases: [String] = [], usage: String, summary: String, help: String = "",
                examples: [String] = [], completion: Completion = .none,
                run: @escaping @Sendable (inout Session, CommandContext, String) throws -> [String]) {
        self.name = name
        self.aliases = aliases
        self.usage = usage
        self.summary = summary
        self.help = help
        self.examples = examples
        self.completion = completion
        self.run = run
    }

    /// What the arguments of a command complete to.
    public enum Completion: Sendable, Equatable {
        case none, files, settings, commands
        /// A step of the loaded model's trace: full names and short forms (`pattern`, then a layer, then
        /// `head` and a head); with `thenFile`, a file name after it (`export NAME FILE`).
        case steps(thenFile: Bool = false)
        /// One layer (`heads 1`, `ffn 0`).
        case layer
        /// A layer, a head, then one of `then` (`attn 0 1 all`, `weights 0 1 q`).
        case layerHead(then: [String] = [])
        /// LAYER HEAD pairs, as many as wanted, or one of `extra` (`ablate 0 1 1 2 mean`, `restore steer`).
        case headPairs(extra: [String])

        /// Step names only.
        public static var steps: Completion { .steps() }
    }
}

/// What a command may use of its surroundings besides the session.
public struct CommandContext: Sendable {
    /// Columns available for output.
    public var width: Int
    /// Rows of the screen, for views that keep something in sight (`steps` shows a window around its
    /// cursor); 24 when there is no terminal.
    public var height: Int = 24
    /// True when colour escapes may be printed.
    public var color: Bool
    /// True when the output is a terminal a person watches (progress may be printed as it comes).
    public var interactive: Bool
    /// Checked between units of long work; true once the user pressed Ctrl-C.
    public var isCancelled: @Sendable () -> Bool
    /// Prints a line at once (for output that arrives over time, such as generated tokens).
    public var emit: @Sendable (String) -> Void
    /// The folder relative paths are resolved against (a lesson's folder, or the working directory).
    public var baseDirectory: String?
    /// Set while a lesson runs: what its commands may read and write (``LessonSandbox``).
    public var sandbox: LessonSandbox?
    /// Where pictures go that the terminal can draw (`set images`): set only by the interactive REPL at
    /// a terminal; nil in batch mode, for pipes and files, and always nil inside a lesson.
    public var images: InlineImages? {
        get { sandbox == nil ? inlineImages : nil }
        set { inlineImages = newValue }
    }
    private var inlineImages: InlineImages?

    public init(width: Int = 80, color: Bool = false, interactive: Bool = false,
                isCancelled: @escaping @Sendable () -> Bool = { false },
                emit: @escaping @Sendable (String) -> Void = { _ in }, baseDirectory: String? = nil,
                sandbox: LessonSandbox? = nil) {
        self.width = width
        self.color = color
        self.interactive = interactive
        self.isCancelled = isCancelled
        self.emit = emit
        self.baseDirectory = baseDirectory
        self.sandbox = sandbox
    }

    /// A path as typed, made absolute against ``baseDirectory`` (`~` expanded once).
    public func resolve(_ typed: String) -> String {
        Files.resolve(typed, base: baseDirectory)
    }

    /// The path a command may write FILE (as typed) to: resolved, and inside a lesson checked against
    /// its sandbox (a new file inside the lesson's folder, no `--force`, nothing while checking).
    public func writablePath(_ typed: String, command: String, force: Bool) throws -> String {
        let path = resolve(typed)
        guard let sandbox else { return path }
        return try sandbox.checkWrite(path, shownAs: typed, command: command, force: force)
    }
}

/// Splits an argument string into words, honouring double quotes and backslash escapes.
public enum Arguments {
    /// `load "my model"  --force` → `["load", "my model", "--force"]`.
    public static func split(_ text: String) throws -> [String] {
        var words: [String] = []
        var cur = ""
        var inQuotes = false
        var started = false
        var it = text.makeIterator()
        while let c = it.next() {
            if c == "\\" && inQuotes {
                guard let n = it.next() else { throw StepwiseError.usage("a backslash ends the line") }
                cur.append(Unescape.character(n) ?? n)
                continue
            }
            if c == "\"" { inQuotes.toggle(); started = true; continue }
            if c.isWhitespace && !inQuotes {
                if started || !cur.isEmpty { words.append(cur); cur = ""; started = false }
                continue
            }
            cur.append(c)
        }
        guard !inQuotes else { throw StepwiseError.usage("a double quote is not closed") }
        if started || !cur.isEmpty { words.append(cur) }
        return words
    }

    /// Integer argument with a range check and a message naming it.
    public static func int(_ word: String?, _ what: String, range: ClosedRange<Int>? = nil) throws -> Int {
        guard let word else { throw StepwiseError.usage("missing \(what)") }
        guard let n = Int(word) else { throw StepwiseError.usage("\(what) must be a whole number, got '\(word)'") }
        if let range, !range.contains(n) {
            throw StepwiseError(.model, "\(what) \(n) is out of range (\(range.lowerBound)–\(range.upperBound))")
        }
        return n
    }
}

/// Backslash escapes in quoted text: `\n`, `\t`, `\r`, `\"`, `\\`.
public enum Unescape {
    static func character(_ c: Character) -> Character? {
        switch c {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        default: return nil
        }
    }

    /// A prompt's text: the rest of the line, or, when wrapped in double quotes, the quoted text with
    /// its escapes understood.
    public static func promptText(_ raw: String) throws -> String {
        let t = raw.trimmingCharacters(in: .whitespaces)
        guard t.count >= 2, t.hasPrefix("\""), t.hasSuffix("\"") else { return t }
        var out = ""
        var it = t.dropFirst().dropLast().makeIterator()
        while let c = it.next() {
            if c == "\\" {
                guard let n = it.next() else { throw StepwiseError.usage("the prompt ends in a lone backslash") }
                guard let e = character(n) else {
                    throw StepwiseError.usage("unknown escape '\\\(n)' in the prompt (use \\n, \\t, \\r, \\\" or \\\\)")
                }
                out.append(e)
            } else {
                out.append(c)
            }
        }
        return out
    }
}
