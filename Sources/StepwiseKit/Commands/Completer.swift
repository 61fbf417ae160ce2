import Foundation

/// Tab completion: command names, the loaded model's step names, layers and heads where each is
/// expected, settings and their values, and file paths inside the folder typed so far.
public struct Completer: Sendable {
    public let interpreter: Interpreter
    /// The folder relative paths are completed in (default: the working directory).
    public var baseDirectory: String?

    public init(interpreter: Interpreter, baseDirectory: String? = nil) {
        self.interpreter = interpreter
        self.baseDirectory = baseDirectory
    }

    /// Candidates for `word`, the word under the cursor, given the line before it.
    public func complete(lineBefore: String, word: String, session: Session) -> [String] {
        let words = lineBefore.split(separator: " ").map(String.init)
        guard let first = words.first else {
            return interpreter.allNames.filter { $0.hasPrefix(word) }
        }
        // The arguments already typed, before the one being completed.
        let args = Array(words.dropFirst())
        let kind: Command.Completion = interpreter.command(named: first)?.completion ?? .none
        let candidates: [String]
        switch kind {
        case .none: return []
        case .commands:
            candidates = args.isEmpty ? interpreter.allNames : []
        case .steps(let thenFile):
            if thenFile, stepTyped(args, session) { return files(matching: word) }
            candidates = steps(args, session)
        case .layer:
            candidates = args.isEmpty ? layers(session) : []
        case .layerHead(let then):
            switch args.count {
            case 0: candidates = layers(session)
            case 1: candidates = heads(session)
            case 2: candidates = then
            default: candidates = []
            }
        case .headPairs(let extra):
            candidates = args.count % 2 == 0 ? layers(session) + extra : heads(session)
        case .settings:
            if args.isEmpty { candidates = Settings.names }
            else if args.count == 1 { candidates = Settings.choices[args[0]] ?? [] }
            else { candidates = [] }
        case .files:
            return files(matching: word)
        }
        return candidates.filter { $0.hasPrefix(word) }
    }

    func layers(_ s: Session) -> [String] {
        (0..<(s.model?.info.layers ?? 0)).map(String.init)
    }

    func heads(_ s: Session) -> [String] {
        (0..<(s.model?.info.heads ?? 0)).map(String.init)
    }

    /// What may follow the step words typed so far: a name or short form, a layer, `head`, a head.
    func steps(_ args: [String], _ session: Session) -> [String] {
        guard let trace = session.trace else { return [] }
        guard let name = args.first else {
            // Only the forms this model's trace has: no `rot_q` for GPT-2, no `pos_embed` for Llama.
            let forms = StepQuery.shortForms.filter { _, form in
                switch form {
                case .global(let hook): trace[hook.name] != nil
                case .perLayer(let hook): trace[hook(0).name] != nil
                }
            }
            return trace.names + forms.keys.sorted()
        }
        guard trace[name] == nil, let form = StepQuery.shortForms[name], case .perLayer(let hook) = form else { return [] }
        switch args.count {
        case 1: return layers(session).filter { Int($0).map { trace[hook($0).name] != nil } ?? false }
        case 2: return trace[hook(Int(args[1]) ?? -1).name]?.axes.contains { $0.name == "head" || $0.name == "kv_head" } == true ? ["head"] : []
        case 3 where args[2] == "head":
            guard let step = trace[hook(Int(args[1]) ?? -1).name],
                  let ax = step.axes.firstIndex(where: { $0.name == "head" || $0.name == "kv_head" }) else { return [] }
            return (0..<step.shape[ax]).map(String.init)
        default: return []
        }
    }

    /// Whether the words typed name a whole step (`logits`, `pattern 0`, `blocks.0.attn.hook_q`), so a
    /// file name comes next.
    func stepTyped(_ args: [String], _ session: Session) -> Bool {
        guard let trace = session.trace, let name = args.first else { return false }
        let bare = String(name.prefix { $0 != "[" })
        if trace[bare] != nil || bare == "tokens" { return true }
        switch StepQuery.shortForms[bare] {
        case .global?: return true
        case .perLayer?: return args.count >= 2 && (args.count != 3 || args[2] != "head")
        case nil: return false
        }
    }

    /// Paths that start with `prefix`, listed from the folder typed so far (relative to
    /// ``baseDirectory``, `~` expanded); folders end in `/`.
    public func files(matching prefix: String) -> [String] {
        if prefix == "~" { return ["~/"] }
        let expanded = prefix.hasPrefix("~") ? Files.resolve(prefix, base: nil) : prefix
        let dir: String, base: String
        if let slash = expanded.lastIndex(of: "/") {
            dir = String(expanded[...slash])
            base = String(expanded[expanded.index(after: slash)...])
        } else {
            dir = ""
            base = expanded
        }
        let fm = FileManager.default
        let root = baseDirectory ?? fm.currentDirectoryPath
        let listed = dir.isEmpty ? root : (dir.hasPrefix("/") ? dir : root + "/" + dir)
        guard let entries = try? fm.contentsOfDirectory(atPath: listed) else { return [] }
        // Shown as typed: `~/` stays `~/`, a relative folder stays relative.
        let shownDir: String
        if prefix.hasPrefix("~") {
            shownDir = prefix.contains("/") ? String(prefix[...prefix.lastIndex(of: "/")!]) : "~/"
        } else {
            shownDir = dir
        }
        // A name with control characters or bidirectional overrides is not offered: the line editor
        // would print it raw (such a file can still be typed, quoted).
        let printable = entries.filter { !$0.unicodeScalars.contains(where: TerminalText.needsEscape) }
        return printable.filter { $0.hasPrefix(base) && (base.hasPrefix(".") || !$0.hasPrefix(".")) }.sorted().map { e in
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: listed + (listed.hasSuffix("/") ? "" : "/") + e, isDirectory: &isDir)
            return shownDir + e + (isDir.boolValue ? "/" : "")
        }
    }
}
