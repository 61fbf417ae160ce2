import CEditline
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Where REPL lines come from.
protocol LineReader {
    /// The next line without its newline, or nil at end of input (Ctrl-D).
    mutating func readLine(prompt: String) -> String?
}

/// Plain lines from standard input: scripts, pipes, TERM=dumb. No prompt, no editing.
struct PlainReader: LineReader {
    mutating func readLine(prompt: String) -> String? {
        Swift.readLine(strippingNewline: true)
    }
}

/// The libedit line editor: Emacs keys, history kept across runs, tab completion.
final class EditlineReader: LineReader {
    let historyPath: String

    /// - Parameters:
    ///   - historyPath: the history file; read now, appended after every line.
    ///   - complete: the candidates for the word being completed, given the whole line before it.
    init(historyPath: String, complete: @escaping (_ lineBeforeWord: String, _ word: String) -> [String]) {
        self.historyPath = historyPath
        EditlineReader.completer = complete
        rl_initialize()
        using_history()
        stifle_history(5000)
        _ = read_history(historyPath)
        stepwise_set_basic_word_break_characters(EditlineReader.wordBreaks)
        stepwise_set_completion_entry(EditlineReader.completionEntry)
    }

    func readLine(prompt: String) -> String? {
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        let line = String(cString: raw)
        if !line.trimmingCharacters(in: .whitespaces).isEmpty {
            add_history(line)
            // Append at once so a killed process loses nothing.
            if append_history(1, historyPath) != 0 { _ = write_history(historyPath) }
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
        }
        let i = Int(state)
        guard i < EditlineReader.matches.count else { return nil }
        return strdup(EditlineReader.matches[i])
    }
}
