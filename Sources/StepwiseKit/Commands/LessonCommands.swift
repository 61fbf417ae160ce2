import Foundation

/// Running lessons against a session: shared by `stepwise check`, `stepwise lesson` and the REPL.
public enum LessonRunner {
    /// The folder of lessons: `STEPWISE_LESSONS`, else `./lessons`, else the one beside the sources.
    public static var lessonsFolder: String {
        if let p = ProcessInfo.processInfo.environment["STEPWISE_LESSONS"] { return p }
        let cwd = FileManager.default.currentDirectoryPath + "/lessons"
        if FileManager.default.fileExists(atPath: cwd) { return cwd }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("lessons").path
    }

    /// The lesson files of a folder (every regular `.md` file but the README), sorted, with their titles.
    public static func list(_ folder: String = lessonsFolder) -> [(file: String, title: String)] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".md") && $0.lowercased() != "readme.md" && FileKind.at(folder + "/" + $0) == .regular }.sorted()
        return files.map { f in
            let title = (try? LessonParser.load(path: folder + "/" + f))?.title ?? "(cannot be read)"
            return (TerminalText.visible(f), TerminalText.visible(title))
        }
    }

    /// A lesson ready to play: parsed, in its sandbox, with a session holding its model.
    public struct Prepared {
        public let path: String
        public let lesson: Lesson
        public let box: SessionBox
        /// The context its commands run in: its folder, its sandbox.
        public let context: CommandContext
    }

    /// Finds, parses and sandboxes a lesson, and loads the model it names.
    /// - Parameters:
    ///   - name: the lesson as typed (a path, or a number in the lessons folder).
    ///   - context: where it was asked from; inside a lesson (``CommandContext/sandbox`` set) the new
    ///     lesson must lie in that lesson's folder and must not already be playing.
    ///   - mayWrite: false for `stepwise check`, whose lessons write nothing.
    public static func prepare(_ name: String, context: CommandContext, mayWrite: Bool) throws -> Prepared {
        let sandbox: LessonSandbox
        let path: String
        if let outer = context.sandbox {
            path = try find(name, context)
            sandbox = try outer.entering(lesson: path, shownAs: name)
        } else {
            path = try find(name, context)
            sandbox = try LessonSandbox.start(lesson: path, shownAs: name, mayWrite: mayWrite)
        }
        let lesson = try LessonParser.load(path: path)
        var inner = context
        inner.baseDirectory = sandbox.folder
        inner.sandbox = sandbox
        let box = SessionBox(try session(for: lesson, baseDirectory: sandbox.folder, context: inner))
        return Prepared(path: path, lesson: lesson, box: box, context: inner)
    }

    /// A session with the lesson's model loaded, at the plain-mode settings lessons are written for.
    /// The model may lie outside the lesson's folder: it is only loaded (special files are refused).
    public static func session(for lesson: Lesson, baseDirectory: String, context: CommandContext = CommandContext()) throws -> Session {
        var s = Session()
        let model = lesson.model.flatMap { $0 == "builtin" ? nil : Files.resolve($0, base: baseDirectory) }
        do {
            try ModelLoader.cancellable(context.isCancelled) { try s.load(path: model) }
        } catch let e as StepwiseError {
            throw StepwiseError(e.kind, "\(lesson.file): the lesson needs model '\(lesson.model ?? "builtin")': \(e.message)")
        }
        s.settings.width = 80
        return s
    }

    /// A closure that runs one command on the boxed session and returns its lines, throwing on failure.
    public static func runner(_ box: SessionBox, interpreter: Interpreter,
                              context: CommandContext) -> (String) throws -> [String] {
        return { line in
            switch interpreter.execute(line, in: &box.value, context: context) {
            case .output(let out): return out
            case .failure(let msg): throw StepwiseError.usage(msg.hasPrefix("error: ") ? String(msg.dropFirst(7)) : msg)
            case .quit: return []
            }
        }
    }

    /// Finds a lesson by path or by name in the lessons folder (`04` → `lessons/04-….md`); inside a
    /// lesson, by path or name in that lesson's folder only.
    public static func find(_ name: String, _ context: CommandContext) throws -> String {
        let direct = context.resolve(name)
        if FileKind.at(direct) != .missing { return direct }
        let folder = context.sandbox?.folder ?? lessonsFolder
        let files = list(folder).map(\.file)
        // `04`, `04-one`, or a number without its zeros: `lesson 1` is lessons/01-….md.
        let number = Int(name).map { n in { (f: String) in Int(f.prefix { $0.isNumber }) == n && f.dropFirst(f.prefix { $0.isNumber }.count).first == "-" } }
        if let f = files.first(where: { $0 == name || $0.hasPrefix(name) }) ?? number.flatMap({ files.first(where: $0) }) {
            return folder + "/" + f
        }
        throw StepwiseError.file(name, "no such lesson ('lessons' lists them)")
    }

    /// The context `stepwise check` replays in: 80 columns, no colour, not interactive.
    static var checkContext: CommandContext {
        CommandContext(width: 80, color: false, interactive: false, baseDirectory: FileManager.default.currentDirectoryPath)
    }

    /// Replays a lesson file without pausing and compares every output block. Writes nothing.
    public static func check(path: String) throws -> LessonCheckResult {
        let p = try prepare(path, context: checkContext, mayWrite: false)
        return LessonChecker.check(lesson: p.lesson, run: runner(p.box, interpreter: StandardCommands.interpreter(), context: p.context),
                                   value: { query in try value(query, in: p.box.value) })
    }

    /// One element of a step of the session's trace: `pattern 0[0, 2, 2]` (every axis indexed).
    static func value(_ query: String, in session: Session) throws -> Double {
        let trace = try session.requireTrace()
        let q = try StepQuery.parse(query, in: trace)
        let (t, _) = StepRenderer.slice(trace[q.name]!, q.selections)
        guard t.count == 1 else {
            throw StepwiseError.usage("'\(query)' selects \(t.count) values; index every axis to name one")
        }
        return Double(t.data[0])
    }

    /// Rewrites the lesson's output blocks with what Stepwise prints now; returns whether the file changed.
    /// The lesson's own commands write nothing; only the lesson file is replaced, whole.
    public static func update(path: String) throws -> Bool {
        let p = try prepare(path, context: checkContext, mayWrite: false)
        guard let text = String(data: try MappedFile.data(path: p.path), encoding: .utf8) else {
            throw StepwiseError.file(path, "the lesson file is not UTF-8 text")
        }
        let lesson = try LessonParser.parse(text: text, file: path)
        let new = try LessonUpdater.updated(text: text, lesson: lesson,
                                            run: runner(p.box, interpreter: StandardCommands.interpreter(), context: p.context))
        guard new != text else { return false }
        try AtomicFile.write(Data(new.utf8), to: p.path, replace: true, shownAs: path)
        return true
    }

    /// Event lines as the terminal shows them (the interactive player, `--no-pause` and batch mode),
    /// every line within `width` columns: commands, quiz questions and verdicts wrap on word boundaries.
    /// - Parameter color: quiz questions render their bold and code with colour codes (narration is
    ///   rendered by the player).
    public static func lines(for events: [LessonEvent], width: Int, color: Bool = false) -> [String] {
        var out: [String] = []
        // Lesson text is a stranger's: every control character in it prints visibly (TerminalText).
        let visible = TerminalText.visible
        func prose(_ text: String, _ first: String) -> [String] {
            Prose.wrap(text, width: width, first: first)
        }
        for e in events {
            switch e {
            case .title(let t):
                let title = Prose.wrap(NarrationStyle.line(visible(t), color: false), width: width)
                out += title.map { color ? ANSI.bold + $0 + ANSI.reset : $0 }
                out += [String(repeating: "=", count: min(Prose.width(width), max(3, title.map(TextWidth.of).max() ?? 3))), ""]
            case .narration(let n): out += n + [""]
            case .command(let c):
                // As typed at the prompt; a long one continues under its start, as a terminal would show it.
                out += Prose.wrap(visible(c), width: width, first: "stepwise> ", cap: false)
            case .output(let o): out += o + [""]
            // One error, one line (the terminal or the pager wraps it), as everywhere else.
            case .error(let m): out += ["error: " + visible(m), ""]
            case .quiz(let q): out += prose(NarrationStyle.line(visible(q), color: color), "Quiz: ")
            case .verdict(let v):
                switch v {
                case .correct: out.append("Correct.")
                case .wrong(let expected): out += prose("Not quite: the answer is \(visible(expected)).", "")
                case .unreadable(let why): out += prose(visible(why), "")
                }
            case .answer(let a): out += prose(visible(a), "Answer: ") + [""]
            case .pause: break
            case .end: out.append("— end of lesson —")
            }
        }
        return out
    }
}

/// A session shared by reference, for closures that run commands on it (lesson players, completion).
public final class SessionBox: @unchecked Sendable {
    public var value: Session
    public init(_ value: Session) { self.value = value }
}

/// `lessons`, `lesson FILE` (played straight through when there is no terminal), `record FILE`.
enum LessonCommands {
    static let lessons = Command(
        "lessons", usage: "lessons [FOLDER]",
        summary: "list the lessons with their titles (the lessons folder: STEPWISE_LESSONS, ./lessons, or the one that ships; or FOLDER)",
        examples: ["lessons", "lessons ~/my-class"],
        completion: .files
    ) { session, context, rest in
        let given = try Unescape.promptText(rest)
        if !given.isEmpty, context.sandbox != nil {
            throw StepwiseError.usage("inside a lesson, 'lessons' lists the lesson's own folder only")
        }
        let folder = given.isEmpty ? (context.sandbox?.folder ?? LessonRunner.lessonsFolder) : context.resolve(given)
        if !given.isEmpty, FileKind.at(folder) != .directory { throw StepwiseError.file(given, "is not a folder") }
        let all = LessonRunner.list(folder)
        guard !all.isEmpty else { return ["no lessons in \(folder)"] }
        let w = all.map(\.file.count).max()!
        let width = session.settings.width ?? context.width
        return all.flatMap { Prose.wrap($0.title, width: width, first: $0.file.padding(toLength: w, withPad: " ", startingAt: 0) + "  ") }
            + Prose.wrap("play one with 'lesson FILE' or its number (one key at each pause: Enter next, b back, q quit to the REPL)", width: width)
    }

    static let lesson = Command(
        "lesson", usage: "lesson FILE",
        summary: "play a lesson: narration, each command run as if typed, pauses (Enter next, b back, q quit)",
        help: "In a terminal the lesson pauses after each step; 'q' returns to the REPL with the lesson's state kept. Without a terminal it plays straight through.",
        examples: ["lesson 1", "lesson 04", "lesson lessons/04-one-head.md"],
        completion: .files
    ) { session, context, rest in
        let p = try LessonRunner.prepare(try Unescape.promptText(rest), context: context, mayWrite: context.sandbox?.mayWrite ?? true)
        p.box.value.settings = session.settings
        var player = LessonPlayer(lesson: p.lesson, width: context.width)
        player.color = context.color && session.settings.color
        let events = player.playAll(run: LessonRunner.runner(p.box, interpreter: StandardCommands.interpreter(), context: p.context))
        session = p.box.value
        return LessonRunner.lines(for: events, width: context.width, color: player.color)
    }

    /// The entries with the output `stepwise check` will see: every command run again, in order, in a
    /// fresh session on the lesson's model at 80 columns, no colour, no timings. Commands that write
    /// files (which a checked lesson may not) keep the output they had, without colour or timing.
    static func replayedPlain(_ entries: [(command: String, output: [String])], model: String?,
                              context: CommandContext) throws -> [(command: String, output: [String])] {
        var replay = Session()
        try ModelLoader.cancellable(context.isCancelled) { try replay.load(path: model) }
        replay.settings.width = 80
        let base = context.baseDirectory ?? FileManager.default.currentDirectoryPath
        let plain = CommandContext(width: 80, color: false, interactive: false, isCancelled: context.isCancelled,
                                   baseDirectory: base,
                                   sandbox: LessonSandbox(folder: Files.realPath(base) ?? base, chain: [], mayWrite: false))
        let interpreter = StandardCommands.interpreter()
        return entries.map { e in
            let word = e.command.prefix { !$0.isWhitespace }
            guard word != "export" else { return (e.command, e.output.map(Timing.plain)) }
            switch interpreter.execute(e.command, in: &replay, context: plain) {
            case .output(let out): return (e.command, out)
            case .failure, .quit: return (e.command, e.output.map(Timing.plain))
            }
        }
    }

    static let record = Command(
        "record", usage: "record FILE [--force]",
        summary: "write this session's commands and outputs as a lesson skeleton (Markdown), or as a page (FILE.html)",
        help: "FILE.html writes one self-contained page: each command, its output, and its heatmaps and bar charts as pictures (hover a cell for its value); it loads nothing from the network.",
        examples: ["record my-lesson.md", "record class.html"],
        completion: .files
    ) { session, context, rest in
        var words = try Arguments.split(rest)
        let force = words.contains("--force")
        words.removeAll { $0 == "--force" }
        guard words.count == 1 else { throw StepwiseError.usage("usage: record FILE [--force]") }
        let entries = session.transcript.filter { !$0.command.hasPrefix("record") && !$0.command.hasPrefix("lesson") }
        guard !entries.isEmpty else { throw StepwiseError.usage("nothing to record yet: run some commands first") }
        if words[0].lowercased().hasSuffix(".html") {
            let page = SessionHTML.render(entries, session: session, context: context)
            try Exporter.write(Data(page.utf8), to: try context.writablePath(words[0], command: "record", force: force),
                               force: force, shownAs: words[0])
            return ["wrote \(entries.count) commands to \(words[0]) (one page, pictures inline)"]
        }
        let model = session.source == "builtin" ? nil : session.source
        let text = LessonRecorder.markdown(title: "Untitled lesson", model: model,
                                           session: try replayedPlain(entries, model: model, context: context))
        try Exporter.write(Data(text.utf8), to: try context.writablePath(words[0], command: "record", force: force),
                           force: force, shownAs: words[0])
        return ["wrote \(entries.count) commands to \(words[0]): add narration between the blocks"]
    }
}
