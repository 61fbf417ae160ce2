import ArgumentParser
import Foundation
import StepwiseKit

struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson", abstract: "Play a lesson: narration, commands as if typed, a pause after each step.")

    @Argument(help: "The lesson file (Markdown), or its number in lessons/.")
    var file: String

    @Flag(name: .long, help: "Play straight through without pausing.")
    var noPause = false

    @Option(name: .long, help: "Colour: auto, always or never.")
    var color: CommonOptions.ColorChoice = .auto

    func run() throws {
        var session = Session()
        session.settings.color = Terminal.useColor(color.rawValue)
        var repl = REPL(session: session)
        let interactive = Terminal.isInteractive && !noPause
        if interactive {
            var reader = PlainReader()
            let ok = repl.playLesson(file, reader: &reader, pause: true)
            if ok { repl.runInteractive() }
            if !ok { throw ExitCode(1) }
        } else {
            throw ExitCode(repl.runBatch(["lesson " + quoted(file)]))
        }
    }
}

/// Wraps a path in double quotes for a command line.
func quoted(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Replay lessons without pausing and compare every output block; exit 1 on any difference.")

    @Argument(help: "Lesson files (Markdown).")
    var files: [String]

    @Flag(name: .long, help: "Rewrite each lesson's output blocks with what Stepwise prints now (and add missing ones); review the diff.")
    var update = false

    func run() throws {
        var failed = 0
        for f in files where !f.lowercased().hasSuffix("readme.md") {
            do {
                if update {
                    Console.print("\(f): " + (try LessonRunner.update(path: f) ? "outputs updated" : "unchanged"))
                    continue
                }
                let result = try LessonRunner.check(path: f)
                result.report.forEach { Console.print($0) }
                if !result.passed { failed += 1 }
            } catch let e as StepwiseError {
                Console.error("error: " + TerminalText.visible(e.message))
                failed += 1
            }
        }
        if failed > 0 {
            Console.error("\(failed) lesson(s) failed")
            throw ExitCode(1)
        }
    }
}

extension REPL {
    /// Plays a lesson interactively: Enter next, b back, q quit (the lesson's session stays).
    /// - Returns: false if the lesson could not be started.
    mutating func playLesson(_ name: String, reader: inout some LineReader, pause: Bool) -> Bool {
        let width = context(interactive: true).width
        let prepared: LessonRunner.Prepared
        do {
            prepared = try LessonRunner.prepare(try Unescape.promptText(name), context: context(interactive: true), mayWrite: true)
            prepared.box.value.settings = session.settings
            prepared.box.value.settings.width = nil
        } catch let e as StepwiseError {
            Console.error("error: " + TerminalText.visible(e.message))
            return false
        } catch {
            Console.error("error: " + TerminalText.visible("\(error)"))
            return false
        }
        let box = prepared.box
        // Ctrl-C during a lesson's command stops that command and returns to the pause.
        Terminal.catchInterrupts()
        let run = LessonRunner.runner(box, interpreter: interpreter, context: prepared.context)
        var player = LessonPlayer(lesson: prepared.lesson, width: width)
        player.color = session.settings.color
        Terminal.interrupted.store(false, ordering: .relaxed)
        var events = player.next(run: run)
        while true {
            // A step taller than the terminal goes through the pager; its key hint stays below it.
            Pager.print(LessonRunner.lines(for: events, width: width, color: player.color), mode: box.value.settings.pager)
            Terminal.interrupted.store(false, ordering: .relaxed)
            if player.state == .finished && events.last == .end { break }
            // Every pause shows its keys, and takes one key press (no Enter); a quiz keeps its typed
            // answer apart from them: 'a' opens the answer line.
            let atQuiz = player.state == .awaitingAnswer
            let hint = atQuiz ? "[a] answer  [Enter] skip  [b] back  [q] quit to the REPL  "
                : "[Enter] next  [b] back  [q] quit to the REPL  "
            switch KeyReader.read(hint: hint) {
            case .interrupt:
                Console.print("(Ctrl-C: still in the lesson; q quits to the REPL)")
                events = []
            case .other:
                events = []
            case .back:
                events = player.back()
            case .quit, .end:
                player.quit()
                session = box.value
                return true
            case .answer where atQuiz:
                let answer = reader.readLine(prompt: "your answer> ")
                events = player.answer(answer.flatMap { $0.isEmpty ? nil : $0 }, run: run)
            case .next, .answer:
                if atQuiz { events = player.answer(nil, run: run); continue }
                if player.state == .finished { session = box.value; return true }
                events = player.next(run: run)
            }
        }
        session = box.value
        return true
    }
}

struct LessonsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lessons",
        abstract: "List the lessons with their titles: a folder's, or the lessons folder (STEPWISE_LESSONS, ./lessons, or the one that ships).")

    @Argument(help: "A folder of lessons (default: the lessons folder).")
    var folder: String?

    func run() throws {
        var repl = REPL(session: Session())
        throw ExitCode(repl.runBatch(["lessons" + (folder.map { " " + quoted($0) } ?? "")]))
    }
}
