import Foundation
import Testing
@testable import StepwiseKit

@Suite("LessonRecorder")
struct LessonRecorderTests {
    @Test("writes a skeleton")
    func skeleton() {
        let md = LessonRecorder.markdown(title: "My session", model: "builtin",
                                         session: [(command: "prompt Hi", output: []), (command: "top", output: ["1. ' there'  "])])
        #expect(md == """
        <!-- model: builtin -->

        # My session

        Say what this shows.

        ```stepwise
        prompt Hi
        ```
        ```output
        ```

        Say what this shows.

        ```stepwise
        top
        ```
        ```output
        1. ' there'
        ```

        """)
    }

    @Test("the parser reads a recording back, whatever the output holds")
    func roundTrip() throws {
        let session: [(command: String, output: [String])] = [
            (command: "prompt The cat", output: ["tokens: 'The' ' cat'"]),
            (command: "# not a command", output: ["skipped"]),
            (command: "show", output: ["```", "````stepwise", "<!-- model: x -->", "# heading", "", "  indented", ""]),
            (command: "help", output: []),
        ]
        let md = LessonRecorder.markdown(title: "Round\ntrip", session: session)
        let lesson = try LessonParser.parse(text: md, file: "rec.md")
        #expect(lesson.title == "Round trip")
        #expect(lesson.model == nil)
        let kept = session.filter { !$0.command.hasPrefix("#") }
        let blocks = lesson.blocks.compactMap { b -> CommandBlock? in if case .commands(let c) = b { c } else { nil } }
        #expect(blocks.map { $0.commands.map(\.text) } == kept.map { [$0.command] })
        #expect(blocks.map { $0.expected?.lines ?? ["missing"] } == kept.map { LessonChecker.normalize($0.output) })
        #expect(lesson.blocks.filter { $0 == .narration(Narration(lines: [LessonRecorder.placeholder], line: $0.line)) }.count == 3)
        // And it checks clean against the same session.
        let outputs = Dictionary(uniqueKeysWithValues: kept.map { ($0.command, $0.output) })
        #expect(LessonChecker.check(lesson: lesson, run: FakeREPL(outputs).run).passed)
    }
}

@Suite("record writes plain output")
struct RecordPlainTests {
    @Test("a session in a colour terminal records no colour codes and no timings, streamed lines included, and the lesson checks")
    func plain() throws {
        let t = try TempFolder()
        var s = Session()
        try s.load(path: nil)
        s.settings.color = true
        let streamedOut = StreamedLines()
        let ctx = CommandContext(color: true, interactive: true, emit: { streamedOut.append($0) }, baseDirectory: t.path)
        let interp = StandardCommands.interpreter()
        for line in ["prompt The cat sat", "show pattern 0 head 2", "generate 3", "record a.md"] {
            guard case .output(let out) = interp.execute(line, in: &s, context: ctx) else { Issue.record("\(line) failed"); return }
            if line.hasPrefix("prompt") { #expect(out[0].hasSuffix(" ms"), "the terminal shows the time: \(out[0])") }
            if line.hasPrefix("show") { #expect(out.joined().contains("\u{1B}[48;5;"), "colour on screen") }
        }
        #expect(streamedOut.lines.count == 3, "generate streamed its tokens: \(streamedOut.lines)")
        let text = String(decoding: try t.read("a.md"), as: UTF8.self)
        #expect(!text.contains("\u{1B}") && !text.contains(" ms\n"), "\(text)")
        #expect(text.contains("  1  ") && text.contains("  3  "), "generated lines recorded: \(text)")
        let result = try LessonRunner.check(path: t.file("a.md").path)
        #expect(result.passed, "\(result.report)")
    }
}
