/// One pre-norm decoder block: `h = x + attn(rms1(x))`, `out = h + mlp(rms2(h))`.
///
/// Mirrors transformers' `LlamaDecoderLayer`.
struct LlamaBlock: Sendable {
    let layer: Int
    /// RMSNorms before attention and before the MLP.
    let attentionNorm: Norm
    let mlpNorm: Norm
    let attention: LlamaAttention
    let mlp: LlamaMLP

    /// - Parameters:
    ///   - x: the residual stream `[pos, d_model]` of the new tokens.
    ///   - ropeTables: RoPE's cos and sin `[pos, d_head]` when a patch changed them, else nil.
    /// - Returns: the residual stream after the block.
    func callAsFunction(_ x: Tensor, start: Int, cache: KVCache?, rope: RoPE, ropeTables: (cos: Tensor, sin: Tensor)?,
                        causal: Bool, recorder r: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = r.pos
        let dModel = TraceRecorder.dModel
        let x = r.hook(.residPre(layer: L), x, title: "Residual stream before layer \(L)",
                       formula: "resid_pre = resid_post of layer \(L - 1)",
                       explanation: "What the block reads: the sum of the embedding and every earlier block's output.",
                       axes: [pos, dModel], inputs: [L == 0 ? .embed : .residPost(layer: L - 1)])
        let a = attentionNorm(x, at: .ln1(layer: L), inputs: [.residPre(layer: L)], label: "layer \(L)", recorder: &r)
        let attnOut = attention(a, start: start, cache: cache, rope: rope, ropeTables: ropeTables, causal: causal, recorder: &r)
        let mid = r.hook(.residMid(layer: L), x + attnOut, title: "Residual stream after attention (layer \(L))",
                         formula: "resid_mid = resid_pre + attn_out", explanation: "The stream with the attention's contribution added.",
                         axes: [pos, dModel], inputs: [.residPre(layer: L), .attnOut(layer: L)])
        let m = mlpNorm(mid, at: .ln2(layer: L), inputs: [.residMid(layer: L)], label: "layer \(L)", recorder: &r)
        let mlpPost = mlp(m, recorder: &r)
        let mlpOut = r.hook(.mlpOut(layer: L), mlpPost, title: "MLP output (layer \(L))",
                            formula: "mlp_out = post · W_down" + (mlp.downBias == nil ? "" : " + b_down"), explanation: "What the feed-forward network adds to the residual stream.",
                            axes: [pos, dModel], inputs: [.mlpPost(layer: L)])
        return r.hook(.residPost(layer: L), mid + mlpOut, title: "Residual stream after layer \(L)",
                      formula: "resid_post = resid_mid + mlp_out", explanation: "The block's output, read by the next block.",
                      axes: [pos, dModel], inputs: [.residMid(layer: L), .mlpOut(layer: L)])
    }
}
