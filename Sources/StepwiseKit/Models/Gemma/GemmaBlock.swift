/// One Gemma decoder block: a norm before and after each of attention and the MLP (sandwich norms),
/// `mid = x + ln1_post(attn(ln1(x)))`, `out = mid + ln2_post(mlp(ln2(mid)))`.
///
/// Mirrors transformers' `Gemma3DecoderLayer`. As in TransformerLens, `hook_attn_out` and `hook_mlp_out`
/// are what the block adds to the residual stream: the post-norms' outputs (so `ln1_post` and `ln2_post`
/// show their scale and normalized vector, and their output is `hook_attn_out` / `hook_mlp_out`).
struct GemmaBlock: Sendable {
    let layer: Int
    /// `input_layernorm`, `post_attention_layernorm`, `pre_feedforward_layernorm`, `post_feedforward_layernorm`.
    let ln1: Norm, ln1Post: Norm, ln2: Norm, ln2Post: Norm
    let attention: GemmaAttention
    let mlp: GemmaMLP

    func callAsFunction(_ x: Tensor, start: Int, cache: KVCache?, causal: Bool, recorder r: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = r.pos
        let dModel = TraceRecorder.dModel
        let x = r.hook(.residPre(layer: L), x, title: "Residual stream before layer \(L)",
                       formula: "resid_pre = resid_post of layer \(L - 1)",
                       explanation: "What the block reads: the sum of the embedding and every earlier block's output.",
                       axes: [pos, dModel], inputs: [L == 0 ? .embed : .residPost(layer: L - 1)])
        let a = ln1(x, at: .ln1(layer: L), inputs: [.residPre(layer: L)], label: "layer \(L)", recorder: &r)
        let heads = attention(a, start: start, cache: cache, causal: causal, recorder: &r)
        let attnOut = r.hook(.attnOut(layer: L),
                             ln1Post(heads, at: .ln1Post(layer: L), inputs: [.result(layer: L)], label: "layer \(L), after attention",
                                     hookOut: false, recorder: &r),
                             title: "Attention output (layer \(L))", formula: "attn_out = ln1_post(Σ_h result[h]) ⊙ (1 + w)",
                             explanation: "What attention adds to the residual stream: the heads' sum, RMS-normalised again and scaled by the post-attention norm's weight.",
                             axes: [pos, dModel], inputs: [.normNormalized(.ln1Post(layer: L))])
        let mid = r.hook(.residMid(layer: L), x + attnOut, title: "Residual stream after attention (layer \(L))",
                         formula: "resid_mid = resid_pre + attn_out", explanation: "The stream with the attention's contribution added.",
                         axes: [pos, dModel], inputs: [.residPre(layer: L), .attnOut(layer: L)])
        let m = ln2(mid, at: .ln2(layer: L), inputs: [.residMid(layer: L)], label: "layer \(L)", recorder: &r)
        let mlpRaw = mlp(m, recorder: &r)
        let mlpOut = r.hook(.mlpOut(layer: L),
                            ln2Post(mlpRaw, at: .ln2Post(layer: L), inputs: [.mlpPost(layer: L)], label: "layer \(L), after the MLP",
                                    hookOut: false, recorder: &r),
                            title: "MLP output (layer \(L))", formula: "mlp_out = ln2_post(post · W_down) ⊙ (1 + w)",
                            explanation: "What the feed-forward network adds to the residual stream, after its own RMSNorm.",
                            axes: [pos, dModel], inputs: [.normNormalized(.ln2Post(layer: L))])
        return r.hook(.residPost(layer: L), mid + mlpOut, title: "Residual stream after layer \(L)",
                      formula: "resid_post = resid_mid + mlp_out", explanation: "The block's output, read by the next block.",
                      axes: [pos, dModel], inputs: [.residMid(layer: L), .mlpOut(layer: L)])
    }
}
