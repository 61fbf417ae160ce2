import Testing
@testable import StepwiseKit

/// A fake REPL: canned outputs per command, errors for unknown commands, and a log of what ran.
final class FakeREPL {
    var outputs: [String: [String]]
    var ran: [String] = []
    init(_ outputs: [String: [String]]) { self.outputs = outputs }
    func run(_ command: String) throws -> [String] {
        ran.append(command)
        guard let o = outputs[command] else { throw StepwiseError.usage("unknown command '\(command)'") }
        return o
    }
}

@Suite("LessonChecker")
struct LessonCheckerTests {
    static let good: [String: [String]] = [
        "prompt The capital of France is": [],
        "pattern 0 3": ["row 0: 1.00   ", "row 1: 0.25 0.75", "", ""],
        "heads": ["L1H4 copies"],
    ]

    @Test("a lesson whose outputs match passes")
    func match() throws {
        let lesson = try LessonParser.parse(text: sampleLesson, file: "lessons/01.md")
        let repl = FakeREPL(Self.good)
        let r = LessonChecker.check(lesson: lesson, run: repl.run)
        #expect(r.failures == [])
        #expect(r.passed)
        #expect(repl.ran == ["prompt The capital of France is", "pattern 0 3", "pattern 0 3", "heads"])
        #expect(r.commandsRun == 4)
        #expect(r.outputsCompared == 2)
        #expect(r.quizzesChecked == 2)
        #expect(r.notes == ["lessons/01.md:24: quiz answer 0.25 ± 0.01 checked against any value in the output; add check: to name the one",
                            "lessons/01.md:35: quiz answer ' Paris' not checked: no reveal command",
                            "lessons/01.md:40: quiz answer head 1.4 checked against any value in the output; add check: to name the one"])
        #expect(r.report.last == "lessons/01.md: ok (4 commands, 2 outputs, 2 quizzes)")
    }

    @Test("a mismatch is reported with a unified diff and the block's file:line")
    func mismatch() throws {
        let lesson = try LessonParser.parse(text: sampleLesson, file: "lessons/01.md")
        var outputs = Self.good
        outputs["pattern 0 3"] = ["row 0: 1.00", "row 1: 0.30 0.70"]
        let r = LessonChecker.check(lesson: lesson, run: FakeREPL(outputs).run)
        #expect(r.failures.count == 3)
        #expect(r.failures[0] == LessonCheckFailure(
            file: "lessons/01.md", line: 8,
            message: "output of the stepwise block at line 8 differs from the output block at line 15",
            diff: ["--- expected (lessons/01.md:15)", "+++ actual", "@@ -1,2 +1,2 @@",
                   " row 0: 1.00", "-row 1: 0.25 0.75", "+row 1: 0.30 0.70"]))
        #expect(r.failures[1].headline
            == "lessons/01.md:28: output of the quiz reveal at line 28 differs from the output block at line 30")
        // The reveal now shows 0.3 and 0.7, neither within 0.01 of 0.25.
        #expect(r.failures[2].headline == "lessons/01.md:24: quiz answer 0.25 ± 0.01 does not agree with the output "
            + "of 'pattern 0 3': no number in it is within 0.01 of 0.25 (seen: 0, 1, 1, 0.3, 0.7)")
        #expect(!r.passed)
        #expect(r.report.last == "lessons/01.md: 3 failures (4 commands, 2 outputs, 2 quizzes)")
        #expect(r.report.first == r.failures[0].headline)
    }

    @Test("a command that throws is a failure naming its line; checking goes on")
    func throwing() throws {
        let lesson = try LessonParser.parse(text: sampleLesson, file: "lessons/01.md")
        var outputs = Self.good
        outputs["prompt The capital of France is"] = nil
        outputs["heads"] = nil
        let repl = FakeREPL(outputs)
        let r = LessonChecker.check(lesson: lesson, run: repl.run)
        #expect(r.failures.map(\.headline) == [
            "lessons/01.md:9: command 'prompt The capital of France is' failed: unknown command 'prompt The capital of France is'",
            "lessons/01.md:43: reveal command 'heads' failed: unknown command 'heads'",
        ])
        #expect(repl.ran.count == 4)
    }

    @Test("quiz answers are checked against the reveal output")
    func quizConsistency() {
        #expect(LessonChecker.inconsistency(of: .number(0.25, tolerance: 0.01), with: ["x 0.2549"]) == nil)
        #expect(LessonChecker.inconsistency(of: .number(0.25, tolerance: 0.01), with: ["none"]) == "it shows no number")
        #expect(LessonChecker.inconsistency(of: .number(-3, tolerance: 0), with: ["min -3"]) == nil)
        #expect(LessonChecker.inconsistency(of: .token(" Paris"), with: ["1. ' Paris' 0.51"]) == nil)
        #expect(LessonChecker.inconsistency(of: .token(" Paris"), with: ["1. 'Paris' 0.51"])
            == "it does not show ' Paris'")
        #expect(LessonChecker.inconsistency(of: .token("\n"), with: ["top: '\\n'"]) == nil)
        #expect(LessonChecker.inconsistency(of: .head(layer: 0, head: 3), with: ["head 0.3 copies"]) == nil)
        #expect(LessonChecker.inconsistency(of: .head(layer: 0, head: 3), with: ["L0H3: 0.9"]) == nil)
        #expect(LessonChecker.inconsistency(of: .head(layer: 0, head: 3), with: ["score 0.35, 10.3"])
            == "it does not mention 0.3 or L0H3")
    }

    @Test("normalize trims trailing whitespace and blank lines, splits embedded newlines")
    func normalize() {
        #expect(LessonChecker.normalize(["a  ", "b\nc\t", "", " ", ""]) == ["a", "b", "c"])
        #expect(LessonChecker.normalize([" x"]) == [" x"])
    }

    @Test("unified diff: hunks, context, additions and deletions")
    func diff() {
        let e = (1...12).map { "l\($0)" }
        var a = e
        a.remove(at: 1)             // delete l2
        a.insert("new", at: 9)      // add before l11
        #expect(LessonChecker.unifiedDiff(expected: e, actual: a, context: 1) == [
            "--- expected", "+++ actual",
            "@@ -1,3 +1,2 @@", " l1", "-l2", " l3",
            "@@ -10,2 +9,3 @@", " l10", "+new", " l11",
        ])
        #expect(LessonChecker.unifiedDiff(expected: [], actual: ["x"]) == ["--- expected", "+++ actual",
                                                                          "@@ -0,0 +1,1 @@", "+x"])
        #expect(LessonChecker.unifiedDiff(expected: e, actual: e) == [])
    }
}

@Suite("Quiz checks name their value")
struct QuizCheckTests {
    func check(_ quiz: String) throws -> LessonCheckResult {
        let text = "# Q\n\n```stepwise\nprompt The cat sat\n```\n\n```quiz\n\(quiz)\n```\n"
        let lesson = try LessonParser.parse(text: text, file: "q.md")
        let box = SessionBox(try LessonRunner.session(for: lesson, baseDirectory: "/"))
        let run = LessonRunner.runner(box, interpreter: StandardCommands.interpreter(), context: CommandContext(width: 80))
        return LessonChecker.check(lesson: lesson, run: run, value: { try LessonRunner.value($0, in: box.value) })
    }

    @Test("a number that appears elsewhere in the reveal's output no longer passes: 'step 3 of 48' is not the value")
    func namedValue() throws {
        // 'goto 3' prints "step 3 of 48"; the value checked is the pattern's weight, not any number shown.
        let loose = try check("question: q\nanswer: 3\nreveal: goto 3")
        #expect(loose.passed && loose.notes.contains { $0.contains("add check:") })
        let strict = try check("question: q\nanswer: 3\nreveal: goto 3\ncheck: value pattern 0[0, 1, 0]")
        #expect(!strict.passed)
        #expect(strict.failures.first?.message.contains("does not agree with value pattern 0[0, 1, 0]") == true)
        let right = try check("question: q\nanswer: 1 ± 0.0001\nreveal: goto 3\ncheck: value pattern 0[0, 0, 0]")
        #expect(right.passed, "\(right.report)")
    }

    @Test("check: text reads the value where {} stands, as a number, token or head")
    func textValue() throws {
        #expect(try check("question: q\nanswer: token ','\nreveal: top 3\ncheck: text after ' sat' (position 3), {}").passed == false)
        #expect(try check("question: q\nanswer: token ','\nreveal: prompt The cat sat\ncheck: text next token: {}").passed)
        #expect(try check("question: q\nanswer: token ' the'\nreveal: prompt The cat sat\ncheck: text next token: {}").passed == false)
        #expect(try check("question: q\nanswer: 4\nreveal: tokens\ncheck: text {} tokens").passed)
        #expect(try check("question: q\nanswer: 5\nreveal: tokens\ncheck: text {} tokens").passed == false)
        #expect(try check("question: q\nanswer: head 0.2\nreveal: detect previous prompt\ncheck: text best: {}").passed)
    }

    @Test("a malformed check: line is an error naming the line")
    func malformed() {
        #expect(throws: StepwiseError.self) { try LessonParser.parse(text: "# Q\n\n```quiz\nquestion: q\nanswer: 3\nreveal: tokens\ncheck: text no marker\n```\n", file: "q.md") }
        #expect(throws: StepwiseError.self) { try LessonParser.parse(text: "# Q\n\n```quiz\nquestion: q\nanswer: 3\ncheck: value logits[0, 0]\n```\n", file: "q.md") }
    }
}
