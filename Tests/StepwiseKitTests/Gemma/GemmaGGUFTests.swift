import Foundation
import Testing
@testable import StepwiseKit

/// Gemma 3 270M from its Q4_K_M GGUF against transformers' Gemma3ForCausalLM on the float32 HF copy of the
/// same file: ../shared/golden/gemma3-france.json.gz (every layer's output and pattern on a short prompt,
/// ten tokenizer strings) and Fixtures/gemma/gemma3-reference.json.gz (tools/reference/gemma_reference.py:
/// a 780-token prompt past the 512-key sliding window, greedy generation, twenty more tokenizer strings).
@Suite("Gemma 3 270M (GGUF) against transformers", .serialized)
struct GemmaGGUFTests {
    static var available: Bool { GemmaFixture.path != nil }

    /// max |got − want| within 1e-4 · max(1, max|want|), or 1e-4 absolute.
    func expectClose(_ got: [Float], _ want: [Float], absolute: Bool = false, _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == want.count, "\(what): \(got.count) values vs \(want.count)", sourceLocation: sourceLocation)
        guard got.count == want.count else { return }
        let (err, bound) = referenceError(got, want, absolute: absolute)
        #expect(err <= bound, "\(what): max error \(err) > \(bound)", sourceLocation: sourceLocation)
    }

    @Test("tokenizer: the golden strings and twenty more, BOS added as the file says", .enabled(if: available))
    func tokenizer() throws {
        let model = try GemmaFixture.model()
        let goldenURL = try #require(TestPaths.goldenFile("gemma3-france.json.gz"))
        let golden = try loadGzipJSON(goldenURL) as? [String: Any]
        var cases = try #require(golden?["tokenizer"] as? [[String: Any]])
        cases += try #require(GemmaFixture.reference()["tokenizer"] as? [[String: Any]])
        #expect(cases.count == 30)
        for c in cases {
            let text = try #require(c["text"] as? String), want = try #require(c["ids"] as? [Int])
            let got = try model.tokenizer.encodeForModel(text)
            #expect(got == want, "\(text.debugDescription): got \(got), transformers \(want)")
            // Decoding gives the text back (no normalization beyond spaces as ▁).
            #expect(model.tokenizer.decode(Array(got.dropFirst())) == text, "\(text.debugDescription) does not decode back")
        }
    }

    @Test("explain shows each merge with the score that chose it", .enabled(if: available))
    func explain() throws {
        let tok = try GemmaFixture.model().tokenizer
        let e = try tok.explain("Hello world")
        #expect(e.ids == [9259, 1902])
        let words = e.pretokens.flatMap(\.rules).map(\.description)
        #expect(words.last?.contains("score") == true, "\(words)")
        #expect(e.pretokens.first?.initial.first == "H")
        #expect(e.pretokens.first?.initial.contains("▁") == true)
    }

    @Test("the golden short prompt: every layer's output and pattern, final norm, logits, top 10", .enabled(if: available))
    func golden() throws {
        let model = try GemmaFixture.model()
        let goldenURL = try #require(TestPaths.goldenFile("gemma3-france.json.gz"))
        let doc = try #require(try loadGzipJSON(goldenURL) as? [String: Any])
        let ids = try #require((doc["tokens"] as? [String: Any])?["ids"] as? [Int])
        #expect(try model.tokenizer.encodeForModel(try #require(doc["prompt"] as? String)) == ids)
        let trace = try model.trace(ids)
        let layers = try #require(doc["layers"] as? [[String: Any]])
        #expect(layers.count == 18)
        for layer in layers {
            let l = try #require(layer["index"] as? Int)
            expectClose(try #require(trace["blocks.\(l).hook_resid_post"]).tensor.data,
                        floats((layer["hidden"] as? [String: Any])?["data"]), "layer \(l) output")
            expectClose(try #require(trace["blocks.\(l).attn.hook_pattern"]).tensor.data,
                        floats((layer["pattern"] as? [String: Any])?["data"]), absolute: true, "layer \(l) pattern")
        }
        expectClose(try #require(trace["ln_final.hook_out"]).tensor.data, floats((doc["final_norm"] as? [String: Any])?["data"]), "final norm")
        let T = ids.count
        let last = try #require(trace.logits).row(T - 1).data
        expectClose(last, floats(doc["last_logits"]), "last logits")
        let top = try #require(doc["top10"] as? [[String: Any]])
        let probs = Tensor(shape: [last.count], data: last).softmax().data
        let order = probs.indices.sorted { probs[$0] > probs[$1] }
        for (rank, entry) in top.enumerated() {
            let id = try #require(entry["id"] as? Int), p = try #require((entry["p"] as? NSNumber)?.floatValue)
            #expect(order[rank] == id, "rank \(rank + 1): got \(order[rank]), transformers \(id)")
            #expect(abs(probs[id] - p) <= 1e-4, "id \(id): p \(probs[id]) vs \(p)")
        }
    }

    /// One reference case: residual rows, pattern rows, final norm, top-100 and strided logits, top 5.
    func checkCase(_ c: [String: Any], _ model: GemmaModel) throws -> Trace {
        let ids = try #require(c["ids"] as? [Int])
        #expect(try model.tokenizer.encodeForModel(try #require(c["prompt"] as? String)) == ids)
        let trace = try model.trace(ids)
        let T = ids.count, D = model.config.hiddenSize
        let hidden = try #require(c["hidden"] as? [String: Any])
        let positions = try #require(hidden["positions"] as? [Int])
        for (l, rows) in try #require(hidden["layers"] as? [[Any]]).enumerated() {
            let t = try #require(trace["blocks.\(l).hook_resid_post"]).tensor
            for (p, row) in zip(positions, rows) {
                expectClose(Array(t.data[p * D..<(p + 1) * D]), floats(row), "layer \(l) output at position \(p)")
            }
        }
        let patterns = try #require(c["patterns"] as? [String: Any])
        let queries = try #require(patterns["queries"] as? [Int])
        for (layer, perHead) in zip(try #require(patterns["layers"] as? [Int]), try #require(patterns["data"] as? [[Any]])) {
            let t = try #require(trace["blocks.\(layer).attn.hook_pattern"]).tensor  // [head, T, T]
            for (h, rows) in perHead.enumerated() {
                for (q, row) in zip(queries, try #require(rows as? [Any])) {
                    let base = (h * T + q) * T
                    expectClose(Array(t.data[base..<base + T]), floats(row), absolute: true, "pattern \(layer).\(h) query \(q)")
                }
            }
        }
        expectClose(try #require(trace["ln_final.hook_out"]).tensor.row(T - 1).data, floats(c["final_norm_last"]), "final norm")
        // Long prompts keep the last position's logits only (T × 262,144 floats would exceed the budget).
        let logits = try #require(trace.logits)
        #expect(logits.dim(0) == (T * model.config.vocabSize > ForwardOptions().logitBudget ? 1 : T))
        let last = logits.row(logits.dim(0) - 1).data
        let top = try #require(c["logits_top"] as? [[NSNumber]])
        expectClose(top.map { last[$0[0].intValue] }, top.map { $0[1].floatValue }, "top-100 logits")
        expectClose(stride(from: 0, to: last.count, by: 1024).map { last[$0] }, floats(c["logits_strided"]), "every 1024th logit")
        let order = last.indices.sorted { last[$0] > last[$1] }
        #expect(Array(order.prefix(5)) == top.prefix(5).map(\.[0].intValue), "top 5")
        return trace
    }

    @Test("a 780-token prompt: the sliding window masks keys more than 511 back on local layers only", .enabled(if: available))
    func longPrompt() throws {
        let model = try GemmaFixture.model()
        let c = try #require(GemmaFixture.reference()["long"] as? [String: Any])
        let trace = try checkCase(c, model)
        let T = try #require(c["ids"] as? [Int]).count
        #expect(T > 600)
        let q = T - 1
        let local = try #require(trace["blocks.0.attn.hook_attn_scores"]).tensor
        let global = try #require(trace["blocks.5.attn.hook_attn_scores"]).tensor
        #expect(local.data[q * T + (q - 512)] == -.infinity && local.data[q * T + (q - 511)].isFinite)
        #expect(global.data[q * T + 0].isFinite)
        let step = try #require(trace["blocks.0.attn.hook_pattern"])
        #expect(StepRenderer.mask(for: step, in: trace) == .causalWindow(512))
        #expect(StepRenderer.mask(for: try #require(trace["blocks.5.attn.hook_pattern"]), in: trace) == .causal)
        // 780 × 262,144 logits (818 MB) are not kept; the step says so, and top still reads the last position.
        let logits = try #require(trace["logits"])
        #expect(logits.tensor.shape == [1, 262_144] && logits.axes[0].labels?.count == 1)
        #expect(logits.explanation.contains("last position only"), "\(logits.explanation)")
        let top = Predictions.top(trace, tokenizer: model.tokenizer, k: 1)
        #expect(top.first?.id == (c["logits_top"] as? [[NSNumber]])?.first?[0].intValue)
    }

    @Test("the short prompt's residual rows and logits", .enabled(if: available))
    func shortPrompt() throws {
        _ = try checkCase(try #require(GemmaFixture.reference()["short"] as? [String: Any]), GemmaFixture.model())
    }

    @Test("greedy generation with the KV cache equals transformers' generate for 20 tokens, past the window too", .enabled(if: available))
    func greedy() throws {
        let model = try GemmaFixture.model()
        let ref = try GemmaFixture.reference()
        for key in ["short", "long"] {
            let c = try #require(ref[key] as? [String: Any])
            let ids = try #require(c["ids"] as? [Int]), want = try #require(c["greedy"] as? [Int])
            let result = try Generator(model: model, settings: .greedy).generate(prompt: ids, maxTokens: want.count) { _ in }
            #expect(result.generated == want, "\(key): got \(result.generated), transformers \(want)")
        }
    }

    @Test("the KV cache gives the full pass's logits", .enabled(if: available))
    func kvCache() throws {
        let model = try GemmaFixture.model()
        let ids = [2, 818, 5279, 529, 7001, 563, 506]
        let full = try model.trace(ids, options: ForwardOptions(record: false)).logits!
        let cache = model.makeCache()
        _ = try model.forward(Array(ids[0..<4]), cache: cache, options: ForwardOptions(record: false))
        for i in 4..<7 {
            let step = try model.forward([ids[i]], cache: cache, options: ForwardOptions(record: false)).logits!
            expectClose(step.row(0).data, full.row(i).data, "position \(i)")
        }
    }

    @Test("info says what the trace holds: its size and which logits it kept", .enabled(if: available))
    func infoTrace() throws {
        var t = try Transcript(model: try #require(GemmaFixture.path).path)
        let (text, ok) = t.run("prompt The capital of France is\ninfo")
        #expect(ok)
        #expect(text.contains("4 query heads sharing 1 key/value head (multi-query)"))
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("trace ") })
        #expect(line.contains("617 steps") && line.contains("MB of tensors; the last position's logits"), "\(line)")
    }

    @Test("every extra operation is a step with a TransformerLens-style name", .enabled(if: available))
    func stepNames() throws {
        let trace = try GemmaFixture.model().trace([2, 9259, 1902])
        for name in ["hook_embed", "blocks.0.ln1.hook_out", "blocks.0.attn.hook_q", "blocks.0.attn.q_norm.hook_scale",
                     "blocks.0.attn.q_norm.hook_out", "blocks.0.attn.k_norm.hook_normalized", "blocks.0.attn.hook_rot_q",
                     "blocks.0.attn.hook_pattern", "blocks.0.ln1_post.hook_scale", "blocks.0.ln1_post.hook_normalized",
                     "blocks.0.hook_attn_out", "blocks.0.ln2.hook_out", "blocks.0.mlp.hook_post", "blocks.0.ln2_post.hook_normalized",
                     "blocks.0.hook_mlp_out", "blocks.17.hook_resid_post", "ln_final.hook_out", "logits"] {
            #expect(trace[name] != nil, "no step \(name)")
            #expect(HookName(name)?.name == name, "\(name) does not parse as a hook name")
        }
        #expect(trace["blocks.0.attn.q_norm.hook_out"]?.tensor.shape == [3, 4, 256])
        #expect(trace["blocks.0.attn.k_norm.hook_scale"]?.tensor.shape == [3, 1, 1])
        #expect(trace["blocks.0.attn.hook_attn_scores"]?.formula.contains("sliding window of 512") == true)
        #expect(trace["blocks.5.attn.hook_rot_q"]?.formula.contains("1e+06") == true)
    }
}
