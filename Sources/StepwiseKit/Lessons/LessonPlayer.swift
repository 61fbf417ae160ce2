/// What the player asks the terminal to show, in order.
public enum LessonEvent: Sendable, Equatable {
    /// The lesson's title (first event of the first step).
    case title(String)
    /// Narration, already wrapped to the player's width, its Markdown rendered and its control
    /// characters made visible (``TerminalText/visible(_:)``).
    case narration([String])
    /// A command, to be shown as if typed at the prompt.
    case command(String)
    /// The output of the command just shown (possibly empty).
    case output([String])
    /// The command just shown threw: its message.
    case error(String)
    /// A quiz question: the host reads an answer and calls ``LessonPlayer/answer(_:run:)``.
    case quiz(String)
    /// The verdict on the student's answer.
    case verdict(QuizVerdict)
    /// The quiz was skipped (no answer given): the right answer, as shown to the student.
    case answer(String)
    /// Wait for a key: Enter → ``LessonPlayer/next(run:)``, `b` → ``LessonPlayer/back()``,
    /// `q` → ``LessonPlayer/quit()``. In `--no-pause` mode the host just goes on.
    case pause
    /// The lesson is over.
    case end
}

/// Plays a lesson step by step: a pure state machine that runs commands through a closure and returns
/// display events; all terminal I/O belongs to the host.
///
/// A *step* is the narration up to and including the next `stepwise` or `quiz` block (or trailing
/// narration). Each step's commands run exactly once, the first time it is shown: going ``back()`` and
/// ``next(run:)`` again replays the recorded output, so the session's state stays what the lesson built.
///
/// Host loop:
/// ```
/// var player = LessonPlayer(lesson: lesson, width: 80)
/// var events = player.next(run: run)
/// while true {
///     show(events)                                   // ends with .pause, .quiz or .end
///     if case .awaitingAnswer = player.state { events = player.answer(readLine(), run: run); continue }
///     if player.state == .finished || noPause && events.last == .end { break }
///     switch noPause ? "" : readKey() { case "b": events = player.back()
///                                       case "q": player.quit(); return
///                                       default: events = player.next(run: run) }
/// }
/// ```
/// `--no-pause` mode is ``playAll(run:)``.
public struct LessonPlayer {
    /// Where the player is.
    public enum State: Sendable, Equatable {
        /// Nothing shown yet.
        case notStarted
        /// A step has been shown; waiting for next/back/quit.
        case ready
        /// A quiz question has been shown; waiting for ``answer(_:run:)``.
        case awaitingAnswer
        /// The last step has been shown (``back()`` still works).
        case finished
        /// The student quit (the host keeps its session; the player keeps its state).
        case quit
    }

    public let lesson: Lesson
    /// Narration wrap width, in columns (may change between steps); narration never gets wider than
    /// ``Prose/readableWidth``.
    public var width: Int
    /// Render narration's bold and code with colour codes (else its marks are dropped, plain).
    public var color = false
    /// The steps, as ranges of indices into `lesson.blocks`.
    public let steps: [Range<Int>]
    public private(set) var state: State = .notStarted
    /// The index of the step shown last, nil before the first.
    public private(set) var stepIndex: Int?

    /// Outputs recorded per step (of its commands, or of its quiz's reveal), and its quiz verdict.
    private var played: [Int: Played] = [:]
    private struct Played {
        var runs: [Run] = []
        var verdict: QuizVerdict?
    }
    private enum Run { case output([String]), error(String) }

    /// - Precondition: `width > 0`.
    public init(lesson: Lesson, width: Int = 80) {
        precondition(width > 0, "player width must be positive, got \(width)")
        self.lesson = lesson
        self.width = width
        var steps: [Range<Int>] = []
        var start = 0
        for (i, b) in lesson.blocks.enumerated() {
            if case .narration = b { continue }
            steps.append(start..<(i + 1))
            start = i + 1
        }
        if start < lesson.blocks.count || steps.isEmpty { steps.append(start..<lesson.blocks.count) }
        self.steps = steps
    }

    /// The index in `lesson.blocks` of the first block of the current step (nil before the first step).
    public var blockIndex: Int? { stepIndex.map { steps[$0].lowerBound } }

    /// The quiz waiting for an answer, if any.
    public var pendingQuiz: Quiz? {
        guard state == .awaitingAnswer, let k = stepIndex, case .quiz(let q)? = lesson.blocks[steps[k]].last
        else { return nil }
        return q
    }

    /// Shows the next step (running its commands the first time). While a quiz waits for an answer,
    /// skips it (as `answer(nil)`). After the last step returns `[.end]`.
    public mutating func next(run: (String) throws -> [String]) -> [LessonEvent] {
        if state == .awaitingAnswer { return answer(nil, run: run) }
        let k = (stepIndex ?? -1) + 1
        guard k < steps.count else {
            state = .finished
            return [.end]
        }
        return show(k, run: run)
    }

    /// Shows the previous step again from what was recorded (nothing runs). At the first step, shows it
    /// again. Before the first step, returns nothing.
    public mutating func back() -> [LessonEvent] {
        guard let k = stepIndex else { return [] }
        return show(max(0, k - 1), run: { _ in
            preconditionFailure("a step shown before has its outputs recorded")
        })
    }

    /// Stops playing; the state is kept (``next(run:)`` continues from here if the host wants).
    public mutating func quit() {
        state = .quit
    }

    /// Answers the pending quiz: checks the answer, then runs the quiz's reveal command.
    /// - Parameter text: the student's answer, or nil to skip the question (then `.answer` shows the right
    ///   answer instead of a verdict).
    /// - Returns: `[.verdict(.unreadable)]` alone when the answer is not of the right kind (still awaiting);
    ///   else the verdict (or `.answer`), the reveal's `.command` and `.output`, then `.pause` or `.end`.
    ///   Empty when no quiz is pending.
    public mutating func answer(_ text: String?, run: (String) throws -> [String]) -> [LessonEvent] {
        guard let quiz = pendingQuiz, let k = stepIndex else { return [] }
        var p = Played()
        if let text {
            let v = quiz.check(answer: text)
            if case .unreadable = v { return [.verdict(v)] }
            p.verdict = v
        }
        if let reveal = quiz.reveal { p.runs = [Self.execute(reveal.text, run)] }
        played[k] = p
        return quizEnd(quiz, p) + finish(k)
    }

    /// `--no-pause` mode: every remaining step, quizzes skipped, ending with `.end` (no `.pause` events).
    public mutating func playAll(run: (String) throws -> [String]) -> [LessonEvent] {
        var all: [LessonEvent] = []
        while true {
            let events = next(run: run)
            all += events.filter { $0 != .pause }
            if events.last == .end { return all }
        }
    }

    // MARK: - Steps

    private mutating func show(_ k: Int, run: (String) throws -> [String]) -> [LessonEvent] {
        stepIndex = k
        var events: [LessonEvent] = k == 0 ? [.title(lesson.title)] : []
        for b in steps[k] {
            switch lesson.blocks[b] {
            case .narration(let n):
                // A stranger's text: control characters made visible before any style of ours is added.
                events.append(.narration(NarrationWrapper.wrap(n.lines.map(TerminalText.visible), width: Prose.width(width),
                                                               inline: color ? .color : .plain)))
            case .commands(let c):
                let p = played[k] ?? Played(runs: c.commands.map { Self.execute($0.text, run) })
                played[k] = p
                for (command, r) in zip(c.commands, p.runs) {
                    events.append(.command(command.text))
                    events.append(Self.event(r))
                }
            case .quiz(let q):
                events.append(.quiz(q.question))
                guard let p = played[k] else {
                    state = .awaitingAnswer
                    return events
                }
                events += quizEnd(q, p)
            }
        }
        return events + finish(k)
    }

    private func quizEnd(_ quiz: Quiz, _ p: Played) -> [LessonEvent] {
        var events: [LessonEvent] = [p.verdict.map { .verdict($0) } ?? .answer(quiz.answer.description)]
        if let reveal = quiz.reveal, let r = p.runs.first {
            events += [.command(reveal.text), Self.event(r)]
        }
        return events
    }

    private mutating func finish(_ k: Int) -> [LessonEvent] {
        if k == steps.count - 1 {
            state = .finished
            return [.end]
        }
        state = .ready
        return [.pause]
    }

    private static func execute(_ command: String, _ run: (String) throws -> [String]) -> Run {
        do { return .output(try run(command)) } catch { return .error("\(error)") }
    }

    private static func event(_ r: Run) -> LessonEvent {
        switch r {
        case .output(let lines): .output(lines)
        case .error(let message): .error(message)
        }
    }
}
