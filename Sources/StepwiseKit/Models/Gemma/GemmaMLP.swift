/// The GeGLU feed-forward network of one Gemma block: `down(gelu_tanh(gate(x)) ⊙ up(x))`.
///
/// Mirrors transformers' `Gemma3MLP` (no biases; `hidden_activation` `gelu_pytorch_tanh`).
struct GemmaMLP: Sendable {
    let layer: Int
    /// W_gate and W_up `[d_mlp, d_model]` stacked: one product gives both.
    let gateUp: Projection
    /// `[d_model, d_mlp]`.
    let down: Projection
    let activation: Activation

    /// - Parameter x: the ln2 output `[pos, d_model]`.
    /// - Returns: the MLP output `[pos, d_model]`, before the post-MLP norm.
    func callAsFunction(_ x: Tensor, recorder r: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = r.pos
        let dMLP = TraceRecorder.dMLP
        let ln2: [HookName] = [.normOut(.ln2(layer: L))]
        let parts = gateUp.linearParts(x)
        let g = r.hook(.mlpPre(layer: L), parts[0], title: "MLP gate projection (layer \(L))", formula: "gate = ln2 · W_gate",
                       explanation: "The gate projection: its GELU decides how much of each up-projected feature passes.",
                       axes: [pos, dMLP], inputs: ln2)
        let u = r.hook(.mlpPreLinear(layer: L), parts[1], title: "MLP up projection (layer \(L))", formula: "up = ln2 · W_up",
                       explanation: "The up projection: the features the gate scales.", axes: [pos, dMLP], inputs: ln2)
        let post = r.hook(.mlpPost(layer: L), activation.gated(g, u), title: "MLP activation (layer \(L))",
                          formula: "post = GELU(gate) ⊙ up, " + activation.formula,
                          explanation: "GeGLU: each up-projected feature times the GELU of its gate.",
                          axes: [pos, dMLP], inputs: [.mlpPre(layer: L), .mlpPreLinear(layer: L)])
        return down(post)
    }
}
