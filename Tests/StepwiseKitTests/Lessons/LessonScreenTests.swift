import Foundation
import Testing
@testable import StepwiseKit

private let lessonFiles: [String] = LessonRunner.list(TestPaths.repoRoot.appendingPathComponent("lessons").path).map(\.file)

/// Lessons as a class sees them at 80x24: every step's lines kept as snapshots, every line within
/// 80 columns, and at every quiz the output it asks about still on the screen.
@Suite("lessons at 80x24", .serialized, .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
struct LessonScreenTests {
    /// A lesson played at 80 columns, quizzes skipped: each step's lines as the terminal shows them.
    struct Played {
        /// One entry per shown step (a skipped quiz's answer and reveal are one more entry).
        var steps: [(title: String, lines: [String])] = []
        /// Index into `steps` of each quiz question, with its text.
        var quizzes: [(step: Int, question: String)] = []
    }

    static func play(_ file: String) throws -> Played {
        let path = TestPaths.repoRoot.appendingPathComponent("lessons/\(file)").path
        let p = try LessonRunner.prepare(path, context: LessonRunner.checkContext, mayWrite: false)
        let run = LessonRunner.runner(p.box, interpreter: StandardCommands.interpreter(), context: p.context)
        var player = LessonPlayer(lesson: p.lesson, width: 80)
        var played = Played()
        var events = player.next(run: run)
        var k = 1
        while true {
            played.steps.append(("step \(k) of \(player.steps.count)", LessonRunner.lines(for: events, width: 80)))
            if player.state == .awaitingAnswer, let q = player.pendingQuiz {
                played.quizzes.append((played.steps.count - 1, q.question))
                events = player.answer(nil, run: run)
                played.steps.append(("step \(k), the quiz skipped", LessonRunner.lines(for: events, width: 80)))
            }
            if player.state == .finished { break }
            events = player.next(run: run)
            k += 1
        }
        return played
    }

    @Test("every step at 80 columns, as its snapshot says; no line is wider", arguments: lessonFiles)
    func snapshot(file: String) throws {
        let played = try Self.play(file)
        var text = ""
        for (title, lines) in played.steps {
            text += "──── \(title) " + String(repeating: "─", count: max(0, 73 - title.count)) + "\n"
            text += lines.map(TextWidth.trimTrailing).joined(separator: "\n") + "\n"
            for line in lines where TextWidth.of(line) > 80 {
                Issue.record("\(file), \(title): \(TextWidth.of(line)) columns: \(line)")
            }
        }
        expectSnapshot(text, TestPaths.fixtures.appendingPathComponent("snapshots/lessons/\(file).txt"))
    }

    /// For each lesson, in quiz order, the lines a quiz asks about, which must be on the screen with its
    /// question (none: the question carries what it needs, or asks for a prediction).
    static let references: [String: [[String]]] = [
        "01-next-word.md": [[]],
        "02-tokens.md": [[]],
        "03-embeddings.md": [["2 ' the'"]],
        "04-one-head.md": [["1 ' c'   0.423"]],
        "05-many-heads.md": [["head 0.0         head 0.1         head 0.2         head 0.3", "6 ' Miss'  │"]],
        "05b-circuit.md": [["L1H2"], ["  1     │"], ["  0     │"]],
        "06-ffn-residual.md": [["0 │  -0.216"]],
        "07-choosing.md": [[]],
        "08-encoder-decoder.md": [[], []],
    ]

    @Test("at each quiz, what it asks about is on the 24-row screen with it", arguments: lessonFiles)
    func quizOnScreen(file: String) throws {
        let played = try Self.play(file)
        let hint = "[Enter] next  [b] back  [q] quit to the REPL"
        let wanted = try #require(Self.references[file], "say what \(file)'s quizzes refer to")
        #expect(wanted.count == played.quizzes.count, "\(file) has \(played.quizzes.count) quizzes")
        for ((i, question), needles) in zip(played.quizzes, wanted) {
            // The screen: everything printed so far, each pause's key hint on its own line, the quiz last;
            // a line wider than the terminal takes more rows. The bottom row holds the quiz's own key hint.
            var printed: [String] = []
            for s in played.steps[..<i] { printed += s.lines + [hint] }
            printed += played.steps[i].lines
            let rows = printed.flatMap { TextWidth.of($0) <= 80 ? [$0] : Prose.fill($0, width: 80) }
            let screen = rows.suffix(23)
            let asked = played.steps[i].lines.drop { !$0.hasPrefix("Quiz: ") }
            #expect(asked.allSatisfy { screen.contains($0) }, "\(file): the question does not fit the screen")
            for n in needles {
                #expect(screen.contains { $0.contains(n) },
                        "\(file): at the quiz '\(question.prefix(50))…' '\(n)' is not on the screen:\n\(screen.joined(separator: "\n"))")
            }
        }
    }
}
