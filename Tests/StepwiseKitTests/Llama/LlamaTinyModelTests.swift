import Foundation
import Testing
@testable import StepwiseKit

/// The tiny random Llama fixture (GQA 4:2, untied head; tools/reference/make_llama_fixture.py) checked
/// step by step against transformers, in both weight layouts, with and without a KV cache.
@Suite("Llama tiny random model")
struct LlamaTinyModelTests {
    static let folder = TestPaths.fixtures.appendingPathComponent("llama/tiny-random")

    static func loadHF() throws -> LlamaModel {
        try LlamaModel.load(folder: folder.path, tokenizer: LlamaIDTokenizer(vocabularySize: 96))
    }

    static func loadGGUFStyle() throws -> LlamaModel {
        let hf = try loadHF()
        let st = try SafetensorsFile(path: folder.appendingPathComponent("model.safetensors").path)
        return try LlamaModel(config: hf.config, weights: LlamaGGUFStyleWeights(base: st, config: hf.config), layout: .gguf,
                              tokenizer: LlamaIDTokenizer(vocabularySize: 96))
    }

    static func reference() throws -> [String: Any] {
        try #require(loadJSON(folder.appendingPathComponent("reference.json")) as? [String: Any])
    }

    @Test("matches transformers step by step", arguments: LlamaWeightLayout.allCases)
    func matchesTransformers(layout: LlamaWeightLayout) throws {
        let model = try layout == .gguf ? Self.loadGGUFStyle() : Self.loadHF()
        #expect(model.info.kvHeads == 2 && model.info.heads == 4 && !model.tiedEmbeddings)
        let ref = try Self.reference()
        let ids = try #require(ref["ids"] as? [Int])
        let trace = try model.trace(ids)
        let d = model.config.headDim
        let hidden = try #require(ref["hidden"] as? [Any])
        let probs = try #require(ref["attn_probs"] as? [Any])
        for l in 0..<model.config.numHiddenLayers {
            llamaExpectMatch(trace, "blocks.\(l).hook_resid_post", llamaReferenceTensor(hidden[l]), label: "hidden[\(l)]")
            llamaExpectMatch(trace, "blocks.\(l).attn.hook_pattern", llamaReferenceTensor(probs[l]), absolute: true,
                        label: "attentions[\(l)]")
        }
        llamaExpectMatch(trace, "blocks.0.attn.hook_rot_q",
                    llamaReferenceTensor(ref["layer0_q_rope"]).map { llamaInLayoutOrder($0, headDim: d, layout: layout) }, label: "q_rope")
        llamaExpectMatch(trace, "blocks.0.attn.hook_rot_k",
                    llamaReferenceTensor(ref["layer0_k_rope"]).map { llamaInLayoutOrder($0, headDim: d, layout: layout) }, label: "k_rope")
        llamaExpectMatch(trace, "rope.hook_cos",
                    llamaReferenceTensor(ref["rope_cos"]).map { llamaInLayoutOrder($0, headDim: d, layout: layout) }, label: "cos")
        llamaExpectMatch(trace, "rope.hook_sin",
                    llamaReferenceTensor(ref["rope_sin"]).map { llamaInLayoutOrder($0, headDim: d, layout: layout) }, label: "sin")
        llamaExpectMatch(trace, "ln_final.hook_out", llamaReferenceTensor(ref["final_norm"]), label: "final_norm")
        llamaExpectMatch(trace, "logits", llamaReferenceTensor(ref["logits"]), label: "logits")
    }

    @Test("GGUF layout (permuted q/k, adjacent-pair RoPE) gives the Hugging Face layout's numbers")
    func layoutsAgree() throws {
        let hf = try Self.loadHF(), gg = try Self.loadGGUFStyle()
        #expect(hf.rope.pairing == .halves && gg.rope.pairing == .adjacent)
        let ids = [5, 17, 3, 88, 42, 42, 9, 60]
        let a = try hf.trace(ids), b = try gg.trace(ids)
        let (err, _) = referenceError(b.logits!.data, a.logits!.data)
        #expect(err <= 1e-5, "logits differ by \(err)")
        // Permuting q rows only reorders dimensions inside each head: scores and patterns are the same.
        for l in 0..<2 {
            let p = "blocks.\(l).attn."
            #expect(referenceError(b[p + "hook_pattern"]!.tensor.data, a[p + "hook_pattern"]!.tensor.data).error <= 1e-5)
            let qa = llamaInLayoutOrder(a[p + "hook_rot_q"]!.tensor, headDim: 16, layout: .gguf)
            #expect(referenceError(b[p + "hook_rot_q"]!.tensor.data, qa.data).error <= 1e-5)
        }
        // The un-permuted GGUF order of the ropeRotate helper agrees too.
        let v = (0..<16).map { Float($0) * 0.1 - 0.7 }
        let order = LlamaWeightLayout.ggufDimensionOrder(headDim: 16)
        let rotHF = hf.ropeRotate(v, position: 5)
        let rotGG = gg.ropeRotate(order.map { v[$0] }, position: 5)
        #expect(zip(order.map { rotHF[$0] }, rotGG).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test("the KV cache path gives the logits of a full recompute", arguments: LlamaWeightLayout.allCases)
    func kvCacheMatchesFullPass(layout: LlamaWeightLayout) throws {
        let model = try layout == .gguf ? Self.loadGGUFStyle() : Self.loadHF()
        let ids = [5, 17, 3, 88, 42, 42, 9, 60]
        let full = try model.trace(ids).logits!
        let cache = model.makeCache()
        let chunks = [Array(ids[0..<5]), [ids[5]], Array(ids[6..<8])]
        var start = 0
        for chunk in chunks {
            let t = try model.forward(chunk, cache: cache, options: ForwardOptions(record: false))
            #expect(t.names == ["logits"], "record false records only logits, got \(t.names)")
            #expect(cache.length == start + chunk.count)
            let want = full.rows(start, start + chunk.count)
            let (err, bound) = referenceError(t.logits!.data, want.data, tolerance: 1e-5)
            #expect(err <= bound, "chunk at \(start): logits differ by \(err)")
            start += chunk.count
        }
        // A traced step through the cache sees all key positions and has the cached ones labelled.
        let c2 = model.makeCache()
        _ = try model.forward(Array(ids[0..<6]), cache: c2, options: ForwardOptions(record: false))
        let t = try model.forward(Array(ids[6...]), cache: c2, options: ForwardOptions())
        let pattern = try #require(t["blocks.1.attn.hook_pattern"])
        #expect(pattern.tensor.shape == [4, 2, 8])
        #expect(pattern.axes[2].labels?.count == 8)
        let fullPattern = try model.trace(ids)["blocks.1.attn.hook_pattern"]!.tensor
        let want = fullPattern.sliced([.all, .range(6, 8, 1), .all])
        #expect(referenceError(pattern.tensor.data, want.data).error <= 1e-5)
        #expect(referenceError(t.logits!.data, full.rows(6, 8).data, tolerance: 1e-5).error <= 1e-5 * max(1, full.maxAbs))
    }

    @Test("trace structure: names, shapes, axes and GQA sharing")
    func traceStructure() throws {
        let model = try Self.loadHF()
        let trace = try model.trace([1, 2, 3])
        let shapes: [String: [Int]] = [
            "hook_embed": [3, 64], "rope.hook_cos": [3, 16], "blocks.0.hook_resid_pre": [3, 64],
            "blocks.0.ln1.hook_scale": [3, 1], "blocks.0.ln1.hook_normalized": [3, 64], "blocks.0.ln1.hook_out": [3, 64],
            "blocks.0.attn.hook_q": [3, 4, 16], "blocks.0.attn.hook_k": [3, 2, 16], "blocks.0.attn.hook_v": [3, 2, 16],
            "blocks.0.attn.hook_rot_q": [3, 4, 16], "blocks.0.attn.hook_rot_k": [3, 2, 16],
            "blocks.0.attn.hook_attn_scores_unmasked": [4, 3, 3], "blocks.0.attn.hook_attn_scores": [4, 3, 3],
            "blocks.0.attn.hook_pattern": [4, 3, 3], "blocks.0.attn.hook_z": [3, 4, 16],
            "blocks.0.attn.hook_result": [3, 4, 64], "blocks.0.hook_attn_out": [3, 64], "blocks.0.hook_resid_mid": [3, 64],
            "blocks.1.ln2.hook_out": [3, 64], "blocks.1.mlp.hook_pre": [3, 96], "blocks.1.mlp.hook_pre_linear": [3, 96],
            "blocks.1.mlp.hook_post": [3, 96], "blocks.1.hook_mlp_out": [3, 64], "blocks.1.hook_resid_post": [3, 64],
            "ln_final.hook_scale": [3, 1], "ln_final.hook_out": [3, 64], "logits": [3, 96],
        ]
        for (name, shape) in shapes {
            #expect(trace[name]?.tensor.shape == shape, "\(name)")
        }
        #expect(trace["blocks.0.attn.hook_k"]?.axes.map(\.name) == ["pos", "kv_head", "d_head"])
        #expect(trace["blocks.0.attn.hook_q"]?.axes.map(\.name) == ["pos", "head", "d_head"])
        #expect(trace["blocks.0.attn.hook_pattern"]?.axes.map(\.name) == ["head", "query_pos", "key_pos"])
        #expect(trace["blocks.0.attn.hook_k"]?.explanation.contains("kv 1 ← q 2–3") == true)
        #expect(trace["blocks.0.hook_resid_pre"]?.axes[0].labels == ["'<1>'", "'<2>'", "'<3>'"])
        #expect(trace["blocks.1.attn.hook_rot_q"]?.inputs.contains("blocks.1.attn.hook_q") == true)
        #expect(trace.steps.allSatisfy { !$0.title.isEmpty && !$0.formula.isEmpty && !$0.explanation.isEmpty })
        // Causal mask: upper triangle is -inf in scores and 0 in the pattern.
        let s = trace["blocks.0.attn.hook_attn_scores"]!.tensor, p = trace["blocks.0.attn.hook_pattern"]!.tensor
        #expect(s[0, 0, 1] == -.infinity && s[0, 1, 0].isFinite && p[3, 0, 2] == 0)
        // Per-head results add up to the attention output; RMSNorm parts recombine.
        let result = trace["blocks.0.attn.hook_result"]!.tensor, attnOut = trace["blocks.0.hook_attn_out"]!.tensor
        var sum = [Float](repeating: 0, count: 3 * 64)
        for i in 0..<3 { for h in 0..<4 { for c in 0..<64 { sum[i * 64 + c] += result[i, h, c] } } }
        #expect(referenceError(sum, attnOut.data).error <= 1e-4)
        let x = trace["blocks.0.hook_resid_pre"]!.tensor, sc = trace["blocks.0.ln1.hook_scale"]!.tensor
        let nrm = trace["blocks.0.ln1.hook_normalized"]!.tensor
        #expect(abs(nrm[1, 5] * sc[1, 0] - x[1, 5]) < 1e-4)
        // RoPE angles: pair i turns by pos · θ^(−2i/d).
        let ang = model.ropeAngles(position: 3)
        #expect(ang.count == 8 && ang[0] == 3 && abs(ang[1] - 3 * pow(10000, -2.0 / 16)) < 1e-6)
    }

    @Test("head ablation replaces hook_z of one head by zero or its mean", arguments: [AblationMode.zero, .mean])
    func headAblation(mode: AblationMode) throws {
        let model = try Self.loadHF()
        let ids = [5, 17, 3, 88, 42]
        let base = try model.trace(ids)
        let opts = ForwardOptions(interventions: [.ablateHead(layer: 1, head: 2, mode: mode)])
        let t = try model.trace(ids, options: opts)
        let z0 = base["blocks.1.attn.hook_z"]!.tensor, z = t["blocks.1.attn.hook_z"]!.tensor
        for i in 0..<5 {
            for e in 0..<16 {
                var want: Float = 0
                if mode == .mean { want = (0..<5).map { z0[$0, 2, e] }.reduce(0, +) / 5 }
                #expect(abs(z[i, 2, e] - want) < 1e-5)
                #expect(z[i, 1, e] == z0[i, 1, e])
            }
        }
        // Layer 0 untouched, layer 1's output changes by exactly the head's result difference.
        #expect(t["blocks.0.hook_resid_post"]!.tensor == base["blocks.0.hook_resid_post"]!.tensor)
        let r0 = base["blocks.1.attn.hook_result"]!.tensor, r1 = t["blocks.1.attn.hook_result"]!.tensor
        let a0 = base["blocks.1.hook_attn_out"]!.tensor, a1 = t["blocks.1.hook_attn_out"]!.tensor
        for i in 0..<5 {
            for c in 0..<64 {
                #expect(abs((a1[i, c] - a0[i, c]) - (r1[i, 2, c] - r0[i, 2, c])) < 1e-4)
            }
        }
        #expect(t.logits! != base.logits!)
    }

    @Test("loading a folder without config.json or weights is a file error naming the path")
    func loadErrors() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("llama-missing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let tok = LlamaIDTokenizer(vocabularySize: 96)
        let e1 = #expect(throws: StepwiseError.self) { try LlamaModel.load(folder: tmp.path, tokenizer: tok) }
        #expect(e1?.message.contains("config.json") == true)
        try FileManager.default.copyItem(at: Self.folder.appendingPathComponent("config.json"),
                                         to: tmp.appendingPathComponent("config.json"))
        let e2 = #expect(throws: StepwiseError.self) { try LlamaModel.load(folder: tmp.path, tokenizer: tok) }
        #expect(e2?.message.contains("model.safetensors") == true)
    }

    @Test("forward rejects out-of-range ids and over-long input")
    func validation() throws {
        let model = try Self.loadHF()
        #expect(throws: StepwiseError.self) { try model.trace([96]) }
        #expect(throws: StepwiseError.self) { try model.trace(Array(repeating: 1, count: 65)) }
        #expect(throws: StepwiseError.self) { try model.trace([]) }
    }
}
