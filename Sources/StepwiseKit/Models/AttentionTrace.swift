import Foundation

extension TraceRecorder {
    /// `50`, `30.5`: a config number as it would be written.
    static func number(_ x: Float) -> String {
        x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : "\(x)"
    }

    /// Runs and records the part of multi-head attention every family shares, from q, k, v to the
    /// attention output, through the hook points of each: unmasked and masked scores, pattern, weighted sum, each
    /// head's result through its slice of `W_O`, and their sum plus the bias.
    ///
    /// With more than ``AttentionMath/directRows`` queries and no patch at the three score steps, the scores,
    /// mask, softmax and weighted sum run one head at a time (only one `[queries, keys]` matrix exists at
    /// once) and the three steps are kept as ``StepRecipe``s over `q`, `k` and the bias that compute them
    /// again bit for bit; `hook_result` and `hook_attn_out` are recipes over `z`.
    ///
    /// - Parameters:
    ///   - q: `[queries, heads, dHead]`; `k`, `v`: `[keys, kvHeads, dHead]` (all positions a query may see).
    ///   - start: absolute position of the first query (the cached length).
    ///   - causal: apply the causal mask.
    ///   - maskExplanation: what the masked-scores step says, which differs by family.
    ///   - outputSlices: `W_O` by head (``OutputSlices``); when `hook_result` is recorded or patched, the output is
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
    mutating func recordAttention(layer L: Int, q: Tensor, k: Tensor, v: Tensor, scale: Float, start: Int,
                                  causal: Bool, maskExplanation: @autoclosure () -> String,
                                  outputSlices: OutputSlices, bO: Tensor?, project: (Tensor) -> Tensor,
                                  attnOutExplanation: @autoclosure () -> String, qInput: HookName? = nil, kInput: HookName? = nil,
                                  window: Int? = nil, softcap: Float? = nil, scaleText: @autoclosure () -> String? = nil,
                                  outputHook: Bool = true, scoreBias: Tensor? = nil, scoreBiasInput: HookName? = nil,
                                  scoreExplanation: @autoclosure () -> String? = nil) -> Tensor {
        let (t, heads, dHead) = (q.shape[0], q.shape[1], q.shape[2])
        let tk = k.shape[0]
        let dModel = outputSlices.dModel
        let head = TraceRecorder.head
        // The steps' words are made only when a step is recorded (token-by-token generation records none).
        let pos = self.pos, queryPos = self.queryPos, keyPos = self.keyPos
        func scoresAxes() -> [Axis] { [head, queryPos, keyPos] }
        func scoresText() -> (formula: String, explanation: String) {
            var formula = scaleText() ?? "scores = q · kᵀ / √d_head  (√\(dHead) = \(String(format: "%.3f", Float(dHead).squareRoot())))"
            var explanation = scoreExplanation() ?? "How well each query matches each key: a dot product, scaled down by √d_head so the softmax is not too sharp."
            if let softcap {
                formula += ", then \(Self.number(softcap)) · tanh(scores / \(Self.number(softcap)))"
                explanation += " Soft-capping then squashes every score into (−\(Self.number(softcap)), \(Self.number(softcap)))."
            }
            return (formula, explanation)
        }
        if let scoreBias {
            precondition(scoreBias.shape == [heads, t, tk], "recordAttention: bias \(scoreBias.shape) for scores \([heads, t, tk])")
        }
        func scoresTitle() -> String { (scale == 1 ? "Scores" : "Scaled scores") + ", before the mask (layer \(L))" }
        func scoresInputs() -> [HookName] { [qInput ?? .q(layer: L), kInput ?? .k(layer: L)] + (scoreBiasInput.map { [$0] } ?? []) }
        func maskFormula() -> String {
            switch (causal, window) {
            case (true, nil): "scores[q, k] = −∞ where k > q"
            case (true, let w?): "scores[q, k] = −∞ where k > q or k ≤ q − \(w) (sliding window of \(w) keys)"
            case (false, let w?): "scores[q, k] = −∞ where |q − k| ≥ \(w)"
            case (false, nil): "no mask: every query sees every key"
            }
        }
        let patternExplanation = "Softmax turns each query's row of scores into weights that are positive and sum to 1: where each position looks."
        let steps = AttentionMath.ScoreSteps(scale: scale, softcap: softcap, start: start, causal: causal, window: window)
        let zValue: Tensor
        if t > AttentionMath.directRows, !isPatched(.attnScoresUnmasked(layer: L)), !isPatched(.attnScores(layer: L)),
           !isPatched(.pattern(layer: L)) {
            // One head's T × T at a time: scores, mask, softmax, weighted sum (the products the whole-tensor
            // functions make per head). The three steps are kept as recipes that compute them again.
            zValue = streamedHeads(layer: L, q: q, k: k, v: v, bias: scoreBias, steps: steps)
            let inputs = [q, k] + (scoreBias.map { [$0] } ?? [])
            func recipe(_ stage: AttentionMath.ScoreStage) -> StepRecipe {
                StepRecipe(shape: [heads, t, tk], partAxis: 0, inputs: inputs) { inputs, picked in
                    AttentionMath.scoreHeads(q: inputs[0], k: inputs[1], bias: inputs.count > 2 ? inputs[2] : nil,
                                             steps: steps, stage: stage, heads: picked)
                }
            }
            record(.attnScoresUnmasked(layer: L), recipe: recipe(.unmasked), title: scoresTitle(), formula: scoresText().formula,
                   explanation: scoresText().explanation, axes: scoresAxes(), inputs: scoresInputs())
            record(.attnScores(layer: L), recipe: recipe(.masked), title: "Masked scores (layer \(L))", formula: maskFormula(),
                   explanation: maskExplanation(), axes: scoresAxes(), inputs: [.attnScoresUnmasked(layer: L)])
            record(.pattern(layer: L), recipe: recipe(.pattern), title: "Attention pattern (layer \(L))",
                   formula: "pattern = softmax(scores) over key_pos", explanation: patternExplanation,
                   axes: scoresAxes(), inputs: [.attnScores(layer: L)])
        } else {
            // Whole tensors: a patch at one of these steps sees and changes every head at once.
            var scores = AttentionMath.scores(q: q, k: k, scale: scale)
            if let softcap { scores = AttentionMath.softcapped(scores, cap: softcap) }
            if let scoreBias { scores = scores + scoreBias }
            let raw = hook(.attnScoresUnmasked(layer: L), scores, title: scoresTitle(), formula: scoresText().formula,
                           explanation: scoresText().explanation, axes: scoresAxes(), inputs: scoresInputs())
            let masked = hook(.attnScores(layer: L), AttentionMath.masked(raw, start: start, causal: causal, window: window),
                              title: "Masked scores (layer \(L))",
                              formula: maskFormula(),
                              explanation: maskExplanation(), axes: scoresAxes(), inputs: [.attnScoresUnmasked(layer: L)])
            let pattern = hook(.pattern(layer: L), masked.softmax(), title: "Attention pattern (layer \(L))",
                               formula: "pattern = softmax(scores) over key_pos", explanation: patternExplanation,
                               axes: scoresAxes(), inputs: [.attnScores(layer: L)])
            zValue = AttentionMath.weightedSum(pattern: pattern, v: v)
        }
        let z = hook(.z(layer: L), zValue, title: "Weighted sum of values (layer \(L))",
                     formula: "z = pattern · v", explanation: "Each head mixes the value vectors using its pattern's weights.",
                     axes: [pos, head, TraceRecorder.dHead], inputs: [.pattern(layer: L), .v(layer: L)])
        let attnOut: Tensor
        // attn_out is a recipe over z when it is the sum of the unpatched per-head results.
        var outRecipe: (() -> StepRecipe)?
        if wants(.result(layer: L)) {
            let result = hook(.result(layer: L), AttentionMath.perHeadResult(z: z, outputSlices: outputSlices),
                              title: "Per-head output (layer \(L))", formula: "result[h] = z[h] · W_O[h]",
                              explanation: "Each head's mix mapped back to the residual stream's \(dModel) dimensions by its own slice of W_O.",
                              axes: [pos, head, TraceRecorder.dModel], inputs: [.z(layer: L)],
                              recipe: {
                                  StepRecipe(shape: [t, heads, dModel], partAxis: 1, inputs: [z]) { inputs, picked in
                                      AttentionMath.perHeadResult(z: inputs[0], outputSlices: outputSlices, heads: picked)
                                  }
                              })
            attnOut = AttentionMath.sumHeads(result, bias: bO)
            if !isPatched(.result(layer: L)) {
                outRecipe = {
                    StepRecipe(shape: [t, dModel], inputs: [z]) { inputs, _ in
                        AttentionMath.sumHeads(AttentionMath.perHeadResult(z: inputs[0], outputSlices: outputSlices), bias: bO)
                    }
                }
            }
        } else {
            attnOut = project(z.reshaped([t, heads * dHead]))
        }
        guard outputHook else { return attnOut }
        return hook(.attnOut(layer: L), attnOut, title: "Attention output (layer \(L))",
                    formula: "attn_out = Σ_h result[h]" + (bO == nil ? "" : " + b_O"),
                    explanation: attnOutExplanation(), axes: [pos, TraceRecorder.dModel], inputs: [.result(layer: L)],
                    recipe: outRecipe)
    }

    /// The weighted sum `z` `[queries, heads, dHead]`, computed a head at a time so that only one head's
    /// `[queries, keys]` scores exist at once; notes non-finite scores and patterns of the steps recorded.
    private mutating func streamedHeads(layer L: Int, q: Tensor, k: Tensor, v: Tensor, bias: Tensor?,
                                        steps: AttentionMath.ScoreSteps) -> Tensor {
        let (t, heads, dHead) = (q.shape[0], q.shape[1], q.shape[2])
        let (tk, kvHeads) = (k.shape[0], k.shape[1])
        precondition(heads % kvHeads == 0 && k.shape[2] == dHead && v.shape[0] == tk, "recordAttention: q \(q.shape), k \(k.shape), v \(v.shape)")
        let group = heads / kvHeads
        let kHeads = (0..<kvHeads).map { AttentionMath.head(k.data, positions: tk, heads: kvHeads, dHead: dHead, $0) }
        let vT = AttentionMath.valueColumns(v)
        let names = [HookName.attnScoresUnmasked(layer: L), .attnScores(layer: L), .pattern(layer: L)]
        let checked = names.map { records($0) ? scoped($0).name : nil }
        var z = [Float](repeating: 0, count: t * heads * dHead)
        for h in 0..<heads {
            var s = AttentionMath.unmaskedHead(q: q, kHead: kHeads[h / group], tk: tk, h: h, bias: bias, steps: steps)
            let offset = h * t * tk
            s.withUnsafeMutableBufferPointer { o in
                if let n = checked[0] { noteNonFinite(n, UnsafeBufferPointer(o), offset: offset, maskable: false) }
                if steps.causal || steps.window != nil {
                    AttentionMath.maskRows(o, tq: t, tk: tk, start: steps.start, causal: steps.causal, window: steps.window)
                }
                if let n = checked[1] { noteNonFinite(n, UnsafeBufferPointer(o), offset: offset, maskable: true) }
                Tensor.softmaxRows(o, n: tk)
                if let n = checked[2] { noteNonFinite(n, UnsafeBufferPointer(o), offset: offset, maskable: false) }
            }
            AttentionMath.addWeightedHead(&z, pattern: s, vT: vT[h / group], h: h, tq: t, tk: tk, heads: heads, dHead: dHead)
        }
        return Tensor(shape: [t, heads, dHead], data: z)
    }
}
