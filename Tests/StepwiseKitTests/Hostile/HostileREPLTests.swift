import Foundation
import Testing
@testable import StepwiseKit

/// What a failing command must leave alone.
private struct SessionState: Equatable {
    var source: String?
    var promptText: String?
    var ids: [Int]
    var cursor: Int
    var stepNames: [String]?
    var history: Int
    var future: Int
    var settings: Settings
    var interventions: [Intervention]
    var transcript: [String]

    init(_ s: Session) {
        source = s.source
        promptText = s.promptText
        ids = s.ids
        cursor = s.cursor
        stepNames = s.trace?.steps.map(\.name)
        history = s.history.count
        future = s.future.count
        settings = s.settings
        interventions = s.interventions
        transcript = s.transcript.map(\.command)
    }
}

/// A bad command line and a fragment of the one-line error it must give.
struct BadCommand: Sendable, CustomStringConvertible {
    var line: String
    var says: String
    var description: String { line }
}

/// Every bad command tried against a session with the GPT-2 fixture (2 layers, 4 heads, context 64) and a prompt.
let badCommands: [BadCommand] = [
    BadCommand(line: "atn 0 1", says: "unknown command 'atn' — did you mean 'attn'?"),
    BadCommand(line: "frobnicate", says: "unknown command 'frobnicate'"),
    BadCommand(line: "attn", says: "attn"),
    BadCommand(line: "attn x y", says: "x"),
    BadCommand(line: "attn 0", says: "attn"),
    BadCommand(line: "attn 2 0", says: "layer"),
    BadCommand(line: "attn 0 4", says: "head"),
    BadCommand(line: "attn -1 0", says: "layer"),
    BadCommand(line: "attn 99999999999999999999 0", says: "layer"),
    BadCommand(line: "heads 7", says: "layer"),
    BadCommand(line: "ffn 2", says: "layer"),
    BadCommand(line: "steps 9", says: "layer 9 does not exist: the model has layers 0–1"),
    BadCommand(line: "next abc", says: "abc"),
    BadCommand(line: "back -2", says: "-2"),
    BadCommand(line: "top 0", says: "0"),
    BadCommand(line: "goto blocks.9.hook_resid_post", says: "layer 9 does not exist: the model has layers 0–1"),
    BadCommand(line: "goto", says: "name a step"),
    BadCommand(line: "show no_such_step", says: "no_such_step"),
    BadCommand(line: "show blocks.0.attn.hook_pattern[4]", says: "4"),
    BadCommand(line: "show blocks.0.attn.hook_pattern[0, 99]", says: "99"),
    BadCommand(line: "show blocks.0.attn.hook_pattern[0, 0, 0, 0]", says: "slice has 4 parts but the tensor has 3 axes"),
    BadCommand(line: "show blocks.0.attn.hook_pattern[0", says: "]"),
    BadCommand(line: "show logits[a:b]", says: "a"),
    BadCommand(line: "show [0]", says: "name a step before the slice"),
    BadCommand(line: "set precision abc", says: "precision"),
    BadCommand(line: "set precision -1", says: "precision"),
    BadCommand(line: "set nosuch 1", says: "nosuch"),
    BadCommand(line: "set view sideways", says: "sideways"),
    BadCommand(line: "prompt", says: "the prompt is empty"),
    BadCommand(line: "prompt \"\"", says: "the prompt is empty"),
    BadCommand(line: "prompt \"bad escape \\q\"", says: "\\q"),
    BadCommand(line: "prompt \"ends in a backslash\\\"", says: "lone backslash"),
    BadCommand(line: "prompt " + String(repeating: "a ", count: 70), says: "tokens but the model's context is 64; shorten it (nothing was cut)"),
    BadCommand(line: "load /no/such/model", says: "/no/such/model: no such file or folder"),
    BadCommand(line: "lesson /no/such/lesson.md", says: "/no/such/lesson.md"),
    BadCommand(line: "export logits", says: "usage: export NAME FILE [--force]"),
    BadCommand(line: "export logits /no/such/folder/x.json", says: "folder '/no/such/folder' does not exist"),
    BadCommand(line: "export logits out.txt", says: "txt"),
    BadCommand(line: "export nothing out.json", says: "nothing"),
    BadCommand(line: "help nosuch", says: "nosuch"),
]

@Suite("Hostile REPL commands")
struct HostileREPLTests {
    let interp = StandardCommands.interpreter()

    /// A session with the GPT-2 fixture loaded, a prompt run and the cursor moved.
    func session(_ folder: TempFolder) throws -> Session {
        var s = Session()
        try s.load(path: folder.path)
        for line in ["prompt the cat sat on", "next 3", "set precision 4"] {
            guard case .output = interp.execute(line, in: &s, context: CommandContext()) else {
                throw StepwiseError.usage("setup command failed: \(line)")
            }
        }
        return s
    }

    @Test("a bad command is one error line and leaves the session unchanged", arguments: badCommands)
    func badCommand(_ c: BadCommand) throws {
        let t = try HostileFixtures.gpt2Folder()
        var s = try session(t)
        let before = SessionState(s)
        let outcome = interp.execute(c.line, in: &s, context: CommandContext(baseDirectory: t.path))
        guard case .failure(let line) = outcome else {
            Issue.record("'\(c.line)' should fail, got \(outcome)"); return
        }
        #expect(line.hasPrefix("error: "), "\(line)")
        #expect(!line.contains("\n"), "more than one line: \(line)")
        #expect(line.contains(c.says), "'\(c.line)': \(line)")
        #expect(SessionState(s) == before, "'\(c.line)' changed the session")
    }

    @Test("many bad commands in a row: the state and the transcript are kept, good commands still work")
    func manyInARow() throws {
        let t = try HostileFixtures.gpt2Folder()
        var s = try session(t)
        let ctx = CommandContext(baseDirectory: t.path)
        var expected = SessionState(s)
        for (i, c) in badCommands.enumerated() {
            guard case .failure = interp.execute(c.line, in: &s, context: ctx) else {
                Issue.record("'\(c.line)' should fail"); continue
            }
            #expect(SessionState(s) == expected, "after '\(c.line)'")
            // A good command between the bad ones moves the cursor and is recorded.
            let good = i % 2 == 0 ? "next" : "back"
            guard case .output = interp.execute(good, in: &s, context: ctx) else {
                Issue.record("'\(good)' failed after '\(c.line)'"); continue
            }
            #expect(s.transcript.last?.command == good)
            expected = SessionState(s)
        }
        #expect(s.transcript.map(\.command).prefix(3) == ["prompt the cat sat on", "next 3", "set precision 4"])
        guard case .output(let out) = interp.execute("show logits[-1, 0:3]", in: &s, context: ctx) else {
            Issue.record("show failed at the end"); return
        }
        #expect(!out.isEmpty)
    }

    @Test("a lesson with an error names the file and line and leaves the session unchanged")
    func badLesson() throws {
        let t = try HostileFixtures.gpt2Folder()
        var s = try session(t)
        try t.write("broken.md", "# Broken\n\n```output\nstray\n```\n")
        let before = SessionState(s)
        let outcome = interp.execute("lesson \(t.file("broken.md").path)", in: &s, context: CommandContext(baseDirectory: t.path))
        guard case .failure(let line) = outcome else { Issue.record("expected a failure, got \(outcome)"); return }
        #expect(line.contains("broken.md:3:"), "\(line)")
        #expect(!line.contains("\n"))
        #expect(SessionState(s) == before)
    }

    @Test("a prompt of exactly the context length runs; one token more is refused, nothing cut")
    func contextEdge() throws {
        let t = try HostileFixtures.gpt2Folder()
        var s = try session(t)
        // With this tokenizer 'a' is one id, ' a' two ('Ġ', 'a'), ' t' one ('Ġt'), ' th' two ('Ġt', 'h').
        let fits = "a" + String(repeating: " a", count: 31) + " t"
        let over = fits + "h"
        #expect(try s.tokenizer!.encodeForModel(fits).count == 64)
        #expect(try s.tokenizer!.encodeForModel(over).count == 65)
        guard case .output = interp.execute("prompt " + fits, in: &s, context: CommandContext()) else {
            Issue.record("a 64-token prompt should run"); return
        }
        #expect(s.ids.count == 64)
        let before = SessionState(s)
        guard case .failure(let line) = interp.execute("prompt " + over, in: &s, context: CommandContext()) else {
            Issue.record("a 65-token prompt should fail"); return
        }
        #expect(line.contains("65 tokens") && line.contains("context is 64"), "\(line)")
        #expect(SessionState(s) == before)
    }
}
