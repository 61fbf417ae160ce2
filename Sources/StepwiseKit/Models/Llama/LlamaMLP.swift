/// The SwiGLU feed-forward network of one Llama block: `down(silu(gate(x)) ⊙ up(x))`.
///
/// Mirrors transformers' `LlamaMLP` (no biases).
struct LlamaMLP: Sendable {
    let layer: Int
    /// `[d_mlp, d_model]`.
    let gate: Tensor
    /// `[d_mlp, d_model]`.
    let up: Tensor
    /// `[d_model, d_mlp]`.
    let down: Tensor

    /// - Parameter x: the ln2 output `[pos, d_model]`.
    /// - Returns: the MLP output `[pos, d_model]`, before the residual add.
    func callAsFunction(_ x: Tensor, recorder r: inout LlamaRecorder) -> Tensor {
        let L = layer, p = "blocks.\(L).mlp."
        let dMLP = Axis("d_mlp")
        let g = x.linear(gate)
        r.add(p + "hook_pre", "MLP gate projection (layer \(L))", formula: "gate = ln2 · W_gate",
              explanation: "The gate projection: SiLU of it decides how much of each up-projected feature passes.",
              tensor: g, axes: [r.pos, dMLP], inputs: ["blocks.\(L).ln2.hook_out"], layer: L)
        let u = x.linear(up)
        r.add(p + "hook_pre_linear", "MLP up projection (layer \(L))", formula: "up = ln2 · W_up",
              explanation: "The up projection: the features the gate scales.",
              tensor: u, axes: [r.pos, dMLP], inputs: ["blocks.\(L).ln2.hook_out"], layer: L)
        var act = g.data
        act.withUnsafeMutableBufferPointer { a in
            u.data.withUnsafeBufferPointer { uu in
                for i in 0..<a.count { a[i] = Activation.silu(a[i]) * uu[i] }
            }
        }
        let post = Tensor(shape: g.shape, data: act)
        r.add(p + "hook_post", "MLP activation (layer \(L))", formula: "post = SiLU(gate) ⊙ up, " + Activation.silu.formula,
              explanation: "SwiGLU: each up-projected feature times the SiLU of its gate.",
              tensor: post, axes: [r.pos, dMLP], inputs: [p + "hook_pre", p + "hook_pre_linear"], layer: L)
        return post.linear(down)
    }
}
