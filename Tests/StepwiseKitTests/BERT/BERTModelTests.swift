import Foundation
import Testing
@testable import StepwiseKit

private let minilmFolder = TestPaths.model("minilm/model.safetensors")?.deletingLastPathComponent()
private let hasMiniLM = minilmFolder != nil && TestPaths.model("minilm/config.json") != nil
private let goldenCat = TestPaths.goldenFile("minilm-cat.json")

/// Loaded once for the whole suite.
private let sharedModel: BERTModel? = minilmFolder.flatMap { try? BERTModel.load(folder: $0.path) }

/// One reference dump by dump.py (`--extra`), as flat float arrays.
struct BERTReference {
    let prompt: String
    let ids: [Int]
    let root: [String: Any]

    init(_ url: URL) throws {
        root = try #require(try loadJSON(url) as? [String: Any])
        prompt = root["prompt"] as! String
        let tokens = root["tokens"] as! [String: Any]
        ids = (tokens["ids"] as! [NSNumber]).map(\.intValue)
    }

    func tensor(_ entry: Any?) -> (shape: [Int], data: [Float])? {
        guard let e = entry as? [String: Any], let data = e["data"] else { return nil }
        let flat = flattenNumbers(data)
        return ((e["shape"] as! [NSNumber]).map(\.intValue), flat.data)
    }

    var layers: [[String: Any]] { root["layers"] as! [[String: Any]] }
}

@Suite("BERT MiniLM against transformers", .serialized)
struct BERTReferenceTests {
    /// Compares one step with one reference field and records a readable failure.
    func check(_ trace: Trace, _ name: String, _ ref: (shape: [Int], data: [Float])?, pattern: Bool = false,
               sourceLocation: SourceLocation = #_sourceLocation) {
        guard let ref else { Issue.record("reference has no field for \(name)", sourceLocation: sourceLocation); return }
        guard let step = trace[name] else { Issue.record("trace has no step \(name)", sourceLocation: sourceLocation); return }
        guard step.tensor.count == ref.data.count else {
            Issue.record("\(name): \(step.tensor.shape) vs reference \(ref.shape)", sourceLocation: sourceLocation); return
        }
        let (err, bound) = referenceError(step.tensor.data, ref.data, tolerance: 1e-4, absolute: pattern)
        #expect(err <= bound, "\(name): max error \(err) > \(bound)", sourceLocation: sourceLocation)
    }

    /// LayerNorm's scale and normalized value of `x`, computed in Double from reference values.
    func referenceNorm(_ x: [Float], d: Int, eps: Double) -> (scale: [Float], normalized: [Float]) {
        var scale: [Float] = [], norm: [Float] = []
        for r in 0..<(x.count / d) {
            let row = x[(r * d)..<((r + 1) * d)].map(Double.init)
            let mean = row.reduce(0, +) / Double(d)
            let v = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)
            let s = (v + eps).squareRoot()
            scale.append(Float(s))
            norm += row.map { Float(($0 - mean) / s) }
        }
        return (scale, norm)
    }

    func compareAll(_ ref: BERTReference, model: BERTModel) throws {
        // The tokenizer gives the reference's ids for the prompt.
        #expect(try model.tokenizer.encodeForModel(ref.prompt) == ref.ids)
        let trace = try model.trace(ref.ids)
        let d = model.info.dModel
        #expect(trace.positionLabels.count == ref.ids.count)
        #expect(trace.logits == nil)
        check(trace, "embed.ln.hook_out", ref.tensor(ref.root["embedding"]))
        if let parts = ref.root["embedding_parts"] as? [String: Any] {
            check(trace, "hook_embed", ref.tensor(parts["emb_word"]))
            check(trace, "hook_pos_embed", ref.tensor(parts["emb_pos"]))
            check(trace, "hook_token_type_embed", ref.tensor(parts["emb_type"]))
        }
        var checked = 0
        for layer in ref.layers {
            let i = (layer["index"] as! NSNumber).intValue
            let p = "blocks.\(i)"
            check(trace, "\(p).attn.hook_pattern", ref.tensor(layer["attn_probs"]), pattern: true)
            check(trace, "\(p).hook_attn_out", ref.tensor(layer["attn_out"]))
            check(trace, "\(p).hook_resid_mid", ref.tensor(layer["resid_mid"]))
            check(trace, "\(p).hook_mlp_out", ref.tensor(layer["mlp_out"]))
            check(trace, "\(p).hook_resid_post", ref.tensor(layer["hidden"]))
            check(trace, "\(p).attn.hook_q", ref.tensor(layer["q"]))
            check(trace, "\(p).attn.hook_k", ref.tensor(layer["k"]))
            check(trace, "\(p).attn.hook_v", ref.tensor(layer["v"]))
            check(trace, "\(p).attn.hook_z", ref.tensor(layer["attn_context"]))
            check(trace, "\(p).mlp.hook_post", ref.tensor(layer["mlp_act"]))
            // Post-LN parts, from the reference's own residual values.
            let resid = i == 0 ? ref.tensor(ref.root["embedding"])! : ref.tensor(ref.layers.first { ($0["index"] as! NSNumber).intValue == i - 1 }?["hidden"]) ?? (trace["\(p).hook_resid_pre"]!.tensor.shape, trace["\(p).hook_resid_pre"]!.tensor.data)
            let attnOut = ref.tensor(layer["attn_out"])!.data
            let n1 = referenceNorm(zip(resid.data, attnOut).map { $0 + $1 }, d: d, eps: Double(model.config.layerNormEps))
            check(trace, "\(p).ln1.hook_scale", ([ref.ids.count, 1], n1.scale))
            check(trace, "\(p).ln1.hook_normalized", ([ref.ids.count, d], n1.normalized))
            let mid = ref.tensor(layer["resid_mid"])!.data, mlpOut = ref.tensor(layer["mlp_out"])!.data
            let n2 = referenceNorm(zip(mid, mlpOut).map { $0 + $1 }, d: d, eps: Double(model.config.layerNormEps))
            check(trace, "\(p).ln2.hook_scale", ([ref.ids.count, 1], n2.scale))
            check(trace, "\(p).ln2.hook_normalized", ([ref.ids.count, d], n2.normalized))
            // The per-head results add up to the attention output.
            let result = trace["\(p).attn.hook_result"]!.tensor
            let summed = AttentionMath.sumHeads(result, bias: model.blocks[i].bO)
            check(trace, "\(p).hook_attn_out", (summed.shape, summed.data))
            // Scores are unmasked; the pattern is their softmax.
            #expect(trace["\(p).attn.hook_attn_scores"]!.tensor == trace["\(p).attn.hook_attn_scores_unmasked"]!.tensor)
            checked += 1
        }
        #expect(checked == ref.layers.count && checked > 0)
        check(trace, "blocks.\(model.info.layers - 1).hook_resid_post", ref.tensor(ref.root["last_hidden_state"]))
        let pooled = ref.tensor(ref.root["pooler_output"])!
        check(trace, "pooler.hook_out", ([1, pooled.data.count], pooled.data))
        check(trace, "hook_sentence_embedding", ref.tensor(ref.root["sentence_embedding"]))
    }

    @Test("every step of 'The cat sat on the mat.' matches the shared golden dump",
          .enabled(if: hasMiniLM && goldenCat != nil, "needs minilm/ under STEPWISE_MODELS and golden/minilm-cat.json"))
    func goldenCatDump() throws {
        let model = try #require(sharedModel)
        let ref = try BERTReference(goldenCat!)
        #expect(ref.layers.count == 6)
        try compareAll(ref, model: model)
    }

    @Test("every step matches committed dumps of two more prompts",
          .enabled(if: hasMiniLM, "needs minilm/ under STEPWISE_MODELS"),
          arguments: ["minilm-playing.json", "minilm-zurich.json"])
    func fixtureDumps(_ file: String) throws {
        let model = try #require(sharedModel)
        try compareAll(try BERTReference(TestPaths.fixtures.appendingPathComponent("bert/\(file)")), model: model)
    }

    @Test("similarity equals sentence-transformers' cosine on three pairs",
          .enabled(if: hasMiniLM, "needs minilm/ under STEPWISE_MODELS"))
    func similarity() throws {
        let model = try #require(sharedModel)
        let root = try #require(try loadJSON(TestPaths.fixtures.appendingPathComponent("bert/similarity.json")) as? [String: Any])
        let pairs = try #require(root["pairs"] as? [[String: Any]])
        #expect(pairs.count == 3)
        for pair in pairs {
            let want = (pair["cosine"] as! NSNumber).floatValue
            let got = try model.similarity(pair["a"] as! String, pair["b"] as! String)
            #expect(abs(got - want) <= 1e-4, "\(pair["a"]!) / \(pair["b"]!): \(got) vs \(want)")
        }
        #expect(abs(try model.similarity("same text", "same text") - 1) < 1e-5)
    }

    @Test("step names follow the trace conventions, in order",
          .enabled(if: hasMiniLM, "needs minilm/ under STEPWISE_MODELS"))
    func stepNames() throws {
        let model = try #require(sharedModel)
        let trace = try model.trace(try model.tokenizer.encodeForModel("Hello world"))
        let embed = ["hook_embed", "hook_pos_embed", "hook_token_type_embed", "embed.hook_sum",
                     "embed.ln.hook_scale", "embed.ln.hook_normalized", "embed.ln.hook_out"]
        let block = ["hook_resid_pre", "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_attn_scores_unmasked",
                     "attn.hook_attn_scores", "attn.hook_pattern", "attn.hook_z", "attn.hook_result", "hook_attn_out",
                     "ln1.hook_scale", "ln1.hook_normalized", "hook_resid_mid", "mlp.hook_pre", "mlp.hook_post",
                     "hook_mlp_out", "ln2.hook_scale", "ln2.hook_normalized", "hook_resid_post"]
        let want = embed + (0..<6).flatMap { l in block.map { "blocks.\(l).\($0)" } } + ["pooler.hook_out", "hook_sentence_embedding"]
        #expect(trace.names == want)
        #expect(trace.positionLabels == ["'[CLS]'", "'hello'", "'world'", "'[SEP]'"])
        let pattern = trace["blocks.2.attn.hook_pattern"]!
        #expect(pattern.axes.map(\.name) == ["head", "query_pos", "key_pos"])
        #expect(pattern.axes[2].labels == trace.positionLabels)
        #expect(trace["blocks.0.attn.hook_q"]!.shapeDescription == "[pos 4, head 12, d_head 32]")
        #expect(trace["pooler.hook_out"]!.tensor.shape == [1, 384])
        #expect(trace["hook_sentence_embedding"]!.tensor.shape == [384])
        #expect(trace.steps.allSatisfy { !$0.title.isEmpty && !$0.formula.isEmpty && !$0.explanation.isEmpty })
        #expect(model.info.family == "bert" && !model.info.isCausal && model.info.contextLength == 512)
        #expect(model.info.parameterCount == 22_713_216)
    }

    @Test("record: false keeps only the outputs, with the same values to float32 precision",
          .enabled(if: hasMiniLM, "needs minilm/ under STEPWISE_MODELS"))
    func fastPath() throws {
        let model = try #require(sharedModel)
        let ids = try model.tokenizer.encodeForModel("A quick test.")
        let full = try model.trace(ids)
        let fast = try model.forward(ids, cache: nil, options: ForwardOptions(record: false))
        #expect(fast.names == ["pooler.hook_out", "hook_sentence_embedding"])
        // The fast path sums the heads inside one matmul instead of per head: the same up to summation order.
        let (err, bound) = referenceError(fast["hook_sentence_embedding"]!.tensor.data, full["hook_sentence_embedding"]!.tensor.data, tolerance: 1e-6)
        #expect(err <= bound, "fast and full paths differ by \(err)")
    }

    @Test("a causal mask is a teaching switch: no look-ahead, different outputs",
          .enabled(if: hasMiniLM, "needs minilm/ under STEPWISE_MODELS"))
    func causalSwitch() throws {
        let model = try #require(sharedModel)
        let ids = try model.tokenizer.encodeForModel("The cat sat on the mat.")
        let plain = try model.trace(ids)
        let causal = try model.trace(ids, options: ForwardOptions(causal: true))
        let p = causal["blocks.0.attn.hook_pattern"]!.tensor
        let t = ids.count
        for h in 0..<12 {
            for q in 0..<t {
                var rowSum: Float = 0
                for k in 0..<t {
                    rowSum += p[h, q, k]
                    if k > q { #expect(p[h, q, k] == 0) }
                }
                #expect(abs(rowSum - 1) < 1e-5)
            }
        }
        #expect(causal["blocks.0.attn.hook_attn_scores"]!.tensor[0, 0, 1] == -.infinity)
        // Without look-ahead every position but the last sees less, so the sentence embedding changes.
        let a = plain["hook_sentence_embedding"]!.tensor.data, b = causal["hook_sentence_embedding"]!.tensor.data
        #expect(zip(a, b).map { abs($0 - $1) }.max()! > 1e-3)
    }

    @Test("head ablation: zero and mean replace the head's z before W_O",
          .enabled(if: hasMiniLM, "needs minilm/ under STEPWISE_MODELS"))
    func ablation() throws {
        let model = try #require(sharedModel)
        let ids = try model.tokenizer.encodeForModel("Playing chess is fun!")
        let base = try model.trace(ids)
        let (L, H) = (1, 3)
        let zero = try model.trace(ids, options: ForwardOptions(interventions: [.ablateHead(layer: L, head: H, mode: .zero)]))
        let mean = try model.trace(ids, options: ForwardOptions(interventions: [.ablateHead(layer: L, head: H, mode: .mean)]))
        let z0 = zero["blocks.\(L).attn.hook_z"]!.tensor, zb = base["blocks.\(L).attn.hook_z"]!.tensor
        let zm = mean["blocks.\(L).attn.hook_z"]!.tensor
        let t = ids.count
        for i in 0..<t {
            for d in 0..<32 {
                #expect(z0[i, H, d] == 0)
                let avg = (0..<t).map { zb[$0, H, d] }.reduce(0, +) / Float(t)
                #expect(abs(zm[i, H, d] - avg) < 1e-6)
                #expect(z0[i, H + 1, d] == zb[i, H + 1, d])
            }
        }
        // Zeroing the head removes exactly its result from the attention output.
        let resultB = base["blocks.\(L).attn.hook_result"]!.tensor
        let outB = base["blocks.\(L).hook_attn_out"]!.tensor, out0 = zero["blocks.\(L).hook_attn_out"]!.tensor
        var err: Float = 0
        for i in 0..<t { for j in 0..<384 { err = max(err, abs(outB[i, j] - resultB[i, H, j] - out0[i, j])) } }
        #expect(err < 1e-4)
        // Earlier layers are untouched; the output changes.
        #expect(zero["blocks.0.hook_resid_post"]!.tensor == base["blocks.0.hook_resid_post"]!.tensor)
        #expect(zero["hook_sentence_embedding"]!.tensor != base["hook_sentence_embedding"]!.tensor)
    }

    @Test("a KV cache, an out-of-range id or too many tokens are clear errors",
          .enabled(if: hasMiniLM, "needs minilm/ under STEPWISE_MODELS"))
    func errors() throws {
        let model = try #require(sharedModel)
        #expect(throws: StepwiseError.self) { try model.forward([101, 102], cache: model.makeCache(), options: ForwardOptions()) }
        do {
            _ = try model.forward([101, 102], cache: model.makeCache(), options: ForwardOptions())
        } catch let e as StepwiseError {
            #expect(e.kind == .unsupported)
        }
        #expect(throws: StepwiseError.self) { try model.trace([101, 30522]) }
        #expect(throws: StepwiseError.self) { try model.trace([Int](repeating: 1000, count: 513)) }
    }
}

@Suite("BERT config")
struct BERTConfigTests {
    func write(_ json: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bert-config-\(UUID().uuidString).json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("reads a BERT config with defaults")
    func reads() throws {
        let c = try BERTConfig.load(try write(#"{"model_type": "bert", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4}"#))
        #expect(c.dHead == 16 && c.intermediateSize == 256 && c.hiddenAct == "gelu" && c.layerNormEps == 1e-12)
        #expect(c.maxPositionEmbeddings == 512 && c.typeVocabSize == 2)
    }

    @Test("rejects other model types, bad head counts and relative positions")
    func rejects() throws {
        for (json, kind) in [
            (#"{"model_type": "gpt2", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4}"#, StepwiseError.Kind.unsupported),
            (#"{"model_type": "bert", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 5}"#, .file),
            (#"{"model_type": "bert", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "position_embedding_type": "relative_key"}"#, .unsupported),
            (#"{"model_type": "bert", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4}"#, .file),
        ] {
            let path = try write(json)
            #expect { try BERTConfig.load(path) } throws: { ($0 as? StepwiseError)?.kind == kind }
        }
    }
}
