/// One pre-norm decoder block: `h = x + attn(rms1(x))`, `out = h + mlp(rms2(h))`.
///
/// Mirrors transformers' `LlamaDecoderLayer`.
struct LlamaBlock: Sendable {
    let layer: Int
    /// `[d_model]` RMSNorm weights.
    let attentionNorm: Tensor
    let mlpNorm: Tensor
    let eps: Float
    let attention: LlamaAttention
    let mlp: LlamaMLP

    /// - Parameter x: the residual stream `[pos, d_model]` of the new tokens.
    /// - Returns: the residual stream after the block.
    func callAsFunction(_ x: Tensor, start: Int, cache: KVCache?, rope: RoPE, causal: Bool,
                        interventions: [Intervention], recorder r: inout TraceRecorder) -> Tensor {
        let L = layer, b = "blocks.\(L)."
        let dModel = Axis("d_model")
        r.record(b + "hook_resid_pre", "Residual stream before layer \(L)", formula: "resid_pre = resid_post of layer \(L - 1)",
                 explanation: "What the block reads: the sum of the embedding and every earlier block's output.",
                 axes: [r.pos, dModel], inputs: [L == 0 ? "hook_embed" : "blocks.\(L - 1).hook_resid_post"], layer: L, tensor: x)
        let a = Self.rmsNorm(x, weight: attentionNorm, eps: eps, name: b + "ln1", from: b + "hook_resid_pre",
                             layer: L, recorder: &r)
        let attnOut = attention(a, start: start, cache: cache, rope: rope, causal: causal,
                                interventions: interventions, recorder: &r)
        let mid = x + attnOut
        r.record(b + "hook_resid_mid", "Residual stream after attention (layer \(L))", formula: "resid_mid = resid_pre + attn_out",
                 explanation: "The stream with the attention's contribution added.",
                 axes: [r.pos, dModel], inputs: [b + "hook_resid_pre", b + "hook_attn_out"], layer: L, tensor: mid)
        let m = Self.rmsNorm(mid, weight: mlpNorm, eps: eps, name: b + "ln2", from: b + "hook_resid_mid",
                             layer: L, recorder: &r)
        let mlpOut = mlp(m, recorder: &r)
        r.record(b + "hook_mlp_out", "MLP output (layer \(L))", formula: "mlp_out = post · W_down",
                 explanation: "What the feed-forward network adds to the residual stream.",
                 axes: [r.pos, dModel], inputs: [b + "mlp.hook_post"], layer: L, tensor: mlpOut)
        let post = mid + mlpOut
        r.record(b + "hook_resid_post", "Residual stream after layer \(L)", formula: "resid_post = resid_mid + mlp_out",
                 explanation: "The block's output, read by the next block.",
                 axes: [r.pos, dModel], inputs: [b + "hook_resid_mid", b + "hook_mlp_out"], layer: L, tensor: post)
        return post
    }

    /// RMSNorm with its three steps: `name.hook_scale` `[pos, 1]`, `name.hook_normalized`, `name.hook_out`.
    /// - Returns: `x / √(mean(x²) + eps) · weight`, `[pos, d_model]`.
    static func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float, name: String, from input: String,
                        layer: Int?, recorder r: inout TraceRecorder) -> Tensor {
        let (scale, normalized) = x.rmsNorm(weight: nil, eps: eps)
        let out = normalized.affine(weight: weight, bias: nil)
        let at = layer.map { " (layer \($0))" } ?? ""
        r.record(name + ".hook_scale", "RMSNorm scale\(at)", formula: "scale = √(mean(x²) + \(eps))",
                 explanation: "The root-mean-square size of each position's vector; it is divided out.",
                 axes: [r.pos, Axis("1")], inputs: [input], layer: layer, tensor: scale)
        r.record(name + ".hook_normalized", "RMS-normalised\(at)", formula: "normalized = x / scale",
                 explanation: "Each position's vector rescaled to RMS 1 (no mean is subtracted, unlike LayerNorm).",
                 axes: [r.pos, Axis("d_model")], inputs: [input, name + ".hook_scale"], layer: layer, tensor: normalized)
        r.record(name + ".hook_out", "RMSNorm output\(at)", formula: "out = normalized ⊙ w",
                 explanation: "Each dimension multiplied by its learned weight.",
                 axes: [r.pos, Axis("d_model")], inputs: [name + ".hook_normalized"], layer: layer, tensor: out)
        return out
    }
}
