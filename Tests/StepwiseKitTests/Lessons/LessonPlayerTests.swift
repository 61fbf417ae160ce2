import Testing
@testable import StepwiseKit

@Suite("LessonPlayer")
struct LessonPlayerTests {
    let lesson: Lesson
    init() throws { lesson = try LessonParser.parse(text: sampleLesson, file: "lessons/01.md") }

    func repl() -> FakeREPL { FakeREPL(LessonCheckerTests.good) }

    @Test("steps group narration with the next stepwise or quiz block")
    func steps() {
        let p = LessonPlayer(lesson: lesson)
        #expect(p.steps == [0..<2, 2..<4, 4..<5, 5..<6, 6..<7])
        #expect(p.state == .notStarted)
        #expect(p.stepIndex == nil)
    }

    @Test("event sequence, quiz answers, back replays without running, next continues")
    func sequence() {
        var p = LessonPlayer(lesson: lesson, width: 30)
        let r = repl()
        #expect(p.next(run: r.run) == [
            .title("Where does the last token look?"),
            // 30 columns, measured without the bold marks, which are rendered (here without colour).
            .narration(["Every head turns scores into a", "pattern: one row per query."]),
            .command("prompt The capital of France is"), .output([]),
            .command("pattern 0 3"), .output(["row 0: 1.00   ", "row 1: 0.25 0.75", "", ""]),
            .pause,
        ])
        #expect(p.state == .ready && p.blockIndex == 0)
        #expect(p.next(run: r.run) == [
            .narration(["```python", "print(\"shown verbatim\")", "```"]),
            .quiz("What weight does the last token give the first? Answer between 0 and 1."),
        ])
        #expect(p.state == .awaitingAnswer && p.blockIndex == 2)
        #expect(p.answer("lots", run: r.run) == [.verdict(.unreadable("expected a number, like 0.25"))])
        #expect(p.state == .awaitingAnswer)
        #expect(r.ran.count == 2)
        let answered: [LessonEvent] = [
            .verdict(.correct), .command("pattern 0 3"), .output(["row 0: 1.00   ", "row 1: 0.25 0.75", "", ""]),
            .pause,
        ]
        #expect(p.answer("0.255", run: r.run) == answered)
        #expect(r.ran.count == 3)
        // Back shows step 0 from the record; next shows the answered quiz from the record.
        let back = p.back()
        #expect(back.first == .title("Where does the last token look?") && back.last == .pause)
        #expect(p.stepIndex == 0)
        #expect(p.next(run: r.run).suffix(4) == answered[...])
        #expect(r.ran.count == 3)
        // A skipped quiz shows the answer; no reveal here.
        #expect(p.next(run: r.run) == [.quiz("Which token comes next?")])
        #expect(p.next(run: r.run) == [.answer("' Paris'"), .pause])
        #expect(p.next(run: r.run) == [.quiz("Which head copies?")])
        #expect(p.answer("2.4", run: r.run) == [.verdict(.wrong(expected: "head 1.4")), .command("heads"),
                                               .output(["L1H4 copies"]), .pause])
        #expect(p.next(run: r.run) == [.narration(["Done."]), .end])
        #expect(p.state == .finished)
        #expect(p.next(run: r.run) == [.end])
        #expect(r.ran == ["prompt The capital of France is", "pattern 0 3", "pattern 0 3", "heads"])
        p.quit()
        #expect(p.state == .quit && p.stepIndex == 4)
    }

    @Test("a failing command becomes an error event and play goes on")
    func errors() {
        var p = LessonPlayer(lesson: lesson)
        let r = FakeREPL(["pattern 0 3": ["ok"]])
        let events = p.next(run: r.run)
        #expect(events.contains(.error("unknown command 'prompt The capital of France is'")))
        #expect(events.contains(.output(["ok"])))
    }

    @Test("--no-pause plays everything, skipping quizzes, without pauses")
    func noPause() {
        var p = LessonPlayer(lesson: lesson, width: 80)
        let r = repl()
        let events = p.playAll(run: r.run)
        #expect(!events.contains(.pause))
        #expect(events.last == .end)
        #expect(events.filter { if case .answer = $0 { true } else { false } }
            == [.answer("0.25 ± 0.01"), .answer("' Paris'"), .answer("head 1.4")])
        #expect(r.ran == ["prompt The capital of France is", "pattern 0 3", "pattern 0 3", "heads"])
        #expect(p.state == .finished)
    }

    @Test("narration renders its Markdown: bold and code in colour when colour is on, the marks dropped otherwise; control characters stay visible")
    func markdown() throws {
        let text = "# T\n\nA **bold word** and `code` and *stress*, 2 * 3 * 4, snake_case.\nEvil \u{1B}]0;x\u{07} text.\n"
        let lesson = try LessonParser.parse(text: text, file: "m.md")
        var plain = LessonPlayer(lesson: lesson, width: 200)
        guard case .narration(let lines)? = plain.next(run: { _ in [] }).dropFirst().first else {
            Issue.record("no narration"); return
        }
        #expect(lines == ["A bold word and code and stress, 2 * 3 * 4, snake_case. Evil \\x1b]0;x\\x07 text."])
        var coloured = LessonPlayer(lesson: lesson, width: 40)
        coloured.color = true
        guard case .narration(let c)? = coloured.next(run: { _ in [] }).dropFirst().first else {
            Issue.record("no narration"); return
        }
        #expect(c.first?.hasPrefix("A \u{1B}[1mbold\u{1B}[0m \u{1B}[1mword\u{1B}[0m and \u{1B}[38;5;31mcode\u{1B}[0m and stress,") == true, "\(c)")
        // Every line fits 40 columns by what it shows, and only our own colour codes are in it.
        #expect(c.allSatisfy { TextWidth.of($0) <= 40 })
        #expect(c.joined().replacingOccurrences(of: "\u{1B}[1m", with: "").replacingOccurrences(of: "\u{1B}[0m", with: "")
            .replacingOccurrences(of: "\u{1B}[38;5;31m", with: "").contains("\u{1B}") == false)
    }

    @Test("narration is never wider than 100 columns, however wide the terminal")
    func readableWidth() throws {
        let long = (0..<80).map { "word\($0)" }.joined(separator: " ")
        let lesson = try LessonParser.parse(text: "# T\n\n\(long)\n", file: "w.md")
        var p = LessonPlayer(lesson: lesson, width: 200)
        guard case .narration(let lines)? = p.next(run: { _ in [] }).dropFirst().first else { Issue.record("no narration"); return }
        #expect(lines.count > 1 && lines.allSatisfy { TextWidth.of($0) <= 100 })
        #expect(lines.contains { TextWidth.of($0) > 90 })
    }

    @Test("back before starting does nothing; back at the first step shows it again")
    func backAtStart() {
        var p = LessonPlayer(lesson: lesson)
        #expect(p.back() == [])
        let first = p.next(run: repl().run)
        #expect(p.back() == first)
    }
}
