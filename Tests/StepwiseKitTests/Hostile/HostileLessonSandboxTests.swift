import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import StepwiseKit

/// A lesson is a stranger's file: it reads only inside its folder, writes only new files there, never
/// while checked, and cannot play itself (lessons/README.md, "What a lesson may do").
@Suite("Hostile lessons: the sandbox")
struct HostileLessonSandboxTests {
    /// A lesson folder `lesson/` beside a folder `outside/`, in one temp folder.
    struct Layout {
        let root: TempFolder
        var lesson: URL { root.file("lesson") }
        var outside: URL { root.file("outside") }

        init() throws {
            root = try TempFolder()
            try FileManager.default.createDirectory(at: root.file("lesson"), withIntermediateDirectories: false)
            try FileManager.default.createDirectory(at: root.file("outside"), withIntermediateDirectories: false)
        }

        /// Writes `lesson/NAME` with one stepwise block per command.
        func lesson(_ name: String, _ commands: [String], title: String = "A lesson") throws -> String {
            let blocks = commands.map { "```stepwise\n\($0)\n```\n" }.joined(separator: "\n")
            let path = lesson.appendingPathComponent(name).path
            try Data("# \(title)\n\n\(blocks)".utf8).write(to: URL(fileURLWithPath: path))
            return path
        }

        func listing(_ url: URL) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
        }
    }

    /// Plays a lesson straight through (as `stepwise lesson --no-pause` does) and returns its lines.
    func play(_ path: String) -> [String] {
        var s = Session()
        let interp = StandardCommands.interpreter()
        switch interp.execute("lesson \"\(path)\"", in: &s, context: CommandContext(baseDirectory: "/")) {
        case .output(let lines): return lines
        case .failure(let line): return [line]
        case .quit: return []
        }
    }

    @Test("export and record outside the lesson's folder are refused: '..', absolute, '~', a symlinked folder",
          arguments: ["export logits ../outside/x.json", "export logits OUTSIDE/x.json", "export logits ~/stepwise-sandbox-test.json",
                      "export logits link/x.json", "record ../outside/bashrc", "record ~/.bashrc", "export logits link/../x.json"])
    func writesOutsideRefused(_ command: String) throws {
        let l = try Layout()
        try FileManager.default.createSymbolicLink(at: l.lesson.appendingPathComponent("link"), withDestinationURL: l.outside)
        let cmd = command.replacingOccurrences(of: "OUTSIDE", with: l.outside.path)
        let lines = play(try l.lesson("a.md", ["prompt the cat sat", cmd]))
        #expect(lines.contains { $0.contains("error: a lesson may write only inside its own folder") }, "\(lines)")
        #expect(l.listing(l.outside).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: Files.home + "/stepwise-sandbox-test.json"))
    }

    @Test("inside its folder a lesson writes new files only: --force is refused, an existing file stays byte for byte")
    func writesInsideNeverReplace() throws {
        let l = try Layout()
        let keep = Data("teacher's file\n".utf8)
        try keep.write(to: l.lesson.appendingPathComponent("old.json"))
        let lines = play(try l.lesson("a.md", ["prompt the cat sat", "export logits new.json", "export logits old.json",
                                                "export logits old.json --force", "record notes.md --force", "record notes.md"]))
        #expect(lines.contains("wrote logits [4, 4096] to new.json"), "\(lines)")
        #expect(lines.contains("error: 'old.json' exists; a lesson never replaces a file (choose a new name)"))
        #expect(lines.contains("error: 'export --force' is refused in a lesson: a lesson never replaces a file"))
        #expect(lines.contains("error: 'record --force' is refused in a lesson: a lesson never replaces a file"))
        #expect(try MappedFile.data(path: l.lesson.appendingPathComponent("old.json").path) == keep)
        #expect(l.listing(l.lesson) == ["a.md", "new.json", "notes.md", "old.json"])
    }

    @Test("stepwise check writes nothing, and --update writes only the lesson file")
    func checkWritesNothing() throws {
        let l = try Layout()
        let path = try l.lesson("a.md", ["prompt the cat sat", "export logits new.json", "record r.md"])
        let result = try LessonRunner.check(path: path)
        #expect(!result.passed)
        #expect(result.report.contains { $0.contains("'export' writes no files while a lesson is checked") }, "\(result.report)")
        #expect(l.listing(l.lesson) == ["a.md"])
        // --update replays too: a command that would write fails it, and nothing is written.
        #expect(throws: StepwiseError.self) { try LessonRunner.update(path: path) }
        #expect(l.listing(l.lesson) == ["a.md"])
        #expect(try MappedFile.data(path: path) == Data("# A lesson\n\n```stepwise\nprompt the cat sat\n```\n\n```stepwise\nexport logits new.json\n```\n\n```stepwise\nrecord r.md\n```\n".utf8))
    }

    @Test("a lesson that plays itself, directly or in a cycle, is an error naming the cycle")
    func cycles() throws {
        let l = try Layout()
        let a = try l.lesson("a.md", ["lesson b.md"])
        _ = try l.lesson("b.md", ["lesson a.md"])
        _ = try l.lesson("self.md", ["lesson self.md"])
        let lines = play(a)
        #expect(lines.contains { $0.contains("error: lesson cycle: ") && $0.hasSuffix("b.md → a.md; a lesson cannot play itself") }, "\(lines)")
        let own = play(l.lesson.appendingPathComponent("self.md").path)
        #expect(own.contains { $0.contains("lesson cycle:") && $0.contains("→ self.md") }, "\(own)")
    }

    @Test("a nested lesson must lie inside the lesson's folder (a symlink out counts as out)")
    func nestedOutside() throws {
        let l = try Layout()
        try Data("# Outside\n\n```stepwise\nprompt hi\n```\n".utf8).write(to: l.outside.appendingPathComponent("o.md"))
        try FileManager.default.createSymbolicLink(at: l.lesson.appendingPathComponent("in.md"),
                                                   withDestinationURL: l.outside.appendingPathComponent("o.md"))
        let lines = play(try l.lesson("a.md", ["lesson ../outside/o.md", "lesson in.md"]))
        #expect(lines.filter { $0.contains("error: a lesson may read only files inside its own folder") }.count == 2, "\(lines)")
    }

    @Test("a model outside the folder may be loaded (only loaded); 'lessons' lists the lesson's own folder")
    func modelsLoadFromAnywhere() throws {
        let l = try Layout()
        let model = try HostileFixtures.gpt2Folder()
        let lines = play(try l.lesson("a.md", ["load \"\(model.path)\"", "lessons"], title: "Loads"))
        #expect(lines.contains { $0.hasPrefix("loaded ") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("a.md") && $0.hasSuffix("Loads") }, "\(lines)")
    }
}

/// Special files are refused before anything opens them: no blocking open(2) on a FIFO.
@Suite("Hostile special files")
struct HostileSpecialFileTests {
    func fifo(_ t: TempFolder, _ name: String) throws -> String {
        let p = t.file(name).path
        #expect(mkfifo(p, 0o600) == 0)
        return p
    }

    func run(_ line: String, base: String) -> Interpreter.Outcome {
        var s = Session()
        return StandardCommands.interpreter().execute(line, in: &s, context: CommandContext(baseDirectory: base))
    }

    @Test("load, lesson and check refuse a FIFO; so do a FIFO model.safetensors and a FIFO tokenizer file")
    func fifos() throws {
        let t = try TempFolder()
        _ = try fifo(t, "pipe.gguf")
        _ = try fifo(t, "pipe.md")
        guard case .failure(let l1) = run("load pipe.gguf", base: t.path) else { Issue.record("load of a FIFO succeeded"); return }
        #expect(l1.hasPrefix("error: ") && l1.hasSuffix("pipe.gguf: is a named pipe (FIFO), not a model file or folder"), "\(l1)")
        guard case .failure(let l2) = run("lesson pipe.md", base: t.path) else { Issue.record("lesson of a FIFO succeeded"); return }
        #expect(l2.contains("is a named pipe (FIFO), not a regular file"), "\(l2)")
        #expect(throws: StepwiseError.self) { try LessonRunner.check(path: t.file("pipe.md").path) }
        let m = try HostileFixtures.gpt2Folder()
        try FileManager.default.removeItem(at: m.file("vocab.json"))
        _ = try fifo(m, "vocab.json")
        guard case .failure(let l3) = run("load .", base: m.path) else { Issue.record("a FIFO vocab.json loaded"); return }
        #expect(l3.hasSuffix("vocab.json: is a named pipe (FIFO), not a regular file"), "\(l3)")
        try FileManager.default.removeItem(at: m.file("model.safetensors"))
        try FileManager.default.createSymbolicLink(atPath: m.file("model.safetensors").path, withDestinationPath: "/dev/zero")
        try FileManager.default.removeItem(at: m.file("vocab.json"))
        try FileManager.default.copyItem(at: HostileFixtures.tokenizer.appendingPathComponent("vocab.json"), to: m.file("vocab.json"))
        guard case .failure(let l4) = run("load .", base: m.path) else { Issue.record("/dev/zero loaded as weights"); return }
        #expect(l4.hasSuffix("model.safetensors: is a character device, not a regular file"), "\(l4)")
    }

    @Test("a lesson naming a FIFO as its model fails with a clear line")
    func fifoModelHeader() throws {
        let t = try TempFolder()
        _ = try fifo(t, "m.gguf")
        try t.write("a.md", "<!-- model: m.gguf -->\n# A\n\n```stepwise\ntokens\n```\n")
        guard case .failure(let line) = run("lesson a.md", base: t.path) else { Issue.record("played"); return }
        #expect(line.contains("the lesson needs model 'm.gguf'") && line.contains("named pipe"), "\(line)")
    }

    @Test("Ctrl-C during a load stops it; the session keeps its model")
    func cancelledLoad() throws {
        let m = try HostileFixtures.gpt2Folder()
        var s = Session()
        try s.load(path: nil)
        let ctx = CommandContext(isCancelled: { true }, baseDirectory: m.path)
        let outcome = StandardCommands.interpreter().execute("load .", in: &s, context: ctx)
        #expect(outcome == .failure("error: loading was interrupted (Ctrl-C); the model loaded before stays"))
        #expect(s.source == "builtin" && s.model?.info.vocabularySize == 4096)
    }
}

/// Writes never surprise (AtomicFile).
@Suite("Hostile export targets")
struct HostileWriteTargetTests {
    let data = Data("new\n".utf8)

    @Test("'~' is expanded once, before the existence check")
    func tilde() {
        #expect(CommandContext(baseDirectory: "/x").resolve("~/k.json") == Files.home + "/k.json")
        #expect(CommandContext(baseDirectory: "/x").resolve("~") == Files.home)
        #expect(CommandContext(baseDirectory: "/x").resolve("k.json") == "/x/k.json")
    }

    @Test("a dangling symlink, a FIFO and a directory at the target are errors, --force included", arguments: [false, true])
    func specialTargets(_ force: Bool) throws {
        let t = try TempFolder()
        try FileManager.default.createSymbolicLink(atPath: t.file("dangling").path, withDestinationPath: t.file("nowhere").path)
        #expect(mkfifo(t.file("fifo").path, 0o600) == 0)
        try FileManager.default.createDirectory(at: t.file("dir"), withIntermediateDirectories: false)
        for (name, words) in [("dangling", "symbolic link to nothing"), ("fifo", "named pipe"), ("dir", "is a directory")] {
            let e = expectStepwiseError { try AtomicFile.write(data, to: t.file(name).path, replace: force, shownAs: name) }
            #expect(e?.message.contains(words) == true, "\(name): \(e?.message ?? "")")
        }
        #expect(!FileManager.default.fileExists(atPath: t.file("nowhere").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.path).sorted() == ["dangling", "dir", "fifo"])
    }

    @Test("--force over a symlink replaces the link itself, never the file it points to")
    func neverThroughALink() throws {
        let t = try TempFolder()
        try t.write("victim", "precious\n")
        try FileManager.default.createSymbolicLink(atPath: t.file("out.json").path, withDestinationPath: t.file("victim").path)
        let e = expectStepwiseError { try AtomicFile.write(data, to: t.file("out.json").path, replace: false) }
        #expect(e?.message.contains("exists; add --force") == true)
        try AtomicFile.write(data, to: t.file("out.json").path, replace: true)
        #expect(try t.read("victim") == Data("precious\n".utf8))
        #expect(try t.read("out.json") == data)
        #expect(FileKind.at(t.file("out.json").path, followLinks: false) == .regular)
    }

    @Test("the temporary file is never a predictable name planted in advance (a symlink at the old name is not followed)")
    func plantedTemporary() throws {
        let t = try TempFolder()
        try t.write("victim", "precious\n")
        let old = t.file(".out.json.\(ProcessInfo.processInfo.processIdentifier).tmp").path
        try FileManager.default.createSymbolicLink(atPath: old, withDestinationPath: t.file("victim").path)
        try AtomicFile.write(data, to: t.file("out.json").path, replace: false)
        #expect(try t.read("victim") == Data("precious\n".utf8))
        #expect(try t.read("out.json") == data)
        let left = try FileManager.default.contentsOfDirectory(atPath: t.path).sorted()
        #expect(left == [".out.json.\(ProcessInfo.processInfo.processIdentifier).tmp", "out.json", "victim"])
    }

    @Test("a file that appears at the target is never replaced without force (link(2) fails, nothing is lost)")
    func noClobber() throws {
        let t = try TempFolder()
        try t.write("out.json", "first\n")
        let e = expectStepwiseError { try AtomicFile.write(data, to: t.file("out.json").path, replace: false) }
        #expect(e?.message == "'out.json' exists; add --force to overwrite it" || e?.message.hasSuffix("out.json' exists; add --force to overwrite it") == true)
        #expect(try t.read("out.json") == Data("first\n".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.path) == ["out.json"])
    }
}

/// Nothing untrusted reaches the terminal raw.
@Suite("Hostile terminal text")
struct HostileTerminalTextTests {
    static let evil = "a\u{1B}]0;pwned\u{07}b\u{1B}[2J\u{9B}31m\u{202E}cba\u{2066}\u{7F}"

    @Test("control characters, C1 codes and bidirectional controls print visibly")
    func visible() {
        #expect(TerminalText.visible(Self.evil) == "a\\x1b]0;pwned\\x07b\\x1b[2J\\u{9b}31m<U+202E>cba<U+2066>\\x7f")
        #expect(TerminalText.visible("plain ' text é 日本") == "plain ' text é 日本")
        #expect(TokenLabel.display("\u{202E}x\u{9B}") == "'<U+202E>x\\u{9b}'")
    }

    @Test("only Stepwise's own colour codes pass, and only with colour on")
    func ownColour() {
        let ours = "\u{1B}[38;5;196mX\u{1B}[0m \u{1B}[1mB\u{1B}[0m \u{1B}[48;5;21mY\u{1B}[0m"
        #expect(TerminalText.safe(ours, color: true) == ours)
        #expect(!TerminalText.safe(ours, color: false).contains("\u{1B}"))
        for foreign in ["\u{1B}[2J", "\u{1B}[31;1m", "\u{1B}[38;5;999m", "\u{1B}]0;t\u{07}", "\u{1B}[?1049h", "\u{1B}P", "\u{1B}[38;2;1;2;3m"] {
            #expect(!TerminalText.safe("x" + foreign, color: true).contains("\u{1B}"), "\(TerminalText.visible(foreign))")
        }
    }

    @Test("a tokenizer whose pieces hold escapes: tokens, explain, show and errors print them visibly")
    func hostilePieces() throws {
        let t = try HostileFixtures.gpt2Folder()
        // Give two pieces of the vocabulary escape sequences (the model still loads: same size).
        var vocab = try JSONSerialization.jsonObject(with: t.read("vocab.json")) as! [String: Int]
        let victims = vocab.filter { $0.key.count == 1 && $0.value > 200 }.sorted { $0.value < $1.value }.prefix(2)
        for (i, (k, id)) in victims.enumerated() {
            vocab[k] = nil
            vocab[i == 0 ? "\u{1B}]0;pwned\u{07}" : "\u{202E}\u{9B}2J"] = id
        }
        try JSONSerialization.data(withJSONObject: vocab).write(to: t.file("vocab.json"))
        var s = Session()
        try s.load(path: t.path)
        let interp = StandardCommands.interpreter()
        let ctx = CommandContext(color: true, baseDirectory: t.path)
        var all: [String] = []
        for line in ["prompt the cat sat", "tokens", "explain the \u{1B}[2J cat", "show logits", "top 5", "info",
                     "nosuch\u{1B}[2Jcmd", "export \u{1B}]0;x\u{07} a.json", "load \u{202E}nothing"] {
            switch interp.execute(line, in: &s, context: ctx) {
            case .output(let out): all += out
            case .failure(let f): all.append(f)
            case .quit: break
            }
        }
        // Decode the ids of the planted pieces to check they appear visibly when printed.
        let ids = victims.map(\.value)
        let labels = ids.map { s.tokenizer!.label(for: $0) }
        #expect(labels.allSatisfy { !$0.contains("\u{1B}") && !$0.contains("\u{9B}") && !$0.contains("\u{202E}") }, "\(labels)")
        for line in all {
            let stripped = line.replacingOccurrences(of: #"\u{1B}\[(0|1|38;5;\d+|48;5;\d+)m"#, with: "", options: .regularExpression)
            #expect(!stripped.unicodeScalars.contains { TerminalText.needsEscape($0) }, "raw control in: \(TerminalText.visible(line))")
        }
        #expect(all.contains { $0.contains("unknown command 'nosuch\\x1b[2Jcmd'") })
    }

    @Test("a lesson's title, narration and quiz print visibly when played")
    func hostileLesson() throws {
        let t = try TempFolder()
        try t.write("a.md", "# Title \u{1B}[2J\n\nNarration \u{1B}]0;pwned\u{07} and \u{202E}this.\n\n```stepwise\nprompt hi\n```\n")
        var s = Session()
        guard case .output(let lines) = StandardCommands.interpreter().execute("lesson a.md", in: &s, context: CommandContext(baseDirectory: t.path)) else {
            Issue.record("the lesson did not play"); return
        }
        #expect(lines.contains("Title \\x1b[2J"))
        #expect(lines.contains("Narration \\x1b]0;pwned\\x07 and <U+202E>this."), "\(lines)")
        #expect(!lines.joined().unicodeScalars.contains { TerminalText.needsEscape($0) })
    }
}

@Suite("Hostile file names in completion")
struct HostileCompletionTests {
    @Test("file names with control characters or bidi overrides are not offered; plain names are")
    func hostileNames() throws {
        let t = try TempFolder()
        for name in ["plain.md", "evil\u{1B}]0;x\u{07}.md", "rtl\u{202E}dm.exe"] {
            #expect(FileManager.default.createFile(atPath: t.file(name).path, contents: Data()))
        }
        let c = Completer(interpreter: StandardCommands.interpreter())
        #expect(c.files(matching: t.path + "/") == [t.path + "/plain.md"])
    }
}
