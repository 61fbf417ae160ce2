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
        #expect(page.contains("color-scheme: dark"), "the default theme is the REPL's")
    }

    @Test("--theme light and --palette set the page's and pictures' colours; a bad name is one error line")
    func themeAndPalette() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("paper.html").path
        let (status, _, stderr) = try StepwiseBinary.run(["html", "lessons/01-next-word.md", out, "--theme", "light", "--palette", "grey"])
        #expect(status == 0, "\(stderr)")
        let page = try String(contentsOfFile: out, encoding: .utf8)
        #expect(page.contains("color-scheme: light") && !page.contains("#181818"))
        let svgs = inlineSVGs(page)
        #expect(!svgs.isEmpty && svgs.allSatisfy { $0.contains("fill=\"#ffffff\"/>") })
        let (bad, _, err) = try StepwiseBinary.run(["html", "lessons/01-next-word.md", dir.appendingPathComponent("b.html").path, "--theme", "blue"])
        #expect(bad == 1 && err == "error: --theme is dark or light, got 'blue'\n")
    }
}
