import Foundation
import Testing

@Suite("stepwise html", .enabled(if: StepwiseBinary.url != nil, "the stepwise binary is not built"))
struct HTMLCommandTests {
    @Test("stepwise html LESSON.md OUT.html writes one page, and never replaces it without --force")
    func writesOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("lesson.html").path
        let (status, stdout, stderr) = try StepwiseBinary.run(["html", "lessons/01-next-word.md", out])
        #expect(status == 0, "\(stderr)")
        #expect(stdout.contains("wrote lessons/01-next-word.md to \(out)"))
        let page = try String(contentsOfFile: out, encoding: .utf8)
        expectSelfContained(page)
        #expect(page.contains("<details class=\"quiz\">") && page.contains("<svg "))
        let (again, _, err) = try StepwiseBinary.run(["html", "lessons/01-next-word.md", out])
        #expect(again == 1 && err.contains("exists; add --force to overwrite it"))
        let (forced, _, _) = try StepwiseBinary.run(["html", "lessons/01-next-word.md", out, "--force"])
        #expect(forced == 0)
        let (bad, _, badErr) = try StepwiseBinary.run(["html", "lessons/01-next-word.md", dir.appendingPathComponent("x.txt").path])
        #expect(bad == 1 && badErr.contains("give a .html file name"))
    }
}
