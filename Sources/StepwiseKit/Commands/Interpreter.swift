import Foundation

/// Runs command lines against a session: finds the command, runs it, turns failures into one line.
public struct Interpreter: Sendable {
    /// Every command, in help order.
    public let commands: [Command]
    private let byName: [String: Int]

    public init(commands: [Command]) {
        self.commands = commands
        var m: [String: Int] = [:]
        for (i, c) in commands.enumerated() {
            for n in [c.name] + c.aliases {
                precondition(m[n] == nil, "Interpreter: two commands are called '\(n)'")
                m[n] = i
            }
        }
        byName = m
    }

    /// The command a name or alias stands for.
    public func command(named name: String) -> Command? {
        byName[name].map { commands[$0] }
    }

    /// Every name and alias, for completion.
    public var allNames: [String] { byName.keys.sorted() }

    /// The outcome of one line.
    public enum Outcome: Equatable {
        /// The command ran; these lines are its output.
        case output([String])
        /// The command failed; the line says why (already prefixed with `error:`).
        case failure(String)
        /// The user asked to leave.
        case quit
    }

    /// Runs one line. Blank lines and `#` comments do nothing. Never throws: a failure is an outcome,
    /// and the session is left as it was before the failing command.
    public func execute(_ line: String, in session: inout Session, context: CommandContext) -> Outcome {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("#") { return .output([]) }
        let word = String(trimmed.prefix { !$0.isWhitespace })
        let rest = String(trimmed.dropFirst(word.count)).trimmingCharacters(in: .whitespaces)
        if word == "quit" || word == "exit" || word == "q" { return .quit }
        guard let cmd = command(named: word) else {
            let hint = Suggest.closest(to: word, among: allNames).map { " — did you mean '\($0)'?" } ?? ""
            return .failure("error: unknown command '\(TerminalText.visible(word))'\(hint) ('help' lists the commands)")
        }
        var attempt = session
        // Every line a command prints, streams or fails with passes through TerminalText here, so text
        // from a file or from the user never reaches the terminal as raw control characters.
        var safeContext = context
        let emit = context.emit, color = context.color
        // Lines streamed as they come (generated tokens) belong to the transcript too.
        let streamed = StreamedLines()
        safeContext.emit = { line in
            let safe = TerminalText.safe(line, color: color)
            streamed.append(safe)
            emit(safe)
        }
        do {
            let out = try cmd.run(&attempt, safeContext, rest).map { TerminalText.safe($0, color: color) }
            // The transcript keeps what a script would print: no colour, no timings (`record`).
            attempt.transcript.append((trimmed, (streamed.lines + out).map(Timing.plain)))
            session = attempt
            return .output(out)
        } catch let e as StepwiseError {
            return .failure("error: " + TerminalText.visible(e.message))
        } catch {
            return .failure("error: " + TerminalText.visible("\(error)"))
        }
    }
}

/// The lines a command streamed through ``CommandContext/emit``.
final class StreamedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    func append(_ line: String) {
        lock.lock()
        stored.append(line)
        lock.unlock()
    }

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
