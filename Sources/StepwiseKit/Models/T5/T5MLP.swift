/// The feed-forward network of one T5 block, without biases: v1.0's `DenseReluDense`
/// (`wo(act(wi x))`) or v1.1 / Flan-T5's `DenseGatedActDense` (`wo(act(wi_0 x) ⊙ wi_1 x)`, GELU-tanh).
///
/// Mirrors transformers' `T5DenseActDense` and `T5DenseGatedActDense` (dropout is off in evaluation).
struct T5MLP: Sendable {
    let layer: Int
    /// `wi` `[d_ff, d_model]`, or `wi_0` (the gated branch) when `linear` is set.
    let wi: Projection
    /// `wi_1` `[d_ff, d_model]`, the gated MLP's linear branch.
    let linear: Projection?
    /// `wo` `[d_model, d_ff]`.
    let wo: Projection
    let activation: Activation

    /// - Parameters:
    ///   - x: the norm output `[pos, d_model]` (ln2 in the encoder, ln3 in the decoder).
    ///   - input: that norm's output step.
    /// - Returns: the MLP output `[pos, d_model]`, hooked as `hook_mlp_out`.
    func callAsFunction(_ x: Tensor, input: HookName, recorder r: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = r.pos
        let dMLP = TraceRecorder.dMLP
        let ln = input.unstacked.normSiteName
        let post: Tensor
        if let linear {
            let g = r.hook(.mlpPre(layer: L), wi(x), title: "MLP gate projection (layer \(L))", formula: "gate = \(ln) · W_wi_0",
                           explanation: "The gated branch (wi_0): its activation decides how much of each linear feature passes.",
                           axes: [pos, dMLP], inputs: [input])
            let u = r.hook(.mlpPreLinear(layer: L), linear(x), title: "MLP linear projection (layer \(L))",
                           formula: "linear = \(ln) · W_wi_1",
                           explanation: "The linear branch (wi_1): the features the gate scales.", axes: [pos, dMLP], inputs: [input])
            var act = g.data
            let f = activation
            act.withUnsafeMutableBufferPointer { a in
                u.data.withUnsafeBufferPointer { uu in
                    for i in 0..<a.count { a[i] = f(a[i]) * uu[i] }
                }
            }
            post = r.hook(.mlpPost(layer: L), Tensor(shape: g.shape, data: act), title: "MLP activation (layer \(L))",
                          formula: "post = act(gate) ⊙ linear, " + activation.formula,
                          explanation: "Gated activation: each linear feature times the activation of its gate.",
                          axes: [pos, dMLP], inputs: [.mlpPre(layer: L), .mlpPreLinear(layer: L)])
        } else {
            let pre = r.hook(.mlpPre(layer: L), wi(x), title: "MLP pre-activation (layer \(L))", formula: "pre = \(ln) · W_wi",
                             explanation: "Each position projected up to \(wi.rows) hidden neurons (wi, no bias).",
                             axes: [pos, dMLP], inputs: [input])
            post = r.hook(.mlpPost(layer: L), pre.applying(activation), title: "MLP activation (layer \(L))",
                          formula: "post = " + activation.formula.replacingOccurrences(of: "(x)", with: "(pre)"),
                          explanation: activation == .relu ? "ReLU: negative neurons are switched off, positive ones pass through."
                                                           : "The nonlinearity, neuron by neuron.",
                          axes: [pos, dMLP], inputs: [.mlpPre(layer: L)])
        }
        return r.hook(.mlpOut(layer: L), wo(post), title: "MLP output (layer \(L))", formula: "mlp_out = post · W_wo",
                      explanation: "The neurons projected back down to d_model (wo, no bias): what the MLP adds to the residual stream.",
                      axes: [pos, TraceRecorder.dModel], inputs: [.mlpPost(layer: L)])
    }
}

extension HookName {
    /// `ln2`, `ln3`: the short name of a norm output step, for formulas.
    var normSiteName: String {
        switch self {
        case .normOut(.ln1): return "ln1"
        case .normOut(.ln2): return "ln2"
        case .normOut(.ln3): return "ln3"
        default: return "x"
        }
    }
}
