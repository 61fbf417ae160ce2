import Foundation

extension TraceRecorder {
    /// Runs and records the part of multi-head attention every family shares, from q, k, v to the
    /// attention output, through the hook points of each: unmasked and masked scores, pattern, weighted sum, each
    /// head's result through its slice of `W_O`, and their sum plus the bias.
    ///
    /// - Parameters:
    ///   - q: `[queries, heads, dHead]`; `k`, `v`: `[keys, kvHeads, dHead]` (all positions a query may see).
    ///   - start: absolute position of the first query (the cached length).
    ///   - causal: apply the causal mask.
    ///   - maskExplanation: what the masked-scores step says, which differs by family.
    ///   - outputSlices: per head, `W_O`'s `[dModel, dHead]` slice (packed); when `hook_result` is recorded or patched, the output is
    ///     the sum of the heads' results through these, plus `bO`.
    ///   - project: `z` flattened to `[queries, heads·dHead]` → `z · W_Oᵀ + b_O`, the output when
    ///     nothing reads or patches `hook_result` (one product instead of one per head).
    ///   - qInput, kInput: the steps the scores come from (`hook_rot_q` under RoPE).
    ///   - window: a sliding window of this many keys (Mistral, Gemma's local layers), masked like the causal mask.
    ///   - softcap: Gemma 2's attention soft-capping `cap · tanh(scores / cap)`, applied before the mask.
    ///   - scaleText: the scores' formula when the scale is not `1/√d_head` (Gemma's `query_pre_attn_scalar`).
    ///   - outputHook: false when a norm follows (Gemma's `ln1_post`): the caller hooks `hook_attn_out` after it.
    ///   - scoreBias: `[heads, queries, keys]` added to the scores before the mask (T5's relative position
    ///     bias), named by `scoreBiasInput` among the scores' inputs; `scoreExplanation` replaces the scores' explanation.
    /// - Returns: the attention output `[queries, dModel]`.
    /// `50`, `30.5`: a config number as it would be written.
    static func number(_ x: Float) -> String {
        x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : "\(x)"
    }

    mutating func recordAttention(layer L: Int, q: Tensor, k: Tensor, v: Tensor, scale: Float, start: Int,
                                  causal: Bool, maskExplanation: String,
                                  outputSlices: OutputSlices, bO: Tensor?, project: (Tensor) -> Tensor,
                                  attnOutExplanation: String, qInput: HookName? = nil, kInput: HookName? = nil,
                                  window: Int? = nil, softcap: Float? = nil, scaleText: String? = nil,
                                  outputHook: Bool = true, scoreBias: Tensor? = nil, scoreBiasInput: HookName? = nil,
                                  scoreExplanation: String? = nil) -> Tensor {
        let (t, heads, dHead) = (q.shape[0], q.shape[1], q.shape[2])
        let dModel = outputSlices.dModel
        let head = TraceRecorder.head
        let pos = self.pos, scoresAxes = [head, queryPos, keyPos]
        var scores = AttentionMath.scores(q: q, k: k, scale: scale)
        var formula = scaleText ?? "scores = q · kᵀ / √d_head  (√\(dHead) = \(String(format: "%.3f", Float(dHead).squareRoot())))"
        var explanation = scoreExplanation ?? "How well each query matches each key: a dot product, scaled down by √d_head so the softmax is not too sharp."
        if let softcap {
            scores = AttentionMath.softcapped(scores, cap: softcap)
            formula += ", then \(Self.number(softcap)) · tanh(scores / \(Self.number(softcap)))"
            explanation += " Soft-capping then squashes every score into (−\(Self.number(softcap)), \(Self.number(softcap)))."
        }
        if let scoreBias {
            precondition(scoreBias.shape == scores.shape, "recordAttention: bias \(scoreBias.shape) for scores \(scores.shape)")
            scores = scores + scoreBias
        }
        let raw = hook(.attnScoresUnmasked(layer: L), scores,
                       title: (scale == 1 ? "Scores" : "Scaled scores") + ", before the mask (layer \(L))",
                       formula: formula, explanation: explanation,
                       axes: scoresAxes, inputs: [qInput ?? .q(layer: L), kInput ?? .k(layer: L)] + (scoreBiasInput.map { [$0] } ?? []))
        let maskFormula: String
        switch (causal, window) {
        case (true, nil): maskFormula = "scores[q, k] = −∞ where k > q"
        case (true, let w?): maskFormula = "scores[q, k] = −∞ where k > q or k ≤ q − \(w) (sliding window of \(w) keys)"
        case (false, let w?): maskFormula = "scores[q, k] = −∞ where |q − k| ≥ \(w)"
        case (false, nil): maskFormula = "no mask: every query sees every key"
        }
        let masked = hook(.attnScores(layer: L), AttentionMath.masked(raw, start: start, causal: causal, window: window),
                          title: "Masked scores (layer \(L))",
                          formula: maskFormula,
                          explanation: maskExplanation, axes: scoresAxes, inputs: [.attnScoresUnmasked(layer: L)])
        let pattern = hook(.pattern(layer: L), masked.softmax(), title: "Attention pattern (layer \(L))",
                           formula: "pattern = softmax(scores) over key_pos",
                           explanation: "Softmax turns each query's row of scores into weights that are positive and sum to 1: where each position looks.",
                           axes: scoresAxes, inputs: [.attnScores(layer: L)])
        let z = hook(.z(layer: L), AttentionMath.weightedSum(pattern: pattern, v: v), title: "Weighted sum of values (layer \(L))",
                     formula: "z = pattern · v", explanation: "Each head mixes the value vectors using its pattern's weights.",
                     axes: [pos, head, TraceRecorder.dHead], inputs: [.pattern(layer: L), .v(layer: L)])
        let attnOut: Tensor
        if wants(.result(layer: L)) {
            let result = hook(.result(layer: L), AttentionMath.perHeadResult(z: z, outputSlices: outputSlices),
                              title: "Per-head output (layer \(L))", formula: "result[h] = z[h] · W_O[h]",
                              explanation: "Each head's mix mapped back to the residual stream's \(dModel) dimensions by its own slice of W_O.",
                              axes: [pos, head, TraceRecorder.dModel], inputs: [.z(layer: L)])
            attnOut = AttentionMath.sumHeads(result, bias: bO)
        } else {
            attnOut = project(z.reshaped([t, heads * dHead]))
        }
        guard outputHook else { return attnOut }
        return hook(.attnOut(layer: L), attnOut, title: "Attention output (layer \(L))",
                    formula: "attn_out = Σ_h result[h]" + (bO == nil ? "" : " + b_O"),
                    explanation: attnOutExplanation, axes: [pos, TraceRecorder.dModel], inputs: [.result(layer: L)])
    }
}
