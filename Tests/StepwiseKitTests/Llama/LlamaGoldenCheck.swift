import Foundation
import Testing
@testable import StepwiseKit

/// Compares a traced SmolLM2 pass with a golden file of dump.py (transformers on the dequantized
/// Q4_1 GGUF), whatever the model was loaded from: an HF folder now, the GGUF file through ``GGUFFile``
/// later (q/k references are reordered to the model's layout).
///
/// Every traced step with a golden counterpart is checked: embedding, RoPE cos/sin, per layer ln1, q/k/v
/// before and after RoPE, pattern, z, attn_out, resid_mid, ln2, MLP activation, mlp_out, resid_post;
/// final_norm, the last logits and the top-10 next tokens with their probabilities.
/// - Returns: the largest error relative to each field's bound, by field, for the report.
@discardableResult
func checkLlamaAgainstGolden(_ model: LlamaModel, golden url: URL,
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Float] {
    let doc = try #require(loadJSON(url) as? [String: Any], sourceLocation: sourceLocation)
    let tokens = try #require(doc["tokens"] as? [String: Any], sourceLocation: sourceLocation)
    let ids = try #require(tokens["ids"] as? [Int], sourceLocation: sourceLocation)
    let trace = try model.trace(ids)
    let T = ids.count, d = model.config.headDim, layout = model.layout
    var worst: [String: Float] = [:]
    func check(_ step: String, _ entry: Any?, _ field: String, absolute: Bool = false, permute: Bool = false,
               rows: Range<Int>? = nil) {
        guard var ref = llamaReferenceTensor(entry) else { return }  // field not in this golden file
        if permute { ref = llamaInLayoutOrder(ref, headDim: d, layout: layout) }
        let err = llamaExpectMatch(trace, step, ref, absolute: absolute, rows: rows, label: field, sourceLocation: sourceLocation)
        let bound = absolute ? 1e-4 : 1e-4 * max(1, ref.maxAbs)
        worst[field] = max(worst[field] ?? 0, err / bound)
    }
    check("hook_embed", doc["embedding"], "embedding")
    check("rope.hook_cos", doc["rope_cos"], "rope_cos", permute: true)
    check("rope.hook_sin", doc["rope_sin"], "rope_sin", permute: true)
    let layers = try #require(doc["layers"] as? [[String: Any]], sourceLocation: sourceLocation)
    #expect(layers.count == model.config.numHiddenLayers, sourceLocation: sourceLocation)
    for layer in layers {
        let l = try #require(layer["index"] as? Int, sourceLocation: sourceLocation)
        let b = "blocks.\(l).", a = "blocks.\(l).attn."
        check(b + "ln1.hook_out", layer["ln1"], "ln1")
        check(a + "hook_q", layer["q"], "q", permute: true)
        check(a + "hook_k", layer["k"], "k", permute: true)
        check(a + "hook_v", layer["v"], "v")
        check(a + "hook_rot_q", layer["q_rope"], "q_rope", permute: true)
        check(a + "hook_rot_k", layer["k_rope"], "k_rope", permute: true)
        check(a + "hook_pattern", layer["attn_probs"], "attn_probs", absolute: true)
        check(a + "hook_z", layer["attn_context"], "attn_context")
        check(b + "hook_attn_out", layer["attn_out"], "attn_out")
        check(b + "hook_resid_mid", layer["resid_mid"], "resid_mid")
        check(b + "ln2.hook_out", layer["ln2"], "ln2")
        check(b + "mlp.hook_post", layer["mlp_act"], "mlp_act")
        check(b + "hook_mlp_out", layer["mlp_out"], "mlp_out")
        check(b + "hook_resid_post", layer["hidden"], "hidden")
    }
    check("ln_final.hook_out", doc["final_norm"], "final_norm")
    check("logits", doc["last_logits"], "last_logits", rows: (T - 1)..<T)

    // Top-10 next tokens: same ids in the same order, probabilities within 1e-4.
    let top = try #require(doc["top10"] as? [[String: Any]], sourceLocation: sourceLocation)
    let logits = trace.logits!.row(T - 1).data.map(Double.init)
    let m = logits.max()!
    let z = logits.reduce(0) { $0 + exp($1 - m) }
    let order = logits.indices.sorted { logits[$0] > logits[$1] }
    for (rank, entry) in top.enumerated() {
        let id = try #require(entry["id"] as? Int, sourceLocation: sourceLocation)
        let prob = try #require((entry["prob"] as? NSNumber)?.doubleValue, sourceLocation: sourceLocation)
        #expect(order[rank] == id, "rank \(rank + 1): got id \(order[rank]), golden \(id)", sourceLocation: sourceLocation)
        let p = exp(logits[id] - m) / z
        #expect(abs(p - prob) <= 1e-4, "id \(id): probability \(p) vs golden \(prob)", sourceLocation: sourceLocation)
        worst["top10_prob"] = max(worst["top10_prob"] ?? 0, Float(abs(p - prob) / 1e-4))
    }
    return worst
}
