import Foundation
import StepwiseKit

/// The loop: read a line, run it, print the result.
struct REPL {
    var session: Session
    let interpreter = StandardCommands.interpreter()

    init(session: Session) {
        self.session = session
    }

    /// - Parameter images: offer pictures in the terminal (`set images`): only for commands typed at the
    ///   interactive prompt.
    func context(interactive: Bool, images: Bool = false) -> CommandContext {
        Console.color.store(session.settings.color, ordering: .relaxed)
        var context = CommandContext(
            width: session.settings.width ?? Terminal.width, color: session.settings.color, interactive: interactive,
            isCancelled: { Terminal.interrupted.load(ordering: .relaxed) },
            emit: { Console.print($0) },
            baseDirectory: FileManager.default.currentDirectoryPath)
        if interactive { context.height = Terminal.height }
        if images && interactive && Terminal.isInteractive { context.images = InlinePictures.sink }
        return context
    }

    /// Runs lines without a terminal; stops at the first failing command.
    /// - Returns: the exit status: 0, or 1 after a failure.
    mutating func runBatch<S: Sequence>(_ lines: S) -> Int32 where S.Element == String {
        Terminal.catchInterrupts()
        for line in lines {
            Terminal.interrupted.store(false, ordering: .relaxed)
            switch interpreter.execute(line, in: &session, context: context(interactive: false)) {
            case .output(let out):
                Console.color.store(session.settings.color, ordering: .relaxed)
                out.forEach(Console.print)
            case .failure(let message):
                Console.error(message)
                return 1
            case .quit: return 0
            }
        }
        return 0
    }

    /// The interactive loop on the line editor.
    mutating func runInteractive() {
        Terminal.catchInterrupts()
        let completer = Completer(interpreter: interpreter)
        let snapshot = SessionBox(session)
        var reader = EditlineReader(history: HistoryFile()) { before, word in
            completer.complete(lineBefore: before, word: word, session: snapshot.value)
        }
        for line in StandardCommands.banner(session: session, width: context(interactive: true).width) { Console.print(line) }
        while true {
            Terminal.interrupted.store(false, ordering: .relaxed)
            snapshot.value = session
            guard let line = reader.readLine(prompt: "stepwise> ") else {
                // Ctrl-C at the prompt abandons the line (the editor returns no line); Ctrl-D leaves.
                if Terminal.interrupted.load(ordering: .relaxed) {
                    Console.print("^C")
                    continue
                }
                Console.print("")
                return
            }
            let words = line.split(separator: " ", maxSplits: 1)
            if words.first == "lesson", words.count == 2 {
                _ = playLesson(String(words[1]), reader: &reader, pause: true)
                continue
            }
            switch interpreter.execute(line, in: &session, context: context(interactive: true, images: true)) {
            case .output(let out):
                Console.color.store(session.settings.color, ordering: .relaxed)
                // Taller than the terminal: through the pager, so nothing scrolls away unread.
                Pager.print(out, mode: session.settings.pager)
                // A picture follows the text, written to the terminal itself, never through the pager.
                InlinePictures.flush()
            case .failure(let message):
                InlinePictures.discard()
                // One error, wrapped at the terminal's width on word boundaries.
                Prose.wrap(message, width: Terminal.width, rest: "  ", cap: false).forEach(Console.error)
            case .quit: return
            }
        }
    }
}
