/// The SwiGLU feed-forward network of one Llama block: `down(silu(gate(x)) ⊙ up(x))`.
///
/// Mirrors transformers' `LlamaMLP` (no biases).
struct LlamaMLP: Sendable {
    let layer: Int
    /// `[d_mlp, d_model]` (packed for the matrix kernel).
    let gate: PackedMatrix
    /// `[d_mlp, d_model]`.
    let up: PackedMatrix
    /// `[d_model, d_mlp]`.
    let down: PackedMatrix
    /// The same three projections in the file's block format, when it has one (see ``LlamaAttention``).
    var quantized: (gate: QuantizedMatrix, up: QuantizedMatrix, down: QuantizedMatrix)?

    init(layer: Int, gate: Tensor, up: Tensor, down: Tensor) {
        self.layer = layer
        self.gate = PackedMatrix(gate)
        self.up = PackedMatrix(up)
        self.down = PackedMatrix(down)
    }

    /// - Parameter x: the ln2 output `[pos, d_model]`.
    /// - Returns: the MLP output `[pos, d_model]`, before the residual add.
    func callAsFunction(_ x: Tensor, recorder r: inout LlamaRecorder) -> Tensor {
        let L = layer, p = "blocks.\(L).mlp."
        let dMLP = Axis("d_mlp")
        let g = project(x, gate, quantized?.gate)
        r.add(p + "hook_pre", "MLP gate projection (layer \(L))", formula: "gate = ln2 · W_gate",
              explanation: "The gate projection: SiLU of it decides how much of each up-projected feature passes.",
              tensor: g, axes: [r.pos, dMLP], inputs: ["blocks.\(L).ln2.hook_out"], layer: L)
        let u = project(x, up, quantized?.up)
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
        return project(post, down, quantized?.down)
    }
}

/// `x · Wᵀ`: through the block-format copy `q` for one or two rows (a matrix-vector product, bound by
/// reading the weights), else through the float32 panels. Both give the same values up to the order of
/// the summation.
@inline(__always)
func project(_ x: Tensor, _ w: PackedMatrix, _ q: QuantizedMatrix?) -> Tensor {
    if let q, x.count <= 2 * x.dim(-1) { return q.linear(x) }
    return w.linear(x)
}
