import ArgumentParser
import Foundation
import StepwiseKit

/// `stepwise html LESSON.md OUT.html [--force]`: a lesson as one page to hand out.
struct HTMLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "html",
        abstract: "Play a lesson straight through and write it as one self-contained HTML page (narration, commands, outputs, pictures, quizzes with collapsible answers).")

    @Argument(help: "The lesson file (Markdown), or its number in lessons/.")
    var lesson: String

    @Argument(help: "The page to write (.html). Never replaced without --force.")
    var output: String

    @Flag(name: .long, help: "Replace OUT.html if it exists.")
    var force = false

    @Option(name: .long, help: "The page's and pictures' colours: dark (the default, as in the REPL) or light (for paper). A lesson's own 'set theme' still applies.")
    var theme: String?

    @Option(name: .long, help: "The pictures' colour scale: viridis (the default), cividis or grey. A lesson's own 'set palette' still applies.")
    var palette: String?

    func run() throws {
        do {
            guard output.lowercased().hasSuffix(".html") || output.lowercased().hasSuffix(".htm") else {
                throw StepwiseError.usage("cannot write '\(output)': give a .html file name")
            }
            let startTheme = try theme.map { name in
                guard let t = ViewOptions.Theme(rawValue: name.lowercased()) else {
                    throw StepwiseError.usage("--theme is dark or light, got '\(name)'")
                }
                return t
            }
            let startPalette = try palette.map { name in
                guard let p = ColorScale.Palette(rawValue: name.lowercased()) else {
                    throw StepwiseError.usage("--palette is viridis, cividis or grey, got '\(name)'")
                }
                return p
            }
            let cwd = FileManager.default.currentDirectoryPath
            let context = CommandContext(width: 80, color: false, interactive: false,
                                         isCancelled: { Terminal.interrupted.load(ordering: .relaxed) }, baseDirectory: cwd)
            Terminal.catchInterrupts()
            let page = try LessonHTML.render(path: lesson, context: context, theme: startTheme, palette: startPalette)
            try Exporter.write(Data(page.utf8), to: context.resolve(output), force: force, shownAs: output)
            Console.print("wrote \(TerminalText.visible(lesson)) to \(TerminalText.visible(output))")
        } catch let e as StepwiseError {
            Console.error("error: " + TerminalText.visible(e.message))
            throw ExitCode(1)
        }
    }
}
