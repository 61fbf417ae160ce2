import Foundation

/// A decoder whose final residual stream can be split into what each component wrote, for direct
/// logit attribution.
public protocol LogitAttributing: Unembedding {
    /// The final norm's weight `[d_model]`, bias (LayerNorm) and whether it centres (LayerNorm) or not (RMSNorm).
    var finalNormParameters: (weight: Tensor, bias: Tensor?, centers: Bool) { get }
    /// Attention output bias `b_O` `[d_model]` of a layer, nil when the family has none.
    func attentionOutputBias(layer: Int) -> Tensor?
}

/// Direct logit attribution: how much each component's output at the last position adds to one token's
/// logit (or to the difference of two), through the final norm with this run's scale held fixed.
///
/// Terms follow TransformerLens's `get_full_resid_decomposition` (neurons not expanded), labelled as it
/// labels them: `L{l}H{h}` for each head's result, `{l}_mlp_out` for each MLP, `embed`, `pos_embed` (when
/// the model has one) and `bias` (the attention output biases, plus the final norm's bias). Each term is
/// `(centre(c) / scale) ⊙ w · (W_U[A] − W_U[B])`, centring only under LayerNorm; the terms add up to the
/// logit (difference) because the residual stream is their sum and the norm is linear once its scale is fixed.
public enum Attribution {
    /// One component's share.
    public struct Term: Sendable, Equatable {
        public var label: String
        public var value: Float
    }

    /// The decomposition of one logit (difference).
    public struct Result: Sendable {
        /// In TransformerLens's order: heads, MLPs, embed, pos_embed, bias.
        public var terms: [Term]
        /// The model's own logit(A) − logit(B) at the last position.
        public var logit: Float
        /// The sum of the terms (in double precision).
        public var sum: Float
    }

    /// Decomposes `logit(a) − logit(b)` (or `logit(a)`) at the last position of `trace`.
    ///
    /// - Parameters:
    ///   - trace: a recorded full pass (it needs `hook_embed`, every `attn.hook_result` and
    ///     `hook_mlp_out`, `ln_final.hook_scale` and `logits`).
    ///   - a, b: token ids; `b` nil attributes `a`'s logit alone.
    /// - Throws: ``StepwiseError`` if a step is missing.
    public static func decompose(_ trace: Trace, model: any LogitAttributing, a: Int, b: Int?) throws -> Result {
        func recorded(_ h: HookName) throws -> Step {
            guard let s = trace[h.name] else {
                throw StepwiseError(.model, "the trace has no \(h.name): run 'prompt' again to record every step")
            }
            return s
        }
        func step(_ h: HookName) throws -> Tensor { try recorded(h).tensor }
        let info = model.info
        let d = info.dModel
        // The last position's row only (the others may be a recipe).
        let last = try recorded(.logits).shape[0] - 1
        let logits = trace.logitsRow(last)!
        let (w, bias, centers) = model.finalNormParameters
        let scale = Double(try step(.normScale(.final)).data[last])
        let wU = model.unembeddingRows([a] + (b.map { [$0] } ?? []))
        var u = [Double](repeating: 0, count: d)
        for j in 0..<d { u[j] = Double(wU.data[j]) - (b == nil ? 0 : Double(wU.data[d + j])) }
        // (centre(c) / scale) ⊙ w · u for a `[d_model]` vector at `offset` in `data`.
        func term(_ data: [Float], _ offset: Int) -> Double {
            var mean = 0.0
            if centers {
                for j in 0..<d { mean += Double(data[offset + j]) }
                mean /= Double(d)
            }
            var s = 0.0
            for j in 0..<d { s += (Double(data[offset + j]) - mean) / scale * Double(w.data[j]) * u[j] }
            return s
        }
        var terms: [(String, Double)] = []
        for l in 0..<info.layers {
            let r = try step(.result(layer: l))  // [pos, head, d_model]
            let heads = r.shape[1]
            for h in 0..<heads { terms.append(("L\(l)H\(h)", term(r.data, (last * heads + h) * d))) }
        }
        for l in 0..<info.layers {
            terms.append(("\(l)_mlp_out", term(try step(.mlpOut(layer: l)).data, last * d)))
        }
        terms.append(("embed", term(try step(.embed).data, last * d)))
        if let pos = trace[HookName.posEmbed.name] { terms.append(("pos_embed", term(pos.tensor.data, last * d))) }
        var biasSum = [Float](repeating: 0, count: d)
        for l in 0..<info.layers {
            if let bO = model.attentionOutputBias(layer: l) { for j in 0..<d { biasSum[j] += bO.data[j] } }
        }
        var biasTerm = term(biasSum, 0)
        if let bias { for j in 0..<d { biasTerm += Double(bias.data[j]) * u[j] } }
        terms.append(("bias", biasTerm))
        let logit = logits.data[a] - (b.map { logits.data[$0] } ?? 0)
        let sum = terms.reduce(0) { $0 + $1.1 }
        return Result(terms: terms.map { Term(label: $0.0, value: Float($0.1)) }, logit: logit, sum: Float(sum))
    }

    /// The result as a step named `attribution`, `[component]` with the terms' labels.
    public static func step(_ r: Result, what: String) -> Step {
        Step(name: "attribution", title: "Direct logit attribution",
             formula: "term_c = (centre(c) / scale_final) ⊙ w_final · (W_U[A] − W_U[B]); Σ_c term_c = \(what)",
             explanation: "What each component's output at the last position adds to \(what), through the final norm with this run's scale held fixed.",
             tensor: Tensor(shape: [r.terms.count], data: r.terms.map(\.value)),
             axes: [Axis("component", labels: r.terms.map(\.label))],
             inputs: [HookName.logits.name, HookName.normScale(.final).name])
    }
}
