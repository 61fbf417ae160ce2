import Foundation

extension TraceRecorder {
    /// Runs and records the part of multi-head attention every family shares, from q, k, v to the
    /// attention output: unmasked and masked scores, pattern, weighted sum (after any ablation), each
    /// head's result through its slice of `W_O`, and their sum plus the bias.
    ///
    /// - Parameters:
    ///   - p: the layer's prefix, `blocks.L`.
    ///   - q: `[queries, heads, dHead]`; `k`, `v`: `[keys, kvHeads, dHead]` (all positions a query may see).
    ///   - start: absolute position of the first query (the cached length).
    ///   - causal: apply the causal mask.
    ///   - maskExplanation: what the masked-scores step says, which differs by family.
    ///   - outputSlices: per head, `W_O`'s `[dModel, dHead]` slice (packed); with recording on, the output is
    ///     the sum of the heads' results through these, plus `bO`.
    ///   - project: `z` flattened to `[queries, heads·dHead]` → `z · W_Oᵀ + b_O`, the output when
    ///     recording is off (one product instead of one per head).
    ///   - qInput, kInput: the step names the scores come from (`hook_rot_q` under RoPE).
    /// - Returns: the attention output `[queries, dModel]`.
    mutating func recordAttention(_ p: String, layer L: Int, q: Tensor, k: Tensor, v: Tensor, scale: Float, start: Int,
                                  causal: Bool, maskExplanation: String, interventions: [Intervention],
                                  outputSlices: [PackedMatrix], bO: Tensor?, project: (Tensor) -> Tensor,
                                  attnOutExplanation: String, qInput: String? = nil, kInput: String? = nil) -> Tensor {
        let (t, heads, dHead) = (q.shape[0], q.shape[1], q.shape[2])
        let dModel = outputSlices[0].rows
        let head = TraceRecorder.head
        let raw = AttentionMath.scores(q: q, k: k, scale: scale)
        let scoresAxes = [head, queryPos, keyPos]
        record("\(p).attn.hook_attn_scores_unmasked", "Scaled scores, before the mask (layer \(L))",
               formula: "scores = q · kᵀ / √d_head  (√\(dHead) = \(String(format: "%.3f", Float(dHead).squareRoot())))",
               explanation: "How well each query matches each key: a dot product, scaled down by √d_head so the softmax is not too sharp.",
               axes: scoresAxes, inputs: [qInput ?? "\(p).attn.hook_q", kInput ?? "\(p).attn.hook_k"], layer: L, tensor: raw)
        let masked = AttentionMath.masked(raw, start: start, causal: causal)
        record("\(p).attn.hook_attn_scores", "Masked scores (layer \(L))",
               formula: causal ? "scores[q, k] = −∞ where k > q" : "no mask: every query sees every key",
               explanation: maskExplanation,
               axes: scoresAxes, inputs: ["\(p).attn.hook_attn_scores_unmasked"], layer: L, tensor: masked)
        let pattern = masked.softmax()
        record("\(p).attn.hook_pattern", "Attention pattern (layer \(L))", formula: "pattern = softmax(scores) over key_pos",
               explanation: "Softmax turns each query's row of scores into weights that are positive and sum to 1: where each position looks.",
               axes: scoresAxes, inputs: ["\(p).attn.hook_attn_scores"], layer: L, tensor: pattern)
        var z = AttentionMath.weightedSum(pattern: pattern, v: v)
        AttentionMath.ablate(&z, layer: L, interventions: interventions)
        let ablated = (0..<heads).compactMap { h in interventions.ablation(layer: L, head: h).map { "\(h) (\($0.rawValue))" } }
        record("\(p).attn.hook_z", "Weighted sum of values (layer \(L))", formula: "z = pattern · v",
               explanation: "Each head mixes the value vectors using its pattern's weights"
                   + (ablated.isEmpty ? "." : "; ablated heads: \(ablated.joined(separator: ", "))."),
               axes: [pos, head, TraceRecorder.dHead], inputs: ["\(p).attn.hook_pattern", "\(p).attn.hook_v"], layer: L, tensor: z)
        guard enabled else {
            return project(z.reshaped([t, heads * dHead]))
        }
        let result = AttentionMath.perHeadResult(z: z, outputSlices: outputSlices)
        record("\(p).attn.hook_result", "Per-head output (layer \(L))", formula: "result[h] = z[h] · W_O[h]",
               explanation: "Each head's mix mapped back to the residual stream's \(dModel) dimensions by its own slice of W_O.",
               axes: [pos, head, TraceRecorder.dModel], inputs: ["\(p).attn.hook_z"], layer: L, tensor: result)
        let attnOut = AttentionMath.sumHeads(result, bias: bO)
        record("\(p).hook_attn_out", "Attention output (layer \(L))",
               formula: "attn_out = Σ_h result[h]" + (bO == nil ? "" : " + b_O"),
               explanation: attnOutExplanation,
               axes: [pos, TraceRecorder.dModel], inputs: ["\(p).attn.hook_result"], layer: L, tensor: attnOut)
        return attnOut
    }
}
