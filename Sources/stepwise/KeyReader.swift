#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One key press at a lesson's pause, read without Enter (the terminal in non-canonical mode for
/// that one read). Without a terminal it reads a line and takes its first character.
enum KeyReader {
    enum Key: Equatable {
        case next, back, quit, answer
        /// Ctrl-C: stay at the pause.
        case interrupt
        /// End of input (Ctrl-D, or a closed pipe).
        case end
        case other
    }

    /// Shows `hint` and waits for one key: Enter, space, n or → go on; b or ← go back; q quits; a
    /// answers (at a quiz); Ctrl-C is reported so the caller can stay where it is.
    static func read(hint: String) -> Key {
        Console.write(STDOUT_FILENO, hint)
        guard isatty(STDIN_FILENO) == 1 else {
            guard let line = Swift.readLine() else { return .end }
            Console.write(STDOUT_FILENO, "\n")
            return key(for: line.first.map { UInt8(ascii: $0.unicodeScalars.first!.isASCII ? $0.unicodeScalars.first! : "?") } ?? 13)
        }
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return .end }
        var raw = saved
        // No line buffering, no echo, and Ctrl-C arrives as a byte rather than SIGINT.
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            Console.write(STDOUT_FILENO, "\n")
        }
        guard let b = readByte() else { return .end }
        if b == 0x1B {
            // An arrow key is ESC [ C (right) or ESC [ D (left); a lone Escape is nothing.
            guard let b2 = readByte(timeoutTenths: 1), b2 == UInt8(ascii: "["), let b3 = readByte(timeoutTenths: 1) else { return .other }
            return b3 == UInt8(ascii: "C") ? .next : b3 == UInt8(ascii: "D") ? .back : .other
        }
        return key(for: b)
    }

    static func key(for b: UInt8) -> Key {
        switch b {
        case 13, 10, 32, UInt8(ascii: "n"), UInt8(ascii: "N"): return .next
        case UInt8(ascii: "b"), UInt8(ascii: "B"): return .back
        case UInt8(ascii: "q"), UInt8(ascii: "Q"): return .quit
        case UInt8(ascii: "a"), UInt8(ascii: "A"): return .answer
        case 3: return .interrupt
        case 4: return .end
        default: return .other
        }
    }

    /// One byte from standard input; with a timeout (tenths of a second), nil when none came.
    static func readByte(timeoutTenths: Int? = nil) -> UInt8? {
        if let t = timeoutTenths {
            var p = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(t * 100)) > 0 else { return nil }
        }
        var b: UInt8 = 0
        while true {
            let n = Glibc.read(STDIN_FILENO, &b, 1)
            if n == 1 { return b }
            if n < 0, errno == EINTR { continue }
            return nil
        }
    }
}
