import Foundation
import Testing
@testable import StepwiseKit

private let smolPath = TestPaths.model("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")?.path

/// REPL commands on SmolLM2, checked against transformers' numbers.
@Suite("REPL commands on SmolLM2", .serialized,
       .enabled(if: smolPath != nil, "needs smollm2/SmolLM2-135M-Instruct.Q4_1.gguf under STEPWISE_MODELS"))
struct SmolLM2CommandTests {
    nonisolated(unsafe) static var base: Session?

    static func session() throws -> Session {
        if let base { return base }
        var s = Session()
        try s.load(path: smolPath)
        base = s
        return s
    }

    func run(_ s: inout Session, _ line: String) throws -> [String] {
        switch StandardCommands.interpreter().execute(line, in: &s, context: CommandContext()) {
        case .output(let out): return out
        case .failure(let m): throw StepwiseError.usage(m)
        case .quit: return []
        }
    }

    @Test("prompt predicts ' Paris' with transformers' probability; top lists the golden top-5")
    func promptAndTop() throws {
        var s = try Self.session()
        let out = try run(&s, "prompt The capital of France is")
        #expect(out.last == "next token: ' Paris'  p = 0.773")
        let top = try run(&s, "top 3")
        #expect(top.count == 4)
        #expect(top[1].contains("' Paris'") && top[1].contains("77.3%"))
        #expect(top[2].contains("' the'") && top[2].contains("6.5%"))
    }

    @Test("chat wraps the text in the file's ChatML template exactly as transformers' apply_chat_template does")
    func chat() throws {
        var s = try Self.session()
        _ = try run(&s, "chat What is the capital of France?")
        #expect(s.ids == [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407,
                          19712, 8182, 2, 198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198])
    }

    @Test("generate with temperature 0 reproduces transformers' greedy continuation; back walks into earlier passes")
    func generateGreedy() throws {
        var s = try Self.session()
        _ = try run(&s, "set temperature 0")
        _ = try run(&s, "prompt The capital of France is")
        let out = try run(&s, "generate 20")
        // 20 bars, then the text (wrapped at word boundaries) and the reason it stopped.
        #expect(out.prefix(20).allSatisfy { $0.hasSuffix("%") } && out[20].hasPrefix("text: 'The capital of France is"))
        #expect(out.contains { $0.hasPrefix("(20 tokens;") } && out.allSatisfy { TextWidth.of($0) <= 80 })
        #expect(Array(s.ids.suffix(20)) == [7042, 30, 198, 198, 504, 2988, 314, 42, 216, 34, 32, 33, 40, 29, 32, 33, 29, 34, 34, 216])
        #expect(s.history.count == 19)
        // The current trace is the pass that chose the last token: one new position.
        #expect(s.trace!.tokenIDs.count == 1)
        _ = try run(&s, "back")
        #expect(s.history.count == 18)
        #expect(s.cursor == s.trace!.steps.count - 1)
        _ = try run(&s, "next")
        #expect(s.history.count == 19)
        #expect(s.cursor == 0)
    }

    @Test("rope shows each pair of the traced query turned by exactly pos·θ_i, lengths kept")
    func rope() throws {
        var s = try Self.session()
        _ = try run(&s, "prompt The capital of France is")
        let model = try #require(s.model as? LlamaModel)
        for (layer, head, pos) in [(0, 0, 3), (17, 4, 4), (29, 8, 1)] {
            let pairs = try #require(RoPEView.pairs(trace: s.trace!, rope: model.rope, layer: layer, head: head, position: pos))
            #expect(pairs.count == 32)
            for p in pairs {
                let (c, sn) = (cos(p.angle), sin(p.angle))
                let x = p.before.0 * c - p.before.1 * sn, y = p.before.0 * sn + p.before.1 * c
                #expect(abs(x - p.after.0) < 1e-4 && abs(y - p.after.1) < 1e-4, "pair \(p.index) of \(layer).\(head)@\(pos)")
            }
            #expect(abs(pairs[0].angle - Float(pos)) < 1e-6)
        }
        let out = try run(&s, "rope 0 0 3")
        #expect(out.first?.hasPrefix("RoPE on query head 0.0 at position 3 ' France'") == true)
        #expect(out.last?.hasPrefix("length before 5.36") == true)
    }

    @Test("sample with a seed is reproducible and shows every stage")
    func sampleSeeded() throws {
        var s = try Self.session()
        _ = try run(&s, "prompt The capital of France is")
        _ = try run(&s, "set temperature 0.8")
        _ = try run(&s, "set top-k 5")
        _ = try run(&s, "set seed 42")
        let a = try run(&s, "sample")
        let b = try run(&s, "sample")
        #expect(a == b)
        for title in ["Temperature", "Top-k", "Top-p", "Random draw"] {
            #expect(a.contains { $0.contains(title) }, "no \(title) stage")
        }
        #expect(a.last!.hasPrefix("chosen: "))
        let cmp = try run(&s, "compare temperature 0.5 1.5")
        #expect(cmp.contains { $0.contains("' Paris'") })
        #expect(cmp.last!.hasPrefix("entropy: A "))
    }
}

private let miniLMPath = TestPaths.model("minilm")?.path

@Suite("similarity on MiniLM", .enabled(if: miniLMPath != nil, "needs minilm/ under STEPWISE_MODELS"))
struct SimilarityCommandTests {
    @Test("similarity prints sentence-transformers' cosine")
    func similarity() throws {
        var s = Session()
        try s.load(path: miniLMPath)
        let out = StandardCommands.interpreter().execute(
            "similarity \"A man is playing a guitar.\" \"Someone is playing an instrument.\"", in: &s, context: CommandContext())
        guard case .output(let lines) = out else { Issue.record("similarity failed: \(out)"); return }
        #expect(lines.first?.hasPrefix("cosine similarity 0.6752") == true)
        let noPrompt = StandardCommands.interpreter().execute("prompt The cat sat on the mat.", in: &s, context: CommandContext())
        guard case .output(let p) = noPrompt else { Issue.record("prompt failed"); return }
        #expect(p.last == "an encoder has no next-token prediction: 'steps' lists what it computed")
    }
}

/// Generation runs under the session's ablations, like every other forward pass.
@Suite("generate keeps the session's interventions", .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
struct GenerateInterventionTests {
    @Test("an ablated head stays ablated in every generated token's pass")
    func ablatedGeneration() throws {
        var t = try Transcript()
        _ = t.run("set temperature 0\nprompt It is a truth universally acknowledged\nablate 0 0 0 1 0 2 0 3\ngenerate 3")
        #expect(t.session.interventions.count == 4)
        let z = try #require(t.session.trace?["blocks.0.attn.hook_z"]?.tensor)
        #expect(z.data.allSatisfy { $0 == 0 }, "layer 0's heads were not ablated in the last generated pass")
        for earlier in t.session.history {
            #expect(earlier["blocks.0.attn.hook_z"]!.tensor.data.allSatisfy { $0 == 0 })
        }
    }
}
