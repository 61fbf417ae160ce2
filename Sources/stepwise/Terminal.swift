#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import StepwiseKit
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

    /// Rows: `LINES`, then the terminal's size, then 24.
    static var height: Int {
        if let c = ProcessInfo.processInfo.environment["LINES"], let n = Int(c), n > 0 { return n }
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_row > 0 { return Int(ws.ws_row) }
        return 24
    }

    /// The size in cells (``width`` × ``height``) and, when the terminal reports it, of a cell in pixels.
    static var geometry: TerminalGeometry {
        var ws = winsize()
        let known = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0
        return TerminalGeometry(columns: width, rows: height,
                                pixelWidth: known && ws.ws_col > 0 ? Int(ws.ws_xpixel) * width / Int(ws.ws_col) : 0,
                                pixelHeight: known && ws.ws_row > 0 ? Int(ws.ws_ypixel) * height / Int(ws.ws_row) : 0)
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

/// Writes to standard output and error without buffering surprises. Every line passes through
/// ``TerminalText/safe(_:color:)``: only Stepwise's own colour codes reach the terminal, and only when
/// colour is on. The one other sequence is a picture's (``writeImage(_:)``), built from pixels. A failed write (a full disk, a closed pipe: SIGPIPE is ignored) ends the program with
/// one line on standard error and exit status 1, instead of a crash.
enum Console {
    /// Whether colour codes may pass (the session's `color` setting); set by the REPL.
    static let color = Atomic<Bool>(false)

    static func print(_ line: String) {
        write(STDOUT_FILENO, printable(line) + "\n")
    }

    /// A line as it may reach the terminal (or the pager, which passes it on): ``TerminalText/safe(_:color:)``.
    static func printable(_ line: String) -> String {
        TerminalText.safe(line, color: color.load(ordering: .relaxed))
    }

    /// A picture's escape sequence from ``ImageEscape``, written as it is: it holds only the keys and
    /// base64 or sixel data that ``ImageEscape`` wrote from the picture's pixels, never a line's text.
    static func writeImage(_ sequence: String) {
        write(STDOUT_FILENO, sequence)
    }

    static func error(_ line: String) {
        write(STDERR_FILENO, TerminalText.safe(line, color: false) + "\n")
    }

    /// Ignores SIGPIPE, so a closed pipe is a write error that ``write(_:_:)`` reports.
    static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { p in
                #if canImport(Glibc)
                Glibc.write(fd, p.baseAddress! + offset, p.count - offset)
                #else
                Darwin.write(fd, p.baseAddress! + offset, p.count - offset)
                #endif
            }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                if fd == STDOUT_FILENO {
                    let msg = Array("error: cannot write to standard output: \(reason)\n".utf8)
                    _ = msg.withUnsafeBytes { p in
                        #if canImport(Glibc)
                        Glibc.write(STDERR_FILENO, p.baseAddress!, p.count)
                        #else
                        Darwin.write(STDERR_FILENO, p.baseAddress!, p.count)
                        #endif
                    }
                }
                exit(1)
            }
            offset += n
        }
    }
}
