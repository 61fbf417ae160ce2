/// One T5 block, pre-norm with T5's RMS-style layer norm (a weight, no bias, no mean subtracted).
///
/// Encoder: `mid = x + attn(ln1(x))`, `out = mid + mlp(ln2(mid))`. Decoder: `mid = x + self_attn(ln1(x))`
/// (causal), `mid_cross = mid + cross_attn(ln2(mid), encoder_out)`, `out = mid_cross + mlp(ln3(mid_cross))`.
/// Mirrors transformers' `T5Block` (`T5LayerSelfAttention`, `T5LayerCrossAttention`, `T5LayerFF`), with
/// TransformerLens's T5 names for the norms (`ln1`, `ln2`, `ln3`).
struct T5Block: Sendable {
    let layer: Int
    /// `layer.0.layer_norm`.
    let ln1: Norm
    let attention: T5Attention
    /// The decoder's `layer.1.layer_norm` and `EncDecAttention`; nil in the encoder.
    let lnCross: Norm?
    let crossAttention: T5Attention?
    /// The MLP's norm: `ln2` in the encoder, `ln3` in the decoder.
    let lnMLP: Norm
    let mlp: T5MLP

    var isDecoder: Bool { crossAttention != nil }

    /// Runs the block on `x` `[pos, d_model]`.
    ///
    /// - Parameters:
    ///   - bias: the stack's position bias for these queries, `[heads, pos, keys]`.
    ///   - cross: the decoder's cross-attention input for this layer (nil in the encoder); its keys and
    ///     values are filled in when computed here.
    func callAsFunction(_ x: Tensor, bias: Tensor, start: Int, cache: KVCache?, causal: Bool,
                        cross: inout T5CrossState?, recorder r: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = r.pos
        let dModel = TraceRecorder.dModel
        let x = r.hook(.residPre(layer: L), x, title: "Residual stream before layer \(L)",
                       formula: L == 0 ? "resid_pre = embed" : "resid_pre = resid_post of layer \(L - 1)",
                       explanation: L == 0 ? "What the first block reads: the token embeddings (T5 adds no position vector)."
                                           : "What the block reads: the embedding plus every earlier block's output.",
                       axes: [pos, dModel], inputs: [L == 0 ? .embed : .residPost(layer: L - 1)])
        let a = ln1(x, at: .ln1(layer: L), inputs: [.residPre(layer: L)], label: "layer \(L)", recorder: &r)
        let attnOut = attention.selfAttention(a, bias: bias, start: start, cache: cache, causal: causal, recorder: &r)
        let mid = r.hook(.residMid(layer: L), x + attnOut, title: "Residual stream after attention (layer \(L))",
                         formula: "resid_mid = resid_pre + attn_out", explanation: "The stream with self-attention's contribution added.",
                         axes: [pos, dModel], inputs: [.residPre(layer: L), .attnOut(layer: L)])
        var h = mid
        var mlpNorm: HookName.NormSite = .ln2(layer: L)
        var before: HookName = .residMid(layer: L)
        if let lnCross, let crossAttention {
            guard var state = cross else { preconditionFailure("T5Block: a decoder block needs the encoder's output") }
            let c = lnCross(mid, at: .ln2(layer: L), inputs: [.residMid(layer: L)], label: "layer \(L), before cross-attention", recorder: &r)
            let crossOut = r.crossAttention(sourceLabels: state.sourceLabels) { r in
                crossAttention.crossAttention(c, cross: &state, recorder: &r)
            }
            cross = state
            h = r.hook(.residMidCross(layer: L), mid + crossOut, title: "Residual stream after cross-attention (layer \(L))",
                       formula: "resid_mid_cross = resid_mid + cross_attn_out",
                       explanation: "The stream with what the decoder read from the source added.",
                       axes: [pos, dModel], inputs: [.residMid(layer: L), .crossAttnOut(layer: L)])
            mlpNorm = .ln3(layer: L)
            before = .residMidCross(layer: L)
        }
        let m = lnMLP(h, at: mlpNorm, inputs: [before], label: "layer \(L)", recorder: &r)
        let mlpOut = mlp(m, input: .normOut(mlpNorm), recorder: &r)
        return r.hook(.residPost(layer: L), h + mlpOut, title: "Residual stream after layer \(L)",
                      formula: isDecoder ? "resid_post = resid_mid_cross + mlp_out" : "resid_post = resid_mid + mlp_out",
                      explanation: "The block's output, read by the next block.",
                      axes: [pos, dModel], inputs: [before, .mlpOut(layer: L)])
    }
}
