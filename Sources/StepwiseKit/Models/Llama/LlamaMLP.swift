/// The SwiGLU feed-forward network of one Llama block: `down(silu(gate(x)) ⊙ up(x))`.
///
/// Mirrors transformers' `LlamaMLP`; a config's `mlp_bias` adds a bias to each of the three projections.
struct LlamaMLP: Sendable {
    let layer: Int
    /// W_gate and W_up `[d_mlp, d_model]` stacked: one product gives both.
    let gateUp: Projection
    /// `[d_model, d_mlp]`.
    let down: Projection
    /// Biases `[d_mlp]`, `[d_mlp]`, `[d_model]` (Llama's `mlp_bias`).
    var gateBias: Tensor?, upBias: Tensor?, downBias: Tensor?

    init(layer: Int, gate: Projection, up: Projection, down: Projection) {
        self.layer = layer
        gateUp = Projection(stacking: [gate, up])
        self.down = down
    }

    /// - Parameter x: the ln2 output `[pos, d_model]`.
    /// - Returns: the MLP output `[pos, d_model]`, before the residual add.
    func callAsFunction(_ x: Tensor, recorder r: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = r.pos
        let dMLP = TraceRecorder.dMLP
        let parts = gateUp.linearParts(x)
        var (g, u) = (parts[0], parts[1])
        if let gateBias { g = g.addingRowVector(gateBias) }
        if let upBias { u = u.addingRowVector(upBias) }
        let ln2: [HookName] = [.normOut(.ln2(layer: L))]
        g = r.hook(.mlpPre(layer: L), g, title: "MLP gate projection (layer \(L))",
                   formula: "gate = ln2 · W_gate" + (gateBias == nil ? "" : " + b_gate"),
                   explanation: "The gate projection: SiLU of it decides how much of each up-projected feature passes.",
                   axes: [pos, dMLP], inputs: ln2)
        u = r.hook(.mlpPreLinear(layer: L), u, title: "MLP up projection (layer \(L))",
                   formula: "up = ln2 · W_up" + (upBias == nil ? "" : " + b_up"),
                   explanation: "The up projection: the features the gate scales.", axes: [pos, dMLP], inputs: ln2)
        let post = r.hook(.mlpPost(layer: L), Activation.silu.gated(g, u), title: "MLP activation (layer \(L))",
                          formula: "post = SiLU(gate) ⊙ up, " + Activation.silu.formula,
                          explanation: "SwiGLU: each up-projected feature times the SiLU of its gate.",
                          axes: [pos, dMLP], inputs: [.mlpPre(layer: L), .mlpPreLinear(layer: L)])
        let out = down(post)
        return downBias.map { out.addingRowVector($0) } ?? out
    }
}
