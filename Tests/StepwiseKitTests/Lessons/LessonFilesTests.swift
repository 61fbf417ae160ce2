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
