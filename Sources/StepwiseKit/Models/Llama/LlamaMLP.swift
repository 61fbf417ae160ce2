/// The SwiGLU feed-forward network of one Llama block: `down(silu(gate(x)) ⊙ up(x))`.
///
/// Mirrors transformers' `LlamaMLP`; a config's `mlp_bias` adds a bias to each of the three projections.
struct LlamaMLP: Sendable {
    let layer: Int
    /// `[d_mlp, d_model]` (packed for the matrix kernel).
    let gate: PackedMatrix
    /// `[d_mlp, d_model]`.
    let up: PackedMatrix
    /// `[d_model, d_mlp]`.
    let down: PackedMatrix
    /// The same projections in the file's block format, when it has one (see ``LlamaAttention``), with
    /// gate and up stacked into one matrix.
    var quantized: (gateUp: QuantizedMatrix, down: QuantizedMatrix)?
    /// Biases `[d_mlp]`, `[d_mlp]`, `[d_model]` (Llama's `mlp_bias`).
    var gateBias: Tensor?, upBias: Tensor?, downBias: Tensor?

    init(layer: Int, gate: Tensor, up: Tensor, down: Tensor) {
        self.layer = layer
        self.gate = PackedMatrix(gate)
        self.up = PackedMatrix(up)
        self.down = PackedMatrix(down)
    }

    /// - Parameter x: the ln2 output `[pos, d_model]`.
    /// - Returns: the MLP output `[pos, d_model]`, before the residual add.
    func callAsFunction(_ x: Tensor, recorder r: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = r.pos
        let dMLP = TraceRecorder.dMLP
        var g: Tensor, u: Tensor
        if let gateUp = quantized?.gateUp, usesBlocks(x) {
            let parts = gateUp.linearParts(x)
            (g, u) = (parts[0], parts[1])
        } else {
            g = gate.linear(x)
            u = up.linear(x)
        }
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
        var act = g.data
        act.withUnsafeMutableBufferPointer { a in
            u.data.withUnsafeBufferPointer { uu in
                for i in 0..<a.count { a[i] = Activation.silu(a[i]) * uu[i] }
            }
        }
        let post = r.hook(.mlpPost(layer: L), Tensor(shape: g.shape, data: act), title: "MLP activation (layer \(L))",
                          formula: "post = SiLU(gate) ⊙ up, " + Activation.silu.formula,
                          explanation: "SwiGLU: each up-projected feature times the SiLU of its gate.",
                          axes: [pos, dMLP], inputs: [.mlpPre(layer: L), .mlpPreLinear(layer: L)])
        let out = project(post, down, quantized?.down)
        return downBias.map { out.addingRowVector($0) } ?? out
    }
}

/// True when `x` has one or two rows: a matrix-vector product, bound by reading the weights, which the
/// block-format copies do with 4-7x fewer bytes than the float32 panels.
@inline(__always)
func usesBlocks(_ x: Tensor) -> Bool {
    x.count <= 2 * x.dim(-1)
}

/// `x · Wᵀ`: through the block-format copy `q` for one or two rows, else through the float32 panels.
/// Both give the same values to float32 rounding.
@inline(__always)
func project(_ x: Tensor, _ w: PackedMatrix, _ q: QuantizedMatrix?) -> Tensor {
    if let q, usesBlocks(x) { return q.linear(x) }
    return w.linear(x)
}
