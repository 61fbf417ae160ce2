import CEditline
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import StepwiseKit

/// Where REPL lines come from.
protocol LineReader {
    /// The next line without its newline, or nil at end of input (Ctrl-D).
    mutating func readLine(prompt: String) -> String?
}

/// Plain lines from standard input: scripts, pipes, TERM=dumb. No editing; the prompt only when a
/// person is at a terminal (a lesson's answer line from the shell), never in a script's output.
struct PlainReader: LineReader {
    mutating func readLine(prompt: String) -> String? {
        if !prompt.isEmpty, isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 { Console.write(STDOUT_FILENO, prompt) }
        return Swift.readLine(strippingNewline: true)
    }
}

/// The libedit line editor: Emacs keys, history kept across runs, tab completion.
final class EditlineReader: LineReader {
    let history: HistoryFile

    /// - Parameters:
    ///   - history: the history file; read now, appended after every line.
    ///   - complete: the candidates for the word being completed, given the whole line before it.
    init(history: HistoryFile, complete: @escaping (_ lineBeforeWord: String, _ word: String) -> [String]) {
        self.history = history
        EditlineReader.completer = complete
        rl_initialize()
        using_history()
        stifle_history(Int32(history.limit))
        for line in history.load() { add_history(line) }
        stepwise_set_basic_word_break_characters(EditlineReader.wordBreaks)
        stepwise_set_completion_entry(EditlineReader.completionEntry)
    }

    func readLine(prompt: String) -> String? {
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        let line = String(cString: raw)
        if !line.trimmingCharacters(in: .whitespaces).isEmpty {
            add_history(line)
            // Appended at once, so a killed process loses nothing.
            history.append(line)
        }
        return line
    }

    // MARK: - Completion (C callbacks cannot capture, so the state is static)

    nonisolated(unsafe) static var completer: ((String, String) -> [String])?
    nonisolated(unsafe) static var matches: [String] = []
    nonisolated(unsafe) static let wordBreaks: UnsafePointer<CChar> = UnsafePointer(strdup(" \t\n\"'")!)

    static let completionEntry: stepwise_completion_fn = { text, state in
        guard let text else { return nil }
        if state == 0 {
            let word = String(cString: text)
            let line = String(cString: stepwise_line_buffer())
            let point = min(Int(stepwise_point()), line.utf8.count)
            let before = String(decoding: Array(line.utf8.prefix(point)).dropLast(word.utf8.count), as: UTF8.self)
            EditlineReader.matches = EditlineReader.completer?(before, word) ?? []
            // A folder is completed without the space after it, so the next Tab lists what is inside.
            let folder = EditlineReader.matches.count == 1 && EditlineReader.matches[0].hasSuffix("/")
            stepwise_set_completion_append_character(folder ? 0 : 32)
        }
        let i = Int(state)
        guard i < EditlineReader.matches.count else { return nil }
        return strdup(EditlineReader.matches[i])
    }
}

/// The REPL's history file: one command a line, appended after every line, trimmed to the last
/// ``limit`` lines when it grows past a quarter more. Written by Stepwise itself rather than libedit,
/// whose `append_history` wrote a new file's first line twice.
final class HistoryFile {
    let path: String
    let limit: Int
    private var lines = 0

    /// `STEPWISE_HISTORY`, else `~/.stepwise_history` under `$HOME`.
    static var defaultPath: String {
        if let p = ProcessInfo.processInfo.environment["STEPWISE_HISTORY"], !p.isEmpty { return p }
        return Files.home + "/.stepwise_history"
    }

    init(path: String = HistoryFile.defaultPath, limit: Int = 2000) {
        self.path = path
        self.limit = limit
    }

    /// The last ``limit`` commands (octal escapes such as `\040` from libedit's old format decoded).
    func load() -> [String] {
        guard FileKind.at(path) == .regular, let data = try? MappedFile.data(path: path) else { return [] }
        let all = String(decoding: data, as: UTF8.self).split(separator: "\n").map { Self.unescape(String($0)) }
            .filter { !$0.isEmpty && $0 != "_HiStOrY_V2_" }
        lines = all.count
        return Array(all.suffix(limit))
    }

    func append(_ line: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        close(fd)
        lines += 1
        if lines > limit + limit / 4 { trim() }
    }

    private func trim() {
        let keep = load()
        try? AtomicFile.write(Data((keep.joined(separator: "\n") + "\n").utf8), to: path, replace: true)
        lines = keep.count
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            let digits = i + 3 < b.count ? b[(i + 1)...(i + 3)] : []
            if b[i] == UInt8(ascii: "\\"), digits.count == 3, digits.allSatisfy({ (48...55).contains($0) }),
               let v = UInt8(String(decoding: digits, as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
