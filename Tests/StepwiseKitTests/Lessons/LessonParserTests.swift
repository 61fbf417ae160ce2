import Foundation
import Testing
@testable import StepwiseKit

/// A complete lesson using every feature.
let sampleLesson = """
<!-- model: builtin -->

# Where does the last token look?

Every head turns scores into a **pattern**:
one row per query.

```stepwise
prompt The capital of France is
# a comment line

pattern 0 3
```

```output
row 0: 1.00
row 1: 0.25 0.75
```

```python
print("shown verbatim")
```

```quiz
question: What weight does the last token give the first?
  Answer between 0 and 1.
answer: 0.25 ± 0.01
reveal: pattern 0 3
```
```output
row 0: 1.00
row 1: 0.25 0.75
```

```quiz
question: Which token comes next?
answer: token ' Paris'
```

```quiz
question: Which head copies?
answer: head 1.4
reveal: heads
```

Done.
"""

@Suite("LessonParser")
struct LessonParserTests {
    @Test("parses a complete lesson")
    func complete() throws {
        let l = try LessonParser.parse(text: sampleLesson, file: "lessons/01.md")
        #expect(l.title == "Where does the last token look?")
        #expect(l.model == "builtin")
        #expect(l.file == "lessons/01.md")
        #expect(l.blocks.count == 7)
        #expect(l.blocks[0] == .narration(Narration(
            lines: ["Every head turns scores into a **pattern**:", "one row per query."], line: 5)))
        #expect(l.blocks[1] == .commands(CommandBlock(
            commands: [LessonCommand(text: "prompt The capital of France is", line: 9),
                       LessonCommand(text: "pattern 0 3", line: 12)],
            expected: ExpectedOutput(lines: ["row 0: 1.00", "row 1: 0.25 0.75"], line: 15),
            line: 8)))
        #expect(l.blocks[2] == .narration(Narration(
            lines: ["```python", "print(\"shown verbatim\")", "```"], line: 20)))
        #expect(l.blocks[3] == .quiz(Quiz(
            question: "What weight does the last token give the first? Answer between 0 and 1.",
            answer: .number(0.25, tolerance: 0.01),
            reveal: LessonCommand(text: "pattern 0 3", line: 28),
            expected: ExpectedOutput(lines: ["row 0: 1.00", "row 1: 0.25 0.75"], line: 30),
            line: 24)))
        #expect(l.blocks[4] == .quiz(Quiz(question: "Which token comes next?", answer: .token(" Paris"), line: 35)))
        #expect(l.blocks[5] == .quiz(Quiz(question: "Which head copies?", answer: .head(layer: 1, head: 4),
                                          reveal: LessonCommand(text: "heads", line: 43), line: 40)))
        #expect(l.blocks[6] == .narration(Narration(lines: ["Done."], line: 46)))
        #expect(l.blocks.map(\.line) == [5, 8, 20, 24, 35, 40, 46])
    }

    @Test("CRLF line ends, tildes and long fences, no model")
    func variants() throws {
        let text = "# T\r\n\r\n~~~~stepwise\r\nhelp\r\n~~~~\r\n````output\r\n```\r\nx\r\n````\r\n"
        let l = try LessonParser.parse(text: text, file: "t.md")
        #expect(l.model == nil)
        #expect(l.blocks == [.commands(CommandBlock(commands: [LessonCommand(text: "help", line: 4)],
                                                    expected: ExpectedOutput(lines: ["```", "x"], line: 6),
                                                    line: 3))])
    }

    @Test("the example in lessons/README.md parses")
    func readmeExample() throws {
        let readme = try String(contentsOf: TestPaths.repoRoot.appendingPathComponent("lessons/README.md"),
                                encoding: .utf8)
        let start = try #require(readme.range(of: "````markdown\n"))
        let end = try #require(readme.range(of: "\n````", range: start.upperBound..<readme.endIndex))
        let l = try LessonParser.parse(text: String(readme[start.upperBound..<end.lowerBound]), file: "README")
        #expect(l.title == "Where does the last token look?")
        #expect(l.model == "builtin")
        #expect(l.blocks.count == 4)
        guard case .quiz(let q) = l.blocks[3] else { Issue.record("no quiz"); return }
        #expect(q.answer == .number(0.25, tolerance: 0.05))
    }

    static let errorCases: [(String, String)] = [
        ("# T\n\n```output\nx\n```\n", "f.md:3: output block without a stepwise block before it"),
        ("# T\n```stepwise\nhelp\n```\ntext\n```output\nx\n```\n",
         "f.md:6: output block without a stepwise block before it"),
        ("# T\n```stepwise\nhelp\n```\n```output\nx\n```\n```output\ny\n```\n",
         "f.md:8: output block without a stepwise block before it"),
        ("# T\n\n```stepwise\nhelp\n", "f.md:3: unterminated ```stepwise fence: no closing ``` before the end of the file"),
        ("# T\n\n```python\nx = 1\n", "f.md:3: unterminated ```python fence: no closing ``` before the end of the file"),
        ("# T\n```ouput\nx\n```\n",
         "f.md:2: unknown fence kind 'ouput': did you mean 'output'? (lesson fences are stepwise, output and quiz)"),
        ("# T\n```Stepwise\nx\n```\n",
         "f.md:2: unknown fence kind 'Stepwise': did you mean 'stepwise'? (lesson fences are stepwise, output and quiz)"),
        ("# T\n```stepwise-output\nx\n```\n",
         "f.md:2: unknown fence kind 'stepwise-output': did you mean 'stepwise'? (lesson fences are stepwise, output and quiz)"),
        ("# T\n```stepwise title\nx\n```\n", "f.md:2: unexpected 'title' after ```stepwise: the fence line holds only the kind"),
        ("# T\n```stepwise\n# only a comment\n\n```\n", "f.md:2: stepwise block has no commands"),
        ("# T\n\n```quiz\nquestion: Q?\n```\n",
         "f.md:3: quiz without an answer: line (answer: 0.25 ± 0.01, answer: token ' Paris' or answer: head 0.3)"),
        ("# T\n```quiz\nanswer: 1\n```\n", "f.md:2: quiz without a question: line"),
        ("# T\n```quiz\nquestion: Q?\nanswer: 0.25 ± x\n```\n", "f.md:4: bad tolerance 'x': expected a number >= 0, like 0.01"),
        ("# T\n```quiz\nquestion: Q?\nanswer: 0.25 tolerance -1\n```\n",
         "f.md:4: bad tolerance '-1': expected a number >= 0, like 0.01"),
        ("# T\n```quiz\nquestion: Q?\nanswer: lots\n```\n",
         "f.md:4: quiz answer 'lots': expected a number with a tolerance (0.25 ± 0.01), token '…' or head L.H"),
        ("# T\n```quiz\nquestion: Q?\nanswer: head 3\n```\n",
         "f.md:4: quiz answer head '3': expected layer.head, like head 0.3"),
        ("# T\n```quiz\nquestion: Q?\nanswer: token ' Paris\n```\n", "f.md:4: quiz answer token ' Paris: unterminated quote"),
        ("# T\n```quiz\nquestion: Q?\nhint: none\nanswer: 1\n```\n",
         "f.md:4: unknown quiz field 'hint' (expected question:, answer:, reveal: or check:)"),
        ("# T\n```quiz\nquestion: Q?\nanswer: 1\nanswer: 2\n```\n", "f.md:5: quiz has two answer: lines"),
        ("# T\n```quiz\nquestion: Q?\nanswer: 1\n```\n```output\nx\n```\n",
         "f.md:6: output block after a quiz without a reveal command (quiz at line 2)"),
        ("# T\n```quiz\nquestion: Q?\nanswer: 1\nreveal:\n```\n", "f.md:5: empty reveal: command"),
        ("Some text\n", "f.md:1: no title: a lesson needs a '# Title' heading"),
        ("---\nmodel: builtin\n---\n# T\n", "f.md:1: YAML front matter is not supported; name the model with <!-- model: NAME -->"),
        ("# T\n<!-- model: a -->\n<!-- model: b -->\n", "f.md:3: second model comment: a lesson names one model"),
        ("# T\n<!-- model: -->\n", "f.md:2: empty model name: write <!-- model: builtin -->"),
        ("# T\n<!-- note\nstill open\n", "f.md:2: unterminated HTML comment: no '-->' before the end of the file"),
    ]

    @Test("errors name the file and line", arguments: errorCases)
    func errors(text: String, message: String) {
        #expect(throws: StepwiseError(.file, message)) {
            try LessonParser.parse(text: text, file: "f.md")
        }
    }

    @Test("other fences, HTML comments and later headings are narration")
    func narrationKinds() throws {
        let text = "# T\n<!-- hidden\nmulti-line -->\n## Part\n```\nplain\n```\n~~~text\nt\n~~~\n"
        let l = try LessonParser.parse(text: text, file: "f.md")
        #expect(l.blocks == [.narration(Narration(lines: ["## Part", "```", "plain", "```", "~~~text", "t", "~~~"],
                                                  line: 4))])
    }

    @Test("a byte-order mark before the title is not part of the lesson")
    func bom() throws {
        let lesson = try LessonParser.parse(text: "\u{FEFF}# Hello\r\n\r\n```stepwise\r\nhelp\r\n```\r\n", file: "bom.md")
        #expect(lesson.title == "Hello")
        #expect(lesson.blocks.count >= 1)
    }

    @Test("load reads a file and names a missing one")
    func load() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-lesson-\(UUID()).md")
        try "# Hello\n\n```stepwise\nhelp\n```\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try LessonParser.load(path: url.path).title == "Hello")
        #expect(throws: StepwiseError(.file, "/nonexistent/x.md: no such file")) {
            try LessonParser.load(path: "/nonexistent/x.md")
        }
    }
}
