import Foundation

/// One BERT encoder layer, post-LN: `mid = LN1(x + attn(x))`, then `out = LN2(mid + mlp(mid))`.
///
/// Mirrors `BertLayer` in transformers' `modeling_bert.py` (`BertSelfAttention`, `BertSelfOutput`,
/// `BertIntermediate`, `BertOutput`). Attention is bidirectional unless a causal mask is asked for.
struct BERTBlock: Sendable {
    let layer: Int
    let heads: Int
    let dHead: Int
    let activation: Activation
    let wQ: Tensor, bQ: Tensor  // [d, d], [d]
    let wK: Tensor, bK: Tensor
    let wV: Tensor, bV: Tensor
    let wO: Tensor, bO: Tensor  // attention.output.dense
    let wOHeads: OutputSlices  // per head [d, dHead]
    let ln1: Norm  // attention.output.LayerNorm
    let wIn: Tensor, bIn: Tensor  // intermediate.dense [dMLP, d]
    let wOut: Tensor, bOut: Tensor  // output.dense [d, dMLP]
    let ln2: Norm  // output.LayerNorm

    init(layer: Int, config: BERTConfig, load: (String, [Int]) throws -> Tensor) throws {
        let d = config.hiddenSize, m = config.intermediateSize, eps = config.layerNormEps
        self.layer = layer
        heads = config.numAttentionHeads
        dHead = config.dHead
        activation = Activation(huggingFaceName: config.hiddenAct)!
        wQ = try load("attention.self.query.weight", [d, d]); bQ = try load("attention.self.query.bias", [d])
        wK = try load("attention.self.key.weight", [d, d]); bK = try load("attention.self.key.bias", [d])
        wV = try load("attention.self.value.weight", [d, d]); bV = try load("attention.self.value.bias", [d])
        wO = try load("attention.output.dense.weight", [d, d]); bO = try load("attention.output.dense.bias", [d])
        wOHeads = OutputSlices(wO, heads: heads)
        ln1 = .layerNorm(weight: try load("attention.output.LayerNorm.weight", [d]),
                            bias: try load("attention.output.LayerNorm.bias", [d]), eps: eps)
        wIn = try load("intermediate.dense.weight", [m, d]); bIn = try load("intermediate.dense.bias", [m])
        wOut = try load("output.dense.weight", [d, m]); bOut = try load("output.dense.bias", [d])
        ln2 = .layerNorm(weight: try load("output.LayerNorm.weight", [d]),
                            bias: try load("output.LayerNorm.bias", [d]), eps: eps)
    }

    /// Number of parameters in the layer.
    var parameterCount: Int {
        [wQ, bQ, wK, bK, wV, bV, wO, bO, ln1.weight, ln1.bias!, wIn, bIn, wOut, bOut, ln2.weight, ln2.bias!].reduce(0) { $0 + $1.count }
    }

    /// Runs the layer on `x` `[pos, d]` through its hook points.
    func callAsFunction(_ x: Tensor, options: ForwardOptions, recorder rec: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = rec.pos
        let (t, d) = (x.shape[0], x.shape[1])
        let dModel = TraceRecorder.dModel, head = TraceRecorder.head, dHeadAxis = TraceRecorder.dHead
        let x = rec.hook(.residPre(layer: L), x, title: "Residual stream in (layer \(L))",
                         formula: L == 0 ? "resid_pre = embed.ln(embed + pos_embed + token_type_embed)" : "resid_pre = blocks.\(L - 1).resid_post",
                         explanation: "The vector for each position as it enters layer \(L): everything the encoder knows so far.",
                         axes: [pos, dModel], inputs: L == 0 ? [.normOut(.embed)] : [.residPost(layer: L - 1)])

        // MARK: Attention
        func split(_ y: Tensor) -> Tensor { y.reshaped([t, heads, dHead]) }
        func qkvExplain(_ m: String) -> String {
            "row of the residual stream times W_\(m) plus b_\(m), split into \(heads) heads of \(dHead) numbers (post-LN: no norm before attention)"
        }
        let inputs: [HookName] = [.residPre(layer: L)]
        let q = rec.hook(.q(layer: L), split(x.linear(wQ, bias: bQ)), title: "Queries (layer \(L))", formula: "q = x · W_Q + b_Q",
                         explanation: "What each position is looking for: each " + qkvExplain("Q") + ".",
                         axes: [pos, head, dHeadAxis], inputs: inputs)
        let k = rec.hook(.k(layer: L), split(x.linear(wK, bias: bK)), title: "Keys (layer \(L))", formula: "k = x · W_K + b_K",
                         explanation: "What each position offers to be found by: each " + qkvExplain("K") + ".",
                         axes: [pos, head, dHeadAxis], inputs: inputs)
        let v = rec.hook(.v(layer: L), split(x.linear(wV, bias: bV)), title: "Values (layer \(L))", formula: "v = x · W_V + b_V",
                         explanation: "What each position passes on when attended to: each " + qkvExplain("V") + ".",
                         axes: [pos, head, dHeadAxis], inputs: inputs)

        let causal = options.causal ?? false
        let attnOut = rec.recordAttention(
            layer: L, q: q, k: k, v: v, scale: 1 / Float(dHead).squareRoot(), start: 0, causal: causal,
            maskExplanation: causal ? "A causal mask switched on for teaching: BERT was trained to look both ways, so its outputs now drift from what it learned."
                : "An encoder has no causal mask: every position looks at every other, before and after it (same values as the unmasked scores).",
            outputSlices: wOHeads, bO: bO, project: { $0.linear(wO, bias: bO) },
            attnOutExplanation: "The heads' outputs added together: what attention adds to the stream (before the layer norm).")

        let ln1Out = ln1(x + attnOut, at: .ln1(layer: L), inputs: [.residPre(layer: L), .attnOut(layer: L)],
                         label: "after attention, layer \(L)", hookOut: false, recorder: &rec)
        let mid = rec.hook(.residMid(layer: L), ln1Out,
                           title: "Residual stream after attention (layer \(L))",
                           formula: "resid_mid = LN1(resid_pre + attn_out) = normalized · w + b",
                           explanation: "Post-LN: attention's output is added to the stream, and the sum is layer-normalised before the MLP reads it.",
                           axes: [pos, dModel], inputs: [.normNormalized(.ln1(layer: L))])

        // MARK: MLP
        let dMLPAxis = TraceRecorder.dMLP
        let pre = rec.hook(.mlpPre(layer: L), mid.linear(wIn, bias: bIn), title: "MLP pre-activation (layer \(L))",
                           formula: "pre = resid_mid · W_in + b_in",
                           explanation: "Each position is projected up to \(wIn.shape[0]) hidden neurons, independently of the others.",
                           axes: [pos, dMLPAxis], inputs: [.residMid(layer: L)])
        let post = rec.hook(.mlpPost(layer: L), pre.applying(activation), title: "MLP activation (layer \(L))",
                            formula: "post = " + activation.formula.replacingOccurrences(of: "(x)", with: "(pre)"),
                            explanation: "The nonlinearity: neurons with negative input are mostly switched off, positive ones pass through.",
                            axes: [pos, dMLPAxis], inputs: [.mlpPre(layer: L)])
        let mlpOut = rec.hook(.mlpOut(layer: L), post.linear(wOut, bias: bOut), title: "MLP output (layer \(L))",
                              formula: "mlp_out = post · W_out + b_out",
                              explanation: "The neurons' activations projected back down to \(d) dimensions: what the MLP adds to the stream.",
                              axes: [pos, dModel], inputs: [.mlpPost(layer: L)])
        let ln2Out = ln2(mid + mlpOut, at: .ln2(layer: L), inputs: [.residMid(layer: L), .mlpOut(layer: L)],
                         label: "after the MLP, layer \(L)", hookOut: false, recorder: &rec)
        return rec.hook(.residPost(layer: L), ln2Out,
                        title: "Residual stream out (layer \(L))",
                        formula: "resid_post = LN2(resid_mid + mlp_out) = normalized · w + b",
                        explanation: "Post-LN: the MLP's output is added to the stream and the sum layer-normalised: the layer's result.",
                        axes: [pos, dModel], inputs: [.normNormalized(.ln2(layer: L))])
    }
}
