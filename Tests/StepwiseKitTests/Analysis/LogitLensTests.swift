import Foundation
import Testing
@testable import StepwiseKit

@Suite("Logit lens")
struct LogitLensTests {
    @Test("unembedding the last residual stream gives the model's logits exactly", arguments: GPT2Reference.names)
    func lastLayerIsTheOutput(name: String) throws {
        let model = try GPT2Reference(GPT2Reference.folder(name)).model()
        let trace = try model.trace([1, 5, 9, 2, 7, 3])
        let last = trace["blocks.\(model.info.layers - 1).hook_resid_post"]!.tensor
        // Same operations in the same order as the forward pass: bit-for-bit equal.
        #expect(model.unembed(residual: last).data == trace.logits!.data)
        let rows = try LogitLens.read(trace, model: model, k: 3)
        #expect(rows.count == model.info.layers + 1)
        #expect(rows.map(\.label) == ["embed"] + (0..<model.info.layers).map { "layer \($0)" })
        let logits = trace.logits!
        for p in 0..<6 {
            let row = logits.row(p).data
            let argmax = row.indices.max { row[$0] < row[$1] }!
            #expect(rows.last!.top[p][0].id == argmax)
            let probs = logits.row(p).softmax().data
            #expect(rows.last!.top[p].map(\.probability) == [probs[argmax]] + rows.last!.top[p].dropFirst().map { probs[$0.id] })
        }
        // The embed row reads blocks.0.hook_resid_pre = embed + pos_embed.
        let embedLogits = model.unembed(residual: trace["blocks.0.hook_resid_pre"]!.tensor)
        let r0 = embedLogits.row(0).data
        #expect(rows[0].top[0][0].id == r0.indices.max { r0[$0] < r0[$1] }!)
    }

    @Test("lens and lens POS draw the table; bad positions and encoders are one error line")
    func lensCommand() throws {
        var s = try fixtureSession()
        #expect(run("lens", &s).lines == ["error: no prompt yet: type 'prompt The cat sat on the'"])
        #expect(!run("prompt t1 t5 t9 t2", &s).failed)
        let table = run("lens", &s).lines
        #expect(table.count == 3 + 3, "\(table)")  // title (two lines: prose stops at 100 columns), position header, embed + 2 layers
        let top = Predictions.top(s.trace!, tokenizer: s.tokenizer!, k: 1)[0]
        #expect(table.last!.hasPrefix("layer 1") && table.last!.contains(top.label), "\(table.last!) vs \(top.label)")
        let one = run("lens -1", &s).lines
        #expect(one.first == "Logit lens at position 3 ' t2': top 5 read from the residual stream (final norm + unembedding)")
        #expect(one.last!.hasPrefix("layer 1  \(top.label) \(String(format: "%.3f", top.probability))"), "\(one.last!)")
        #expect(run("lens 4", &s).lines == ["error: position 4 is out of range (0–3, or −1 for the last)"])
        #expect(run("lens x", &s).lines == ["error: position must be a whole number, got 'x'"])
    }

    @Test("BERT has no logit lens", .enabled(if: TestPaths.model("minilm/config.json") != nil, "needs minilm/ under STEPWISE_MODELS"))
    func bert() throws {
        var s = Session()
        try s.load(path: TestPaths.model("minilm")!.path)
        #expect(!run("prompt hello world", &s).failed)
        let out = run("lens", &s).lines
        #expect(out.count == 1 && out[0].hasPrefix("error: ") && out[0].contains("no unembedding: it has no logits"), "\(out)")
        #expect(run("weights 0 0", &s).lines.contains { $0.hasPrefix("OV circuit: bert has no unembedding") })
    }
}

@Suite("Ablation commands")
struct AblationCommandTests {
    @Test("ablate changes the prediction, restore gives the original logits exactly, and prompt keeps the ablation")
    func ablateRestore() throws {
        var s = try fixtureSession()
        #expect(!run("prompt t1 t5 t9 t2 t7", &s).failed)
        let original = s.trace!.logits!
        let out = run("ablate 0 1 1.3 mean", &s).lines
        #expect(out.first == "ablated 0.1, 1.3 (mean); re-ran the prompt (5 tokens)", "\(out)")
        #expect(s.interventions == [.ablateHead(layer: 0, head: 1, mode: .mean), .ablateHead(layer: 1, head: 3, mode: .mean)])
        #expect(out.contains { $0.hasPrefix("rank  before") })
        // The model with the same interventions gives the same logits as the session's re-run.
        let model = s.model!
        let direct = try model.trace(s.ids, options: ForwardOptions(interventions: s.interventions))
        #expect(s.trace!.logits!.data == direct.logits!.data)
        #expect(s.trace!.logits!.data != original.data)
        #expect(s.trace!["blocks.0.attn.hook_z"]!.explanation.contains("ablated heads: 1 (mean)"))
        // The next prompt keeps the ablation; info and where say so.
        #expect(run("prompt t1 t5 t9 t2 t7", &s).lines.first!.contains("(with 2 head(s) ablated)"))
        #expect(run("where", &s).lines.contains("ablated heads: 0.1 (mean), 1.3 (mean) — 'restore' undoes"))
        #expect(run("info", &s).lines.contains { $0.hasPrefix("interventions") && $0.contains("0.1 (mean)") })
        // Restore one head, then all: back to the original logits, bit for bit.
        #expect(run("restore 0.1", &s).lines.first == "restored 0.1; re-ran the prompt (5 tokens)")
        #expect(s.interventions == [.ablateHead(layer: 1, head: 3, mode: .mean)])
        #expect(run("restore", &s).lines.prefix(2) == ["restored every head; re-ran the prompt (5 tokens)", "no head is ablated now"])
        #expect(s.trace!.logits!.data == original.data)
        #expect(run("restore", &s).lines == ["nothing to restore: no head is ablated"])
    }

    @Test("zero ablation zeroes the head's z and reports the original top token's logit change")
    func zeroAblation() throws {
        var s = try fixtureSession("untied-3h")
        #expect(!run("prompt t3 t8 t8 t1", &s).failed)
        let before = Predictions.top(s.trace!, tokenizer: s.tokenizer!, k: 1)[0]
        let out = run("ablate 1 0", &s).lines
        let z = s.trace!["blocks.1.attn.hook_z"]!.tensor
        #expect((0..<4).allSatisfy { p in (0..<z.shape[2]).allSatisfy { z[p, 0, $0] == 0 } })
        let after = s.trace!.logits!
        let va = after[3, before.id]
        let line = "\(before.label): logit \(String(format: "%.3f", before.logit)) → \(String(format: "%.3f", va))"
        #expect(out.contains { $0.hasPrefix(line) }, "\(out.suffix(2)) vs \(line)")
    }

    @Test("bad arguments are one clear error line")
    func badArguments() throws {
        var s = try fixtureSession()
        #expect(run("ablate 0 1", &s).lines == ["ablated 0.1 (zero); no prompt yet, so nothing re-ran ('prompt TEXT' will use it)"])
        #expect(run("ablate 0 1 sideways", &s).lines == ["error: unknown ablation mode 'sideways': zero or mean"])
        #expect(run("ablate 5 1", &s).lines == ["error: layer 5 is out of range (0–1)"])
        #expect(run("ablate 0 9", &s).lines == ["error: head 9 is out of range (0–3)"])
        #expect(run("ablate 0.1.2", &s).lines == ["error: '0.1.2' is not a head: write LAYER.HEAD, e.g. 0.3"])
        #expect(run("ablate", &s).lines == ["error: give a layer and a head, e.g. 'ablate 0 3' or 'ablate 0.3'"])
        #expect(run("restore 1 1", &s).lines == ["error: head 1.1 is not ablated (ablated heads: 0.1 (zero) — 'restore' undoes)"])
    }

    @Test("every analysis command has help with examples")
    func help() {
        for c in [AnalysisCommands.weights, AnalysisCommands.detect, AnalysisCommands.ablate, AnalysisCommands.restore, AnalysisCommands.lens] {
            #expect(!c.examples.isEmpty && !c.summary.isEmpty, "\(c.name)")
            #expect(StandardCommands.interpreter().command(named: c.name) != nil)
        }
    }
}
