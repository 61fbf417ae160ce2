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
    let wOHeads: [PackedMatrix]  // per head [d, dHead]
    let ln1: BERTLayerNorm  // attention.output.LayerNorm
    let wIn: Tensor, bIn: Tensor  // intermediate.dense [dMLP, d]
    let wOut: Tensor, bOut: Tensor  // output.dense [d, dMLP]
    let ln2: BERTLayerNorm  // output.LayerNorm

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
        wOHeads = AttentionMath.outputSlices(wO, heads: heads)
        ln1 = BERTLayerNorm(weight: try load("attention.output.LayerNorm.weight", [d]),
                            bias: try load("attention.output.LayerNorm.bias", [d]), eps: eps)
        wIn = try load("intermediate.dense.weight", [m, d]); bIn = try load("intermediate.dense.bias", [m])
        wOut = try load("output.dense.weight", [d, m]); bOut = try load("output.dense.bias", [d])
        ln2 = BERTLayerNorm(weight: try load("output.LayerNorm.weight", [d]),
                            bias: try load("output.LayerNorm.bias", [d]), eps: eps)
    }

    /// Number of parameters in the layer.
    var parameterCount: Int {
        [wQ, bQ, wK, bK, wV, bV, wO, bO, ln1.weight, ln1.bias, wIn, bIn, wOut, bOut, ln2.weight, ln2.bias].reduce(0) { $0 + $1.count }
    }

    /// Runs the layer on `x` `[pos, d]`, recording its steps.
    func callAsFunction(_ x: Tensor, options: ForwardOptions, recorder rec: inout TraceRecorder) -> Tensor {
        let L = layer
        let p = "blocks.\(L)"
        let (t, d) = (x.shape[0], x.shape[1])
        let dModel = TraceRecorder.dModel, head = TraceRecorder.head, dHeadAxis = TraceRecorder.dHead
        rec.record("\(p).hook_resid_pre", "Residual stream in (layer \(L))",
                   formula: L == 0 ? "resid_pre = embed.ln(embed + pos_embed + token_type_embed)" : "resid_pre = blocks.\(L - 1).resid_post",
                   explanation: "The vector for each position as it enters layer \(L): everything the encoder knows so far.",
                   axes: [rec.pos, dModel], inputs: L == 0 ? ["embed.ln.hook_out"] : ["blocks.\(L - 1).hook_resid_post"],
                   layer: L, tensor: x)

        // MARK: Attention
        func split(_ y: Tensor) -> Tensor { y.reshaped([t, heads, dHead]) }
        let q = split(x.linear(wQ, bias: bQ))
        let k = split(x.linear(wK, bias: bK))
        let v = split(x.linear(wV, bias: bV))
        func qkvExplain(_ m: String) -> String {
            "row of the residual stream times W_\(m) plus b_\(m), split into \(heads) heads of \(dHead) numbers (post-LN: no norm before attention)"
        }
        let inputs = ["\(p).hook_resid_pre"]
        rec.record("\(p).attn.hook_q", "Queries (layer \(L))", formula: "q = x · W_Q + b_Q",
                   explanation: "What each position is looking for: each " + qkvExplain("Q") + ".",
                   axes: [rec.pos, head, dHeadAxis], inputs: inputs, layer: L, tensor: q)
        rec.record("\(p).attn.hook_k", "Keys (layer \(L))", formula: "k = x · W_K + b_K",
                   explanation: "What each position offers to be found by: each " + qkvExplain("K") + ".",
                   axes: [rec.pos, head, dHeadAxis], inputs: inputs, layer: L, tensor: k)
        rec.record("\(p).attn.hook_v", "Values (layer \(L))", formula: "v = x · W_V + b_V",
                   explanation: "What each position passes on when attended to: each " + qkvExplain("V") + ".",
                   axes: [rec.pos, head, dHeadAxis], inputs: inputs, layer: L, tensor: v)

        let causal = options.causal ?? false
        let attnOut = rec.recordAttention(
            p, layer: L, q: q, k: k, v: v, scale: 1 / Float(dHead).squareRoot(), start: 0, causal: causal,
            maskExplanation: causal ? "A causal mask switched on for teaching: BERT was trained to look both ways, so its outputs now drift from what it learned."
                : "An encoder has no causal mask: every position looks at every other, before and after it (same values as the unmasked scores).",
            interventions: options.interventions, outputSlices: wOHeads, bO: bO, project: { $0.linear(wO, bias: bO) },
            attnOutExplanation: "The heads' outputs added together: what attention adds to the stream (before the layer norm).")

        let mid = ln1(x + attnOut, prefix: "\(p).ln1", inputs: ["\(p).hook_resid_pre", "\(p).hook_attn_out"], what: "after attention, layer \(L)",
                      layer: L, recorder: &rec)
        rec.record("\(p).hook_resid_mid", "Residual stream after attention (layer \(L))",
                   formula: "resid_mid = LN1(resid_pre + attn_out) = normalized · w + b",
                   explanation: "Post-LN: attention's output is added to the stream, and the sum is layer-normalised before the MLP reads it.",
                   axes: [rec.pos, dModel], inputs: ["\(p).ln1.hook_normalized"], layer: L, tensor: mid)

        // MARK: MLP
        let pre = mid.linear(wIn, bias: bIn)
        let dMLPAxis = TraceRecorder.dMLP
        rec.record("\(p).mlp.hook_pre", "MLP pre-activation (layer \(L))", formula: "pre = resid_mid · W_in + b_in",
                   explanation: "Each position is projected up to \(pre.shape[1]) hidden neurons, independently of the others.",
                   axes: [rec.pos, dMLPAxis], inputs: ["\(p).hook_resid_mid"], layer: L, tensor: pre)
        let post = pre.applying(activation)
        rec.record("\(p).mlp.hook_post", "MLP activation (layer \(L))",
                   formula: "post = " + activation.formula.replacingOccurrences(of: "(x)", with: "(pre)"),
                   explanation: "The nonlinearity: neurons with negative input are mostly switched off, positive ones pass through.",
                   axes: [rec.pos, dMLPAxis], inputs: ["\(p).mlp.hook_pre"], layer: L, tensor: post)
        let mlpOut = post.linear(wOut, bias: bOut)
        rec.record("\(p).hook_mlp_out", "MLP output (layer \(L))", formula: "mlp_out = post · W_out + b_out",
                   explanation: "The neurons' activations projected back down to \(d) dimensions: what the MLP adds to the stream.",
                   axes: [rec.pos, dModel], inputs: ["\(p).mlp.hook_post"], layer: L, tensor: mlpOut)
        let out = ln2(mid + mlpOut, prefix: "\(p).ln2", inputs: ["\(p).hook_resid_mid", "\(p).hook_mlp_out"], what: "after the MLP, layer \(L)",
                      layer: L, recorder: &rec)
        rec.record("\(p).hook_resid_post", "Residual stream out (layer \(L))",
                   formula: "resid_post = LN2(resid_mid + mlp_out) = normalized · w + b",
                   explanation: "Post-LN: the MLP's output is added to the stream and the sum layer-normalised: the layer's result.",
                   axes: [rec.pos, dModel], inputs: ["\(p).ln2.hook_normalized"], layer: L, tensor: out)
        return out
    }
}
