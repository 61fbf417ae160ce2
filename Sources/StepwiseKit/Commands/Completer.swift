import Foundation

/// Tab completion: command names, step names, layer numbers, settings and file paths.
public struct Completer: Sendable {
    public let interpreter: Interpreter

    public init(interpreter: Interpreter) {
        self.interpreter = interpreter
    }

    /// Candidates for `word`, the word under the cursor, given the line before it.
    public func complete(lineBefore: String, word: String, session: Session) -> [String] {
        let words = lineBefore.split(separator: " ").map(String.init)
        guard let first = words.first else {
            return interpreter.allNames.filter { $0.hasPrefix(word) }
        }
        let kind: Command.Completion = interpreter.command(named: first)?.completion ?? .none
        switch kind {
        case .none: return []
        case .commands:
            return interpreter.allNames.filter { $0.hasPrefix(word) }
        case .steps:
            guard let trace = session.trace else { return [] }
            if words.count == 2, StepQuery.shortForms[words[1]]?.needsLayer == true {
                return layers(session).filter { $0.hasPrefix(word) }
            }
            let names = trace.names + StepQuery.shortForms.keys.sorted()
            return names.filter { $0.hasPrefix(word) }
        case .layers:
            return (words.count <= 2 ? layers(session) : heads(session)).filter { $0.hasPrefix(word) }
        case .settings:
            if words.count == 1 { return Settings.names.filter { $0.hasPrefix(word) } }
            return (Settings.choices[words[1]] ?? []).filter { $0.hasPrefix(word) }
        case .files:
            return files(matching: word)
        }
    }

    func layers(_ s: Session) -> [String] {
        (0..<(s.model?.info.layers ?? 0)).map(String.init)
    }

    func heads(_ s: Session) -> [String] {
        (0..<(s.model?.info.heads ?? 0)).map(String.init)
    }

    /// Paths that start with `prefix`; folders end in `/`.
    public func files(matching prefix: String) -> [String] {
        let expanded = prefix.hasPrefix("~") ? NSString(string: prefix).expandingTildeInPath : prefix
        let dir: String, base: String
        if let slash = expanded.lastIndex(of: "/") {
            dir = String(expanded[...slash])
            base = String(expanded[expanded.index(after: slash)...])
        } else {
            dir = ""
            base = expanded
        }
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir) else { return [] }
        let shownDir = prefix.hasPrefix("~") ? String(prefix[...(prefix.lastIndex(of: "/") ?? prefix.startIndex)]) : dir
        // A name with control characters or bidirectional overrides is not offered: the line editor
        // would print it raw (such a file can still be typed, quoted).
        let printable = entries.filter { !$0.unicodeScalars.contains(where: TerminalText.needsEscape) }
        return printable.filter { $0.hasPrefix(base) && (base.hasPrefix(".") || !$0.hasPrefix(".")) }.sorted().map { e in
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: (dir.isEmpty ? "" : dir) + e, isDirectory: &isDir)
            let head = prefix.hasPrefix("~") && !prefix.contains("/") ? "" : shownDir
            return head + e + (isDir.boolValue ? "/" : "")
        }
    }
}
