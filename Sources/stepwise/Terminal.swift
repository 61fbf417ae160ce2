#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Facts about the terminal, and the Ctrl-C flag.
enum Terminal {
    /// True when both stdin and stdout are terminals and TERM is not `dumb`: the line editor and
    /// prompt are used only then.
    static var isInteractive: Bool {
        isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    /// Columns: `COLUMNS`, then the terminal's size, then 80.
    static var width: Int {
        if let c = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(c), n > 0 { return n }
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        return 80
    }

    /// Whether to colour: `--color always|never`, or for `auto` a terminal without `NO_COLOR`.
    static func useColor(_ mode: String) -> Bool {
        switch mode {
        case "always": return true
        case "never": return false
        default:
            let env = ProcessInfo.processInfo.environment
            if let nc = env["NO_COLOR"], !nc.isEmpty { return false }
            return isInteractive
        }
    }

    // MARK: - Ctrl-C

    /// Set by SIGINT, cleared before each command.
    static let interrupted = Atomic<Bool>(false)

    /// Installs a SIGINT handler that only sets ``interrupted``, so long work can stop cleanly and the
    /// session survives. Without it Ctrl-C would kill the process.
    static func catchInterrupts() {
        signal(SIGINT) { _ in Terminal.interrupted.store(true, ordering: .relaxed) }
    }
}

/// Writes to standard output and error without buffering surprises.
enum Console {
    static func print(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
