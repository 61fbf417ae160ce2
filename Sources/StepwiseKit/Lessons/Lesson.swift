/// A parsed lesson: a Markdown file of narration, REPL commands, expected output and quizzes.
///
/// Made by ``LessonParser``; played by ``LessonPlayer``; checked by ``LessonChecker``.
/// The format is documented for teachers in `lessons/README.md`.
public struct Lesson: Sendable, Equatable {
    /// The path the lesson was read from, as given to the parser (used in every message about it).
    public var file: String
    /// The text of the first `# ` heading.
    public var title: String
    /// The model the lesson needs, from `<!-- model: NAME -->`, or nil when it does not say.
    public var model: String?
    /// The blocks in file order (the title heading and HTML comments are not blocks).
    public var blocks: [LessonBlock]

    public init(file: String, title: String, model: String? = nil, blocks: [LessonBlock]) {
        self.file = file
        self.title = title
        self.model = model
        self.blocks = blocks
    }

    /// `file:line`, the prefix of every message about a place in this lesson.
    public func location(_ line: Int) -> String { "\(file):\(line)" }
}

/// One unit of a lesson.
public enum LessonBlock: Sendable, Equatable {
    /// Prose shown to the student.
    case narration(Narration)
    /// A fenced `stepwise` block, with the `output` block after it if there is one.
    case commands(CommandBlock)
    /// A fenced `quiz` block, with the `output` block after it (the reveal's output) if there is one.
    case quiz(Quiz)

    /// The 1-based line of the block's first line in the file.
    public var line: Int {
        switch self {
        case .narration(let n): n.line
        case .commands(let c): c.line
        case .quiz(let q): q.line
        }
    }
}

/// Prose between fenced blocks: Markdown lines as written (plain code fences included verbatim).
public struct Narration: Sendable, Equatable {
    /// The lines, without leading or trailing blank lines.
    public var lines: [String]
    /// The 1-based line of the first line.
    public var line: Int

    public init(lines: [String], line: Int) {
        self.lines = lines
        self.line = line
    }
}

/// One REPL command of a lesson, with where it was written.
public struct LessonCommand: Sendable, Equatable {
    /// The command as typed, without surrounding whitespace.
    public var text: String
    /// The 1-based line in the file.
    public var line: Int

    public init(text: String, line: Int) {
        self.text = text
        self.line = line
    }
}

/// Output the lesson expects: the body of a fenced `output` block.
public struct ExpectedOutput: Sendable, Equatable {
    /// The lines of the block body, as written.
    public var lines: [String]
    /// The 1-based line of the opening fence.
    public var line: Int

    public init(lines: [String], line: Int) {
        self.lines = lines
        self.line = line
    }
}

/// A fenced `stepwise` block: commands run one after the other, and what they should print.
public struct CommandBlock: Sendable, Equatable {
    /// The commands, in order (blank lines and `#` comment lines are not commands).
    public var commands: [LessonCommand]
    /// The `output` block right after, if any: the output of all the commands, concatenated.
    public var expected: ExpectedOutput?
    /// The 1-based line of the opening fence.
    public var line: Int

    public init(commands: [LessonCommand], expected: ExpectedOutput? = nil, line: Int) {
        self.commands = commands
        self.expected = expected
        self.line = line
    }
}
