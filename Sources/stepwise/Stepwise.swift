import ArgumentParser
import Foundation
import StepwiseKit

@main
struct Stepwise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stepwise",
        abstract: "Step through a transformer's forward pass like a debugger.",
        discussion: """
            With no arguments, opens the REPL on the built-in model. Commands come from the line editor, \
            from -e (repeatable), or from standard input when it is not a terminal (stopping at the first \
            failing command with exit status 1).
            """,
        subcommands: [REPLCommand.self, LessonCommand.self, LessonsCommand.self, CheckCommand.self, HTMLCommand.self, BenchCommand.self],
        defaultSubcommand: REPLCommand.self
    )

    static func main() {
        Allocator.keepFreedMemory()
        Console.ignoreBrokenPipes()
        main(nil)
    }
}

/// Options every mode shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "A model folder (config.json + weights + tokenizer), a tokenizer folder, or a .gguf file. Default: the built-in model.")
    var model: String?

    @Option(name: .long, help: "Colour: auto (a terminal without NO_COLOR), always or never.")
    var color: ColorChoice = .auto

    enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    /// A session with the requested model loaded, or an error line.
    func makeSession() throws -> Session {
        var session = Session()
        try session.load(path: model)
        session.settings.color = Terminal.useColor(color.rawValue)
        session.settings.unicode = ProcessInfo.processInfo.environment["TERM"] != "dumb"
        return session
    }
}

struct REPLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "repl", abstract: "The interactive REPL (the default).")

    @OptionGroup var options: CommonOptions

    @Option(name: .customShort("e"), help: "Run this command and exit (repeatable; runs in order).")
    var commands: [String] = []

    func run() throws {
        let session: Session
        do { session = try options.makeSession() } catch let e as StepwiseError {
            Console.error("error: " + TerminalText.visible(e.message))
            throw ExitCode(1)
        }
        var repl = REPL(session: session)
        if !commands.isEmpty {
            throw ExitCode(repl.runBatch(commands))
        }
        if Terminal.isInteractive {
            repl.runInteractive()
        } else {
            var reader = PlainReader()
            // A script saved with a byte-order mark: the mark is not part of its first command.
            var first = true
            throw ExitCode(repl.runBatch(AnyIterator {
                guard let line = reader.readLine(prompt: "") else { return nil }
                defer { first = false }
                return first && line.hasPrefix("\u{FEFF}") ? String(line.dropFirst()) : line
            }))
        }
    }
}
