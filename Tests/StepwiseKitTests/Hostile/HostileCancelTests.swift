import Foundation
import Synchronization
import Testing
@testable import StepwiseKit

/// A cancellation flag that turns true after `after` checks.
final class CountdownCancel: Sendable {
    let after: Int
    let calls = Atomic<Int>(0)
    init(after: Int) { self.after = after }
    /// True from the `after + 1`-th call on.
    func check() -> Bool { calls.add(1, ordering: .relaxed).newValue > after }
}

@Suite("Interrupting long work")
struct HostileCancelTests {
    let interp = StandardCommands.interpreter()

    @Test("prompt stops with 'interrupted' when cancelled, the session keeps its previous prompt and works on", arguments: [0, 1])
    func promptInterrupted(after: Int) throws {
        let t = try HostileFixtures.gpt2Folder()
        var s = Session()
        try s.load(path: t.path)
        guard case .output = interp.execute("prompt the cat", in: &s, context: CommandContext()) else {
            Issue.record("first prompt failed"); return
        }
        _ = interp.execute("next 2", in: &s, context: CommandContext())
        let (ids, cursor, steps) = (s.ids, s.cursor, s.trace?.steps.count)
        let cancel = CountdownCancel(after: after)
        let outcome = interp.execute("prompt the cat sat on the", in: &s, context: CommandContext(isCancelled: { cancel.check() }))
        guard case .failure(let line) = outcome else { Issue.record("expected an interruption, got \(outcome)"); return }
        #expect(line == "error: interrupted at layer \(after) of the forward pass; nothing was changed")
        #expect(cancel.calls.load(ordering: .relaxed) == after + 1, "the pass checks once per block and stops at the first true")
        #expect(s.ids == ids && s.cursor == cursor && s.trace?.steps.count == steps && s.promptText == "the cat")
        // The session still works.
        guard case .output = interp.execute("prompt the cat sat on the", in: &s, context: CommandContext()) else {
            Issue.record("prompt after the interruption failed"); return
        }
        #expect(s.promptText == "the cat sat on the")
        guard case .output = interp.execute("attn 1 3", in: &s, context: CommandContext()) else {
            Issue.record("attn after the interruption failed"); return
        }
    }

    @Test("an uncancelled context checks once per block and completes")
    func notCancelled() throws {
        let t = try HostileFixtures.gpt2Folder()
        var s = Session()
        try s.load(path: t.path)
        let cancel = CountdownCancel(after: .max)
        guard case .output = interp.execute("prompt the cat", in: &s, context: CommandContext(isCancelled: { cancel.check() })) else {
            Issue.record("prompt failed"); return
        }
        #expect(cancel.calls.load(ordering: .relaxed) == 2)
    }

    @Test("the Llama forward pass honours ForwardOptions.isCancelled too")
    func llamaInterrupted() throws {
        let folder = HostileFixtures.llama
        let model = try LlamaModel.load(folder: folder.path, tokenizer: NumberTokenizer(vocabularySize: 96))
        let cancel = CountdownCancel(after: 1)
        let e = try #require(expectStepwiseError {
            _ = try model.trace([1, 5, 9], options: ForwardOptions(isCancelled: { cancel.check() }))
        })
        #expect(e.kind == .interrupted && e.message.contains("layer 1"))
        #expect(try model.trace([1, 5, 9]).steps.count > 0)
    }
}
