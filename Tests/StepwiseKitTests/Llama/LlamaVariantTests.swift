import Foundation
import Testing
@testable import StepwiseKit

/// One random checkpoint of tools/reference/qwen_reference.py: a Hugging Face folder (config.json,
/// model.safetensors, tokenizer.json) and transformers' steps for one prompt.
struct LlamaVariantFixture {
    static let root = TestPaths.fixtures.appendingPathComponent("qwen")
    /// Qwen2 with large q/k/v biases (GQA 4:2, tied; odd 3 heads sharing 1, untied, 3 layers), Qwen3 with
    /// q/k norms (head_dim 8 ≠ d_model/heads; and one with attention_bias), a Llama with attention_bias
    /// and mlp_bias (3 heads sharing 1), Mistral with a 4-key window on a 14-token prompt, Qwen2 with a
    /// 3-key window on its second layer only.
    static let names = ["qwen2-gqa", "qwen2-odd", "qwen3-gqa", "qwen3-bias", "llama-bias", "mistral-window", "qwen2-window"]

    let name: String
    let folder: URL
    let prompt: String
    let ids: [Int]
    let greedy: [Int]
    /// The step name → transformers' tensor.
    let steps: [String: Tensor]
    /// What the reference says removing the variant's extra does to the logits.
    let ablation: (what: String, change: Float)

    init(_ name: String) throws {
        self.name = name
        folder = Self.root.appendingPathComponent(name)
        let json = try #require(loadJSON(folder.appendingPathComponent("reference.json")) as? [String: Any])
        let c = try #require((json["cases"] as? [[String: Any]])?.first)
        prompt = try #require(c["prompt"] as? String)
        ids = try #require(c["ids"] as? [Int])
        greedy = try #require(c["greedy"] as? [Int])
        let a = try #require(json["ablation"] as? [String: Any])
        ablation = (try #require(a["what"] as? String), try #require((a["max_logit_change"] as? NSNumber)?.floatValue))
        let ref = try SafetensorsFile(path: folder.appendingPathComponent("reference.safetensors").path)
        var steps: [String: Tensor] = [:]
        for n in ref.tensorNames where n.hasPrefix("0/") { steps[String(n.dropFirst(2))] = try ref.tensor(n) }
        self.steps = steps
    }

    /// The folder loaded as a user would: through ``ModelLoader``.
    func load() throws -> LlamaModel {
        guard case .model(let m) = try ModelLoader.load(folder.path) else {
            throw StepwiseError(.model, "\(name) loaded as a tokenizer only")
        }
        return try #require(m as? LlamaModel)
    }

    /// Compares every reference step with the trace; returns the largest error per kind of step
    /// (`resid_post`, `pattern`, `q_norm`, `logits`, ...), each checked within 1e-4 (patterns absolute,
    /// the others relative to max(1, |ref|)).
    @discardableResult
    func expectMatches(_ trace: Trace, layout: LlamaWeightLayout = .huggingFace, headDim: Int,
                       sourceLocation: SourceLocation = #_sourceLocation) -> [String: Float] {
        var worst: [String: Float] = [:]
        for (n, want) in steps.sorted(by: { $0.key < $1.key }) {
            guard let step = trace[n] else {
                Issue.record("\(name): the trace has no step \(n)", sourceLocation: sourceLocation)
                continue
            }
            guard step.tensor.shape == want.shape else {
                Issue.record("\(name) \(n): shape \(step.tensor.shape), transformers \(want.shape)", sourceLocation: sourceLocation)
                continue
            }
            // q/k (and their norms, rotations) of a permuted GGUF layout hold each head's dimensions in llama.cpp's order.
            let permuted = layout == .gguf && [".hook_q", ".hook_k", "_norm.hook_out", ".hook_rot_q", ".hook_rot_k"].contains { n.hasSuffix($0) }
            let ref = permuted ? llamaInLayoutOrder(want, headDim: headDim, layout: .gguf) : want
            let absolute = n.hasSuffix("hook_pattern")
            let (err, bound) = referenceError(step.tensor.data, ref.data, absolute: absolute)
            #expect(err <= bound, "\(name) \(n): max abs error \(err) > \(bound)", sourceLocation: sourceLocation)
            // `blocks.0.attn.hook_q` → `attn.hook_q`: the worst error per kind of step over the layers.
            let kind = n.hasPrefix("blocks.") ? n.split(separator: ".").dropFirst(2).joined(separator: ".") : n
            worst[kind] = max(worst[kind] ?? 0, err)
        }
        return worst
    }
}

@Suite("Llama-family variants (Qwen2, Qwen3, Mistral, biased Llama) against transformers")
struct LlamaVariantTests {
    @Test("tokens and every step match transformers", arguments: LlamaVariantFixture.names)
    func matchesTransformers(name: String) throws {
        let f = try LlamaVariantFixture(name)
        let model = try f.load()
        #expect(try model.tokenizer.encodeForModel(f.prompt) == f.ids, "\(name): token ids differ from tokenizers'")
        let trace = try model.trace(f.ids)
        let worst = f.expectMatches(trace, headDim: model.config.headDim)
        #expect(worst.keys.contains("logits") && worst.keys.contains("attn.hook_pattern") && worst.keys.contains("hook_resid_post")
                && worst.keys.contains("ln_final.hook_out"))
        if model.config.queryKeyNorm { #expect(worst.keys.contains("attn.q_norm.hook_out") && worst.keys.contains("attn.k_norm.hook_out")) }
        print("\(name) (\(model.config.variantDescription)): max abs error", worst.sorted { $0.key < $1.key }
            .map { "\($0.key) \(String(format: "%.1e", $0.value))" }.joined(separator: ", "))
    }

    @Test("the fixtures can fail: removing the biases, q/k norms or window moves the logits far past the tolerance",
          arguments: LlamaVariantFixture.names)
    func extrasMatter(name: String) throws {
        let f = try LlamaVariantFixture(name)
        let logits = try #require(f.steps["logits"])
        let bound = 1e-4 * max(1, logits.maxAbs)
        #expect(f.ablation.change > 1000 * bound, "\(name): removing the \(f.ablation.what) moves the logits only \(f.ablation.change)")
        let model = try f.load()
        let st = try SafetensorsFile(path: f.folder.appendingPathComponent("model.safetensors").path)
        if f.ablation.what == "sliding window" {
            // Stepwise with the window switched off misses transformers' logits by far.
            var wide = model.config
            (wide.slidingWindow, wide.slidingLayers) = (nil, nil)
            let m = try LlamaModel(config: wide, weights: st, layout: .huggingFace, tokenizer: model.tokenizer)
            let err = referenceError(try m.trace(f.ids).logits!.data, logits.data).error
            #expect(err > 1000 * bound, "\(name): without the window the logits differ only by \(err)")
            return
        }
        // Stepwise without the extra: the same weights with the variant's flags cleared.
        var plain = model.config
        (plain.queryKeyValueBias, plain.outputBias, plain.mlpBias, plain.queryKeyNorm) = (false, false, false, false)
        plain.variant = .llama
        // A model that ignores the extras is refused...
        let e = #expect(throws: StepwiseError.self) {
            try LlamaModel(config: plain, weights: st, layout: .huggingFace, tokenizer: model.tokenizer)
        }
        let extra = model.config.queryKeyNorm && !model.config.queryKeyValueBias ? "q_norm.weight" : "_proj.bias"
        #expect(e?.message.contains(extra) == true, "\(e?.message ?? "")")
        #expect(e?.message.contains("not used by the llama family") == true)
    }

    @Test("greedy generation with the KV cache equals transformers' generate", arguments: LlamaVariantFixture.names)
    func greedy(name: String) throws {
        let f = try LlamaVariantFixture(name)
        let model = try f.load()
        let cache = model.makeCache()
        var logits = try #require(try model.forward(f.ids, cache: cache, options: ForwardOptions(record: false)).logits)
        var got: [Int] = []
        while got.count < f.greedy.count {
            let last = logits.row(logits.shape[0] - 1).data
            got.append(last.indices.max { last[$0] < last[$1] }!)
            if got.count == f.greedy.count { break }
            logits = try #require(try model.forward([got.last!], cache: cache, options: ForwardOptions(record: false)).logits)
        }
        #expect(got == f.greedy, "\(name)")
    }

    @Test("the GGUF copies (llama.cpp's names, Hugging Face q/k order) give the same tokens and steps",
          arguments: ["qwen2-gqa", "qwen3-gqa"])
    func gguf(name: String) throws {
        let f = try LlamaVariantFixture(name)
        let path = LlamaVariantFixture.root.appendingPathComponent(name + ".gguf").path
        guard case .model(let m) = try ModelLoader.load(path), let model = m as? LlamaModel else {
            Issue.record("\(name).gguf did not load as a Llama-family model")
            return
        }
        #expect(model.layout == .gguf && model.rope.pairing == .halves)
        #expect(model.config.variant == (name.hasPrefix("qwen3") ? .qwen3 : .qwen2))
        #expect(try model.tokenizer.encodeForModel(f.prompt) == f.ids, "\(name).gguf: token ids differ")
        let worst = f.expectMatches(try model.trace(f.ids), headDim: model.config.headDim)
        print("\(name).gguf: max abs error", worst.sorted { $0.key < $1.key }
            .map { "\($0.key) \(String(format: "%.1e", $0.value))" }.joined(separator: ", "))
    }

    @Test("a biased Llama in the permuted GGUF layout (q/k rows and biases permuted) matches too")
    func permutedLayout() throws {
        let f = try LlamaVariantFixture("llama-bias")
        let hf = try f.load()
        let st = try SafetensorsFile(path: f.folder.appendingPathComponent("model.safetensors").path)
        let model = try LlamaModel(config: hf.config, weights: LlamaGGUFStyleWeights(base: st, config: hf.config),
                                   layout: .gguf, tokenizer: hf.tokenizer)
        #expect(model.rope.pairing == .adjacent)
        f.expectMatches(try model.trace(f.ids), layout: .gguf, headDim: hf.config.headDim)
    }

    @Test("trace structure: q/k norm steps with their names, shapes, axes and inputs; bias formulas")
    func structure() throws {
        let q3 = try LlamaVariantFixture("qwen3-gqa").load()
        let t = try q3.trace([1, 2, 3])
        let H = q3.config.numAttentionHeads, KV = q3.config.numKeyValueHeads, d = q3.config.headDim
        #expect(t["blocks.1.attn.q_norm.hook_scale"]?.tensor.shape == [3, H, 1])
        #expect(t["blocks.1.attn.q_norm.hook_normalized"]?.tensor.shape == [3, H, d])
        #expect(t["blocks.1.attn.k_norm.hook_out"]?.tensor.shape == [3, KV, d])
        #expect(t["blocks.0.attn.k_norm.hook_scale"]?.axes.map(\.name) == ["pos", "kv_head", "one"])
        #expect(t["blocks.0.attn.q_norm.hook_out"]?.axes.map(\.name) == ["pos", "head", "d_head"])
        #expect(t["blocks.0.attn.q_norm.hook_scale"]?.inputs == ["blocks.0.attn.hook_q"])
        #expect(t["blocks.0.attn.hook_rot_q"]?.inputs.first == "blocks.0.attn.q_norm.hook_out")
        #expect(t["blocks.0.attn.hook_rot_k"]?.formula.contains("k_norm(k)") == true)
        // The norm's parts recombine: out = x / scale ⊙ w, for one head.
        let x = t["blocks.0.attn.hook_q"]!.tensor, s = t["blocks.0.attn.q_norm.hook_scale"]!.tensor
        let out = t["blocks.0.attn.q_norm.hook_out"]!.tensor
        let w = q3.blocks[0].attention.queryNorm!.weight
        for j in 0..<d { #expect(abs(out[2, 1, j] - x[2, 1, j] / s[2, 1, 0] * w.data[j]) < 1e-5) }
        // Order: q, then its norm, then RoPE.
        let names = t.names
        #expect(names.firstIndex(of: "blocks.0.attn.hook_q")! < names.firstIndex(of: "blocks.0.attn.q_norm.hook_scale")!)
        #expect(names.firstIndex(of: "blocks.0.attn.q_norm.hook_out")! < names.firstIndex(of: "blocks.0.attn.hook_rot_q")!)

        let q2 = try LlamaVariantFixture("qwen2-gqa").load()
        let t2 = try q2.trace([1, 2])
        #expect(t2["blocks.0.attn.hook_q"]?.formula == "q = ln1 · W_Q + b_Q")
        #expect(t2["blocks.0.attn.q_norm.hook_out"] == nil)
        #expect(t2["blocks.0.hook_attn_out"]?.formula.contains("b_O") == false)
        let lb = try LlamaVariantFixture("llama-bias").load()
        let t3 = try lb.trace([1, 2])
        #expect(t3["blocks.0.hook_attn_out"]?.formula.contains("b_O") == true)
        #expect(t3["blocks.0.mlp.hook_pre"]?.formula.contains("b_gate") == true)
        #expect(t3["blocks.0.hook_mlp_out"]?.formula.contains("b_down") == true)
        #expect(lb.attentionOutputBias(layer: 1) != nil && q2.attentionOutputBias(layer: 1) == nil)
    }

    @Test("per-head results still add up to the attention output with an o bias")
    func resultsWithOutputBias() throws {
        let model = try LlamaVariantFixture("llama-bias").load()
        let t = try model.trace([4, 9, 17, 2])
        let result = t["blocks.1.attn.hook_result"]!.tensor, attnOut = t["blocks.1.hook_attn_out"]!.tensor
        let b = model.blocks[1].attention.outputBias!
        let (T, H, D) = (result.dim(0), result.dim(1), result.dim(2))
        var sum = [Float](repeating: 0, count: T * D)
        for i in 0..<T { for c in 0..<D { sum[i * D + c] = b.data[c]; for h in 0..<H { sum[i * D + c] += result[i, h, c] } } }
        #expect(referenceError(sum, attnOut.data).error <= 1e-5)
        // Without hook_result the one-product path adds the bias too.
        let fast = try model.forward([4, 9, 17, 2], cache: nil, options: ForwardOptions(record: false)).logits!
        #expect(referenceError(fast.data, t.logits!.data).error <= 1e-5)
    }

    @Test("info says what the variant is", arguments: [
        ("qwen2-gqa", "qwen2: q/k/v biases"), ("qwen3-gqa", "qwen3: q/k RMSNorm per head before RoPE"),
        ("qwen3-bias", "qwen3: q/k/v/o biases, q/k RMSNorm per head before RoPE"),
        ("llama-bias", "llama: q/k/v/o biases, gate/up/down biases"), ("mistral-window", "mistral: sliding window of 4 keys"),
        ("qwen2-window", "qwen2: q/k/v biases, sliding window of 3 keys on 1 of 2 layers"),
    ])
    func info(name: String, variant: String) throws {
        let model = try LlamaVariantFixture(name).load()
        #expect(model.info.details.first { $0.0 == "variant" }?.1 == variant)
    }

    @Test("sliding windows: masked scores are −∞ exactly outside the window, on the layers that slide; the KV cache keeps it")
    func windows() throws {
        let mistral = try LlamaVariantFixture("mistral-window")
        let m = try mistral.load()
        #expect(m.config.slidingWindow == 4 && (0..<2).allSatisfy { m.config.window(layer: $0) == 4 })
        let t = try m.trace(mistral.ids)
        let T = mistral.ids.count
        for l in 0..<2 {
            let s = t["blocks.\(l).attn.hook_attn_scores"]!.tensor
            for i in 0..<T { for j in 0..<T {
                let visible = j <= i && j > i - 4
                #expect(s[1, i, j].isFinite == visible, "layer \(l) query \(i) key \(j)")
            } }
        }
        #expect(t["blocks.0.attn.hook_attn_scores"]?.formula.contains("sliding window of 4 keys") == true)
        // One token at a time through the cache: each pass sees only the last 4 keys.
        let cache = m.makeCache()
        _ = try m.forward(Array(mistral.ids.prefix(10)), cache: cache, options: ForwardOptions(record: false))
        let step = try m.forward([mistral.ids[10]], cache: cache, options: ForwardOptions())
        let p = step["blocks.1.attn.hook_pattern"]!.tensor
        #expect(p.shape == [4, 1, 11] && (0..<7).allSatisfy { p[0, 0, $0] == 0 } && p[0, 0, 7] > 0)
        let want = t["blocks.1.attn.hook_pattern"]!.tensor.sliced([.all, .range(10, 11, 1), .range(0, 11, 1)])
        #expect(referenceError(p.data, want.data).error <= 1e-5)

        let q2 = try LlamaVariantFixture("qwen2-window").load()
        #expect(q2.config.window(layer: 0) == nil && q2.config.window(layer: 1) == 3)
        let t2 = try q2.trace([5, 6, 7, 8, 9])
        #expect(t2["blocks.0.attn.hook_attn_scores"]!.tensor[0, 4, 0].isFinite)
        #expect(t2["blocks.1.attn.hook_attn_scores"]!.tensor[0, 4, 1] == -.infinity)
        #expect(t2["blocks.1.attn.hook_attn_scores"]!.tensor[0, 4, 2].isFinite)
    }

    @Test("window configs: Qwen's use_sliding_window off means no window; Llama ignores sliding_window as transformers does")
    func windowConfigs() throws {
        func decode(_ json: String) throws -> LlamaConfig { try JSONDecoder().decode(LlamaConfig.self, from: Data(json.utf8)) }
        let base = #""hidden_size": 8, "intermediate_size": 8, "num_attention_heads": 2, "num_hidden_layers": 4, "vocab_size": 10"#
        #expect(try decode("{\(base), \"model_type\": \"qwen2\", \"sliding_window\": 4, \"use_sliding_window\": false}").slidingWindow == nil)
        let q = try decode("{\(base), \"model_type\": \"qwen2\", \"sliding_window\": 4, \"use_sliding_window\": true, \"max_window_layers\": 2}")
        #expect(q.slidingLayers == [false, false, true, true] && q.window(layer: 3) == 4)
        #expect(try decode("{\(base), \"model_type\": \"llama\", \"sliding_window\": 4}").slidingWindow == nil)
        #expect(try decode("{\(base), \"model_type\": \"mistral\", \"sliding_window\": null}").slidingWindow == nil)
        let mistral = try decode("{\(base), \"model_type\": \"mistral\", \"sliding_window\": 4, \"attention_bias\": true}")
        #expect(mistral.slidingWindow == 4 && !mistral.queryKeyValueBias)
        // Round trips keep the variant and its flags.
        for c in [q, mistral, try decode("{\(base), \"model_type\": \"qwen3\", \"attention_bias\": true, \"head_dim\": 6}"),
                  try decode("{\(base), \"attention_bias\": true, \"mlp_bias\": true}")] {
            #expect(try JSONDecoder().decode(LlamaConfig.self, from: JSONEncoder().encode(c)) == c)
        }
        #expect(try decode("{\(base), \"model_type\": \"qwen3\"}").headDim == 128)  // Qwen3Config's default
        #expect(throws: DecodingError.self) { try decode("{\(base), \"model_type\": \"phi3\"}") }
        #expect(throws: DecodingError.self) { try decode("{\(base), \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}}") }
        #expect(try decode("{\(base), \"rope_scaling\": null}").ropeTheta == 10000)
    }

    @Test("short forms and parsing of the q/k norm names")
    func hookNames() {
        for l in [0, 7] {
            for h: HookName in [.normScale(.qNorm(layer: l)), .normNormalized(.qNorm(layer: l)), .normOut(.qNorm(layer: l)),
                                .normScale(.kNorm(layer: l)), .normNormalized(.kNorm(layer: l)), .normOut(.kNorm(layer: l))] {
                #expect(HookName(h.name) == h, "\(h.name)")
                #expect(h.layer == l)
            }
        }
        #expect(HookName.normOut(.qNorm(layer: 3)).name == "blocks.3.attn.q_norm.hook_out")
        #expect(HookName.normScale(.kNorm(layer: 0)).name == "blocks.0.attn.k_norm.hook_scale")
        guard case .perLayer(let f)? = HookName.shortForms["k_norm.scale"], case .perLayer(let g)? = HookName.shortForms["q_norm"] else {
            Issue.record("q_norm and k_norm.scale are per-layer short forms")
            return
        }
        #expect(f(2) == .normScale(.kNorm(layer: 2)) && g(1) == .normOut(.qNorm(layer: 1)))
        #expect(HookName("blocks.1.attn.q_norm.hook_bogus") == nil)
    }
}
