import Foundation
import Testing
@testable import StepwiseKit

private let lessonFiles: [String] = LessonRunner.list(TestPaths.repoRoot.appendingPathComponent("lessons").path).map(\.file)

/// Every lesson in lessons/ replays on its model and prints exactly its output blocks.
@Suite("lessons/ replay and check", .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
struct LessonFilesTests {
    @Test("the lesson checks clean", arguments: lessonFiles)
    func check(file: String) throws {
        let path = TestPaths.repoRoot.appendingPathComponent("lessons/\(file)").path
        let result = try LessonRunner.check(path: path)
        #expect(result.passed, "\(file):\n\(result.report.joined(separator: "\n"))")
        #expect(result.outputsCompared > 0, "\(file) compares no output")
    }

    @Test("at least eight lessons, in order, each with a title")
    func inventory() {
        let all = LessonRunner.list(TestPaths.repoRoot.appendingPathComponent("lessons").path)
        #expect(all.count >= 8)
        #expect(all.map(\.file) == all.map(\.file).sorted())
        #expect(all.allSatisfy { !$0.title.isEmpty && $0.title != "(cannot be read)" })
    }
}

@Suite("Finding lessons")
struct FindingLessonsTests {
    @Test("'lesson 1' finds 01-…, 'lesson 05b' finds 05b-…; 'lessons DIR' lists a teacher's own folder")
    func numbers() throws {
        let ctx = CommandContext(baseDirectory: "/nonexistent-base")
        #expect(try LessonRunner.find("1", ctx).hasSuffix("/01-next-word.md"))
        #expect(try LessonRunner.find("02", ctx).hasSuffix("/02-tokens.md"))
        #expect(try LessonRunner.find("5", ctx).hasSuffix("/05-many-heads.md"))
        #expect(throws: StepwiseError.self) { try LessonRunner.find("99", ctx) }
        let t = try TempFolder()
        try t.write("intro.md", "# My own lesson\n\n```stepwise\nhelp\n```\n")
        var s = Session()
        guard case .output(let lines) = StandardCommands.interpreter().execute("lessons \"\(t.path)\"", in: &s, context: ctx) else {
            Issue.record("lessons DIR failed"); return
        }
        #expect(lines.first == "intro.md  My own lesson")
    }
}
