import Foundation
import Testing
@testable import StepwiseKit

/// A model and the inputs of one recorded pass over it, for the recipe and budget tests.
struct TracedCase: Sendable, CustomTestStringConvertible {
    var name: String
    var load: @Sendable () throws -> any LanguageModel
    var ids: [Int]
    var source: [Int]? = nil
    /// Tokens run through a KV cache first (the recorded pass then starts at this position).
    var cachedPrefix: [Int] = []

    var testDescription: String { name }

    /// The recorded pass under `patches`, with `budget` (nil: keep everything).
    func trace(_ model: any LanguageModel, patches: [Patch] = [], budget: Int? = nil) throws -> Trace {
        var o = ForwardOptions(patches: patches)
        o.source = source
        o.traceBudget = budget
        guard !cachedPrefix.isEmpty else { return try model.forward(ids, cache: nil, options: o) }
        let cache = model.makeCache()
        var prefix = ForwardOptions(record: false)
        prefix.source = source
        _ = try model.forward(cachedPrefix, cache: cache, options: prefix)
        return try model.forward(ids, cache: cache, options: o)
    }

    static func folder(_ relative: String) -> @Sendable () throws -> any LanguageModel {
        {
            guard case .model(let m) = try ModelLoader.load(TestPaths.fixtures.appendingPathComponent(relative).path) else {
                throw StepwiseError(.model, "\(relative) loaded as a tokenizer only")
            }
            return m
        }
    }

    static let smolLM2 = TestPaths.model("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")

    /// Every kind of attention the recipes stand in for: grouped-query (tiny Llama, Qwen2, SmolLM2),
    /// Qwen3's q/k norms, Mistral's and Gemma 3's sliding windows, Gemma 2's soft-capping, T5's position
    /// bias and cross-attention, BART's cross-attention, GPT-2's LayerNorm, and KV-cached passes.
    static let all: [TracedCase] = {
        let tinyLlama: @Sendable () throws -> any LanguageModel = { try LlamaTinyModelTests.loadHF() }
        var cases = [
            TracedCase(name: "tiny Llama (GQA)", load: tinyLlama, ids: [1, 5, 17, 33, 8, 60, 2]),
            TracedCase(name: "tiny Llama, KV-cached from position 4", load: tinyLlama, ids: [9, 40, 3, 71, 12],
                       cachedPrefix: [1, 5, 17, 33]),
            TracedCase(name: "Qwen2 (GQA, biases)", load: folder("qwen/qwen2-gqa"), ids: [3, 14, 15, 92, 65, 35, 89, 79]),
            TracedCase(name: "Qwen3 (q/k norms)", load: folder("qwen/qwen3-gqa"), ids: [3, 14, 15, 92, 65, 35]),
            TracedCase(name: "Mistral (4-key window)", load: folder("qwen/mistral-window"), ids: [3, 14, 15, 92, 65, 35, 89, 79, 32]),
            TracedCase(name: "Gemma 3 (window, q/k norms)", load: folder("gemma/gemma3-odd"), ids: [2, 10, 11, 12, 13, 14, 15, 16, 17, 18]),
            TracedCase(name: "Gemma 2 (soft-capping)", load: folder("gemma/gemma2-softcap"), ids: [2, 10, 11, 12, 13, 14, 15]),
            TracedCase(name: "T5 (position bias, cross-attention)", load: folder("t5/t5-relu-tied"), ids: [0, 5, 9, 13, 7],
                       source: [4, 8, 15, 16, 23, 42, 1]),
            TracedCase(name: "T5, KV-cached decoder from position 2", load: folder("t5/t5-relu-tied"), ids: [13, 7, 21],
                       source: [4, 8, 15, 16, 23, 42, 1], cachedPrefix: [0, 5]),
            TracedCase(name: "BART (cross-attention)", load: folder("bart/bart-odd"), ids: [2, 5, 9, 13, 7, 11],
                       source: [0, 8, 15, 16, 23, 42, 2]),
        ]
        if let builtin = ModelLoader.builtinPath {
            cases.append(TracedCase(name: "built-in GPT-2 (LayerNorm)", load: {
                guard case .model(let m) = try ModelLoader.load(builtin) else { throw StepwiseError(.model, "no built-in model") }
                return m
            }, ids: [10, 200, 30, 400, 50, 600]))
        }
        if let smol = smolLM2 {
            cases.append(TracedCase(name: "SmolLM2-135M (GGUF)", load: { try GGUFModels.load(path: smol.path) },
                                    ids: [504, 2145, 3290, 335, 260, 1345, 30, 378, 8392]))
        }
        return cases
    }()
}

/// The big steps are recipes that compute them again (scores, patterns, per-head results, norms), and a
/// trace budget leaves out what does not fit, saying so (Stepwise issue 20, item 3).
@Suite("trace memory: recipes and the trace budget")
struct TraceMemoryTests {
    /// A patch that changes nothing (no position selected) but makes the pass compute and keep the
    /// whole tensor at `name`: the dense path the recipes must equal.
    static func noOp(_ name: String) throws -> Patch {
        Patch(try #require(HookName(name), "\(name) parses"), .zero, positions: [])
    }

    @Test("every recipe step equals the whole tensor the pass computes when a no-op patch forces it, bit for bit",
          arguments: TracedCase.all)
    func recipesEqualDense(_ c: TracedCase) throws {
        let model = try c.load()
        let lean = try c.trace(model)
        let recipes = lean.steps.filter(\.value.isRecipe)
        #expect(recipes.contains { $0.name.hasSuffix("attn.hook_pattern") }, "the patterns are recipes")
        #expect(recipes.contains { $0.name.hasSuffix("attn.hook_result") }, "the per-head results are recipes")
        #expect(recipes.contains { $0.name.hasSuffix("ln1.hook_normalized") }, "the norms are recipes")
        let dense = try c.trace(model, patches: try recipes.map { try Self.noOp($0.name) })
        #expect(dense.names == lean.names)
        for step in lean.steps {
            let other = try #require(dense[step.name])
            if step.value.isRecipe { #expect(!other.value.isRecipe, "\(step.name) is dense when patched") }
            let (a, b) = (step.tensor, other.tensor)
            #expect(a.shape == b.shape && a.data.elementsEqual(b.data) { $0.bitPattern == $1.bitPattern },
                    "\(c.name): \(step.name) differs from the whole-tensor pass")
        }
        #expect(lean.logits == dense.logits)
    }

    @Test("a decoder's logits: the last row computed with the pass, any other when read, each the unembedding of its own residual row, bit for bit",
          arguments: TracedCase.all.filter { $0.source == nil && !$0.name.hasPrefix("built-in") })
    func logitsRecipe(_ c: TracedCase) throws {
        let model = try c.load()
        let trace = try c.trace(model)
        let step = try #require(trace["logits"])
        let T = c.ids.count, V = model.info.vocabularySize
        #expect(step.value.isRecipe && step.shape == [T, V])
        // What it holds: the final norm's output and one row of V.
        var seen = Set<UInt>()
        let held = Trace.bytes(of: step.value.heldTensors, adding: &seen)
        #expect(held <= (V + T * model.info.dModel) * 4 + 256, "\(held) bytes")
        let unembedding = try #require(model as? any Unembedding)
        let resid = try #require(trace["blocks.\(model.info.layers - 1).hook_resid_post"]).tensor
        let whole = try #require(trace.logits)
        for r in 0..<T {
            let alone = unembedding.unembed(residual: resid.rows(r, r + 1))
            let row = try #require(trace.logitsRow(r))
            #expect(row.data.elementsEqual(alone.data) { $0.bitPattern == $1.bitPattern }, "\(c.name): row \(r)")
            #expect(whole.row(r) == row)
        }
        #expect(step.sliced([.range(1, T, 2), .range(0, 5, 1)]) == whole.sliced([.range(1, T, 2), .range(0, 5, 1)]))
    }

    @Test("one head, a head range or a slice of a recipe step equals the same cut of the whole value",
          arguments: TracedCase.all.prefix(2))
    func headSubsets(_ c: TracedCase) throws {
        let trace = try c.trace(try c.load())
        for name in ["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_attn_scores", "blocks.0.attn.hook_result"] {
            let step = try #require(trace[name])
            #expect(step.value.isRecipe)
            let full = step.tensor
            let a = try #require(step.headAxis)
            let heads = step.shape[a]
            func lead(_ s: AxisSelection) -> [AxisSelection] { [AxisSelection](repeating: .all, count: a) + [s] }
            for h in 0..<heads {
                #expect(step.tensor(heads: h..<(h + 1)) == full.sliced(lead(.range(h, h + 1, 1))), "\(name) head \(h)")
                #expect(step.sliced(lead(.index(h))) == full.sliced(lead(.index(h))), "\(name) [\(h)]")
            }
            #expect(step.tensor(heads: 1..<heads) == full.sliced(lead(.range(1, heads, 1))))
            #expect(step.sliced(lead(.indices([heads - 1, 0]))) == full.sliced(lead(.indices([heads - 1, 0]))))
            #expect(step.sliced(lead(.range(heads - 1, -1, -1))) == full.sliced(lead(.range(heads - 1, -1, -1))))
            #expect(step.sliced(lead(.index(1)) + [.range(1, 3, 1)]) == full.sliced(lead(.index(1)) + [.range(1, 3, 1)]))
        }
    }

    @Test("the trace holds each allocation once: far less than the whole scores and patterns")
    func heldBytes() throws {
        let c = TracedCase.all[0]
        let model = try c.load()
        let lean = try c.trace(model)
        let dense = try c.trace(model, patches: try lean.steps.filter(\.value.isRecipe).map { try Self.noOp($0.name) })
        let info = model.info
        let T = c.ids.count
        // The dense trace also holds three [heads, T, T] tensors, a [T, heads, d_model] result and the
        // norms' outputs per layer; the lean one none of them.
        let scores = 3 * info.heads * T * T * info.layers * 4
        #expect(dense.heldBytes - lean.heldBytes >= scores)
        // resid_post of a layer is resid_pre of the next: one allocation, counted once.
        let floats = lean.steps.filter { !$0.value.isRecipe }.reduce(0) { $0 + $1.shape.reduce(1, *) }
        #expect(lean.heldBytes < floats * 4)
        #expect(lean.budget == nil)
    }

    @Test("a non-finite score is still found when the scores are computed a head at a time")
    func nonFinite() throws {
        let c = TracedCase.all[0]
        let model = try c.load()
        let d = model.info.dHead
        let huge = Patch(.rotQ(layer: 1), .add(Tensor.filled([d], 3e38)))
        for extra in [[], [try Self.noOp("blocks.1.attn.hook_attn_scores_unmasked")]] {
            #expect {
                _ = try c.trace(model, patches: [huge] + extra)
            } throws: { error in
                "\(error)".contains("went non-finite at step blocks.1.attn.hook_attn_scores_unmasked")
            }
        }
    }

    // MARK: - Budget

    /// Steps the budget never leaves out.
    static func alwaysKept(_ name: String, rotated: Bool) -> Bool {
        guard let h = HookName(name) else { return true }
        return TraceBudget.group(of: h, rotated: rotated) == nil
    }

    @Test("budgets from nothing to everything: the residual stream always, each group in a prefix of layers, in priority order",
          arguments: [TracedCase.all[0], TracedCase.all[5], TracedCase.all[7]])
    func budgets(_ c: TracedCase) throws {
        let model = try c.load()
        let full = try c.trace(model)
        let everything = full.heldBytes
        let minimal = try c.trace(model, budget: 0).heldBytes
        var lastCount = 0
        for budget in stride(from: 0, through: everything + everything / 10, by: max(1, everything / 12)) {
            let trace = try c.trace(model, budget: budget)
            let kept = Set(trace.names)
            #expect(kept.count >= lastCount, "a larger budget keeps at least as much")
            lastCount = kept.count
            // Nothing appears that the full trace lacks; what is missing is reported, with its reason.
            #expect(kept.isSubset(of: Set(full.names)))
            let missing = full.names.filter { !kept.contains($0) }
            guard let report = trace.budget else {
                #expect(missing.isEmpty, "budget \(budget): steps left out without a report")
                #expect(trace.heldBytes <= budget)
                continue
            }
            // Allocations round up by a few bytes, differently from one block to the next: 1% of slack.
            let slack = budget / 100
            #expect(report.dropped == Set(missing), "budget \(budget)")
            #expect(report.held == trace.heldBytes && report.budget == budget)
            for stack in report.stacks {
                for step in full.steps where step.stack == stack.stack {
                    guard let l = step.layer, let h = HookName(step.name), let g = TraceBudget.group(of: h, rotated: stack.rotated) else {
                        #expect(kept.contains(step.name), "\(step.name) is always kept")
                        continue
                    }
                    let m = try #require(stack.kept[g])
                    #expect(kept.contains(step.name) == (l < m), "budget \(budget): \(step.name), group \(g) kept in \(m) layers")
                    // A group kept in fewer layers than all leaves every later group out entirely.
                    if m < stack.layers {
                        for later in TraceBudget.Group.allCases where later > g && stack.bytesPerLayer[later]! > 0 {
                            #expect(stack.kept[later] == 0, "budget \(budget): \(later) after \(g)")
                        }
                    }
                }
            }
            // Within the budget whenever the steps always kept fit; else the summary says it holds more.
            if minimal <= budget { #expect(trace.heldBytes <= budget + slack, "budget \(budget) held \(trace.heldBytes)") }
            let summary = report.summary.joined(separator: " ")
            #expect(summary.contains("trace budget") && summary.contains("set trace-budget"), "\(summary)")
            if trace.heldBytes > budget, !missing.isEmpty { #expect(summary.contains("always kept"), "\(summary)") }
            for name in missing {
                let why = try #require(trace.absence(of: name))
                #expect(why.hasPrefix("\(name) was left out: ") && why.contains("trace budget") && why.contains("'set trace-budget "), "\(why)")
                let g = try #require(report.group(of: name))
                #expect(summary.contains(g.shortTitle), "the summary names \(g.shortTitle)")
            }
            #expect(trace.absence(of: "blocks.0.hook_resid_pre") == nil)
            #expect(trace.logits == full.logits)
        }
        #expect(lastCount == full.steps.count, "the largest budget keeps everything")
    }

    @Test("the REPL: set trace-budget re-runs the prompt, the summary and info say what was left out, asking for it says why")
    func repl() throws {
        var t = try Transcript(model: "builtin", width: 200)
        let words = (0..<60).map { ["the", "cat", "sat", "on", "mat", "and", "a", "dog"][$0 % 8] }.joined(separator: " ")
        let (text, ok) = t.run("set trace-budget 1\nprompt \(words)\ninfo")
        #expect(ok, "\(text)")
        #expect(text.contains("To stay within the 1.0 MB trace budget"), "\(text)")
        #expect(text.contains("'set trace-budget 200' keeps every step"), "\(text)")
        let info = try #require(text.split(separator: "\n").first { $0.hasPrefix("trace ") })
        #expect(info.contains("MB of tensors") && info.contains("trace budget 1 MB"), "\(info)")
        let trace = try #require(t.session.trace)
        let gone = try #require(trace.budget?.dropped.sorted().first)
        let (show, shown) = t.run("show \(gone)")
        #expect(!shown)
        #expect(show.contains("\(gone) was left out: every step of this"), "\(show)")
        let (again, fine) = t.run("set trace-budget off\nshow \(gone)\nset")
        #expect(fine, "\(again)")
        #expect(again.contains("trace-budget  off"), "\(again)")
        #expect(t.session.trace?.budget == nil)
    }
}


/// The measurement: a 2,048-token prompt on SmolLM2-135M took 12.4 GB at 1,628 tokens before
/// the recipes and the budget; the whole process must now stay under 3 GB.
@Suite("trace memory: a 2,048-token SmolLM2 prompt",
       .enabled(if: PeakMemory.available && TracedCase.smolLM2 != nil,
                "needs smollm2/SmolLM2-135M-Instruct.Q4_1.gguf under STEPWISE_MODELS, the stepwise binary and GNU time"))
struct TraceMemoryPeakTests {
    @Test("load, a traced 2,048-token prompt and one head of a pattern peak under 3 GB")
    func longPrompt() throws {
        let file = try #require(TracedCase.smolLM2)
        let tok = try SmolLM2GGUFTests.model().tokenizer
        // A sentence repeated, then single words until the prompt is exactly 2,048 tokens.
        var text = String(repeating: "The quick brown fox jumps over the lazy dog near the river bank. ", count: 140)
        while try tok.encodeForModel(text).count < 2048 { text += " and" }
        #expect(try tok.encodeForModel(text).count == 2048)
        let r = try PeakMemory.run(["-e", "load \(file.path)", "-e", "prompt \(text)", "-e", "show pattern 5 head 0", "-e", "info"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.peak < 3 << 30, "peak \(r.peak >> 20) MB")
    }
}
