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

    /// The lesson files of a folder (every `.md` but the README), sorted, with their titles.
    public static func list(_ folder: String = lessonsFolder) -> [(file: String, title: String)] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".md") && $0.lowercased() != "readme.md" }.sorted()
        return files.map { f in
            let title = (try? LessonParser.load(path: folder + "/" + f))?.title ?? "(cannot be read)"
            return (f, title)
        }
    }

    /// A session with the lesson's model loaded, at the plain-mode settings lessons are written for.
    public static func session(for lesson: Lesson, baseDirectory: String) throws -> Session {
        var s = Session()
        let model = lesson.model.map { $0 == "builtin" ? nil : ($0.hasPrefix("/") ? $0 : baseDirectory + "/" + $0) } ?? nil
        do { try s.load(path: model) } catch let e as StepwiseError {
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

    /// Finds a lesson by path or by name in the lessons folder (`04` → `lessons/04-….md`).
    public static func find(_ name: String, _ context: CommandContext) throws -> String {
        let direct = ModelCommands.resolve(name, context)
        if FileManager.default.fileExists(atPath: direct) { return direct }
        let folder = lessonsFolder
        if let f = list(folder).first(where: { $0.file == name || $0.file.hasPrefix(name) }) {
            return folder + "/" + f.file
        }
        throw StepwiseError.file(name, "no such lesson ('lessons' lists them)")
    }

    /// Replays a lesson file without pausing and compares every output block.
    public static func check(path: String) throws -> LessonCheckResult {
        let lesson = try LessonParser.load(path: path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let box = SessionBox(try session(for: lesson, baseDirectory: base))
        let context = CommandContext(width: 80, color: false, interactive: false, baseDirectory: base)
        return LessonChecker.check(lesson: lesson, run: runner(box, interpreter: StandardCommands.interpreter(), context: context))
    }

    /// Rewrites the lesson's output blocks with what Stepwise prints now; returns whether the file changed.
    public static func update(path: String) throws -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw StepwiseError.file(path, "cannot be read")
        }
        let lesson = try LessonParser.parse(text: text, file: path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let box = SessionBox(try session(for: lesson, baseDirectory: base))
        let context = CommandContext(width: 80, color: false, interactive: false, baseDirectory: base)
        let new = try LessonUpdater.updated(text: text, lesson: lesson,
                                            run: runner(box, interpreter: StandardCommands.interpreter(), context: context))
        guard new != text else { return false }
        try Exporter.write(Data(new.utf8), to: path, force: true)
        return true
    }

    /// Event lines as plain text (for `--no-pause` and for batch mode).
    public static func lines(for events: [LessonEvent], width: Int) -> [String] {
        var out: [String] = []
        for e in events {
            switch e {
            case .title(let t): out += [t, String(repeating: "=", count: min(width, max(3, t.count))), ""]
            case .narration(let n): out += n + [""]
            case .command(let c): out.append("stepwise> " + c)
            case .output(let o): out += o + [""]
            case .error(let m): out += ["error: " + m, ""]
            case .quiz(let q): out += ["Quiz: " + q]
            case .verdict(let v):
                switch v {
                case .correct: out.append("Correct.")
                case .wrong(let expected): out.append("Not quite: the answer is \(expected).")
                case .unreadable(let why): out.append(why)
                }
            case .answer(let a): out += ["Answer: " + a, ""]
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
        "lessons", usage: "lessons",
        summary: "list the lessons with their titles",
        examples: ["lessons"]
    ) { _, _, _ in
        let all = LessonRunner.list()
        guard !all.isEmpty else { return ["no lessons in \(LessonRunner.lessonsFolder)"] }
        let w = all.map(\.file.count).max()!
        return all.map { $0.file.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + $0.title }
            + ["play one with 'lesson FILE' (Enter: next, b: back, q: quit to the REPL)"]
    }

    static let lesson = Command(
        "lesson", usage: "lesson FILE",
        summary: "play a lesson: narration, each command run as if typed, pauses (Enter next, b back, q quit)",
        help: "In a terminal the lesson pauses after each step; 'q' returns to the REPL with the lesson's state kept. Without a terminal it plays straight through.",
        examples: ["lesson 01", "lesson lessons/04-one-attention-head.md"],
        completion: .files
    ) { session, context, rest in
        let path = try LessonRunner.find(try Unescape.promptText(rest), context)
        let lesson = try LessonParser.load(path: path)
        let box = SessionBox(try LessonRunner.session(for: lesson, baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path))
        box.value.settings = session.settings
        var player = LessonPlayer(lesson: lesson, width: context.width)
        let events = player.playAll(run: LessonRunner.runner(box, interpreter: StandardCommands.interpreter(), context: context))
        session = box.value
        return LessonRunner.lines(for: events, width: context.width)
    }

    static let record = Command(
        "record", usage: "record FILE [--force]",
        summary: "write this session's commands and outputs as a lesson skeleton (Markdown)",
        examples: ["record my-lesson.md"],
        completion: .files
    ) { session, context, rest in
        var words = try Arguments.split(rest)
        let force = words.contains("--force")
        words.removeAll { $0 == "--force" }
        guard words.count == 1 else { throw StepwiseError.usage("usage: record FILE [--force]") }
        let entries = session.transcript.filter { !$0.command.hasPrefix("record") && !$0.command.hasPrefix("lesson") }
        guard !entries.isEmpty else { throw StepwiseError.usage("nothing to record yet: run some commands first") }
        let model = session.source == "builtin" ? nil : session.source
        let text = LessonRecorder.markdown(title: "Untitled lesson", model: model, session: entries)
        try Exporter.write(Data(text.utf8), to: ModelCommands.resolve(words[0], context), force: force)
        return ["wrote \(entries.count) commands to \(words[0]): add narration between the blocks"]
    }
}
