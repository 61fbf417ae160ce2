import Foundation

/// One BART encoder layer, post-LN: `mid = LN1(x + self_attn(x))`, then `out = LN2(mid + mlp(mid))`.
///
/// Mirrors `BartEncoderLayer` in transformers' `modeling_bart.py` (`self_attn_layer_norm` is ln1,
/// `final_layer_norm` ln2). Attention is bidirectional: every source token sees every other.
struct BARTEncoderLayer: Sendable {
    let layer: Int
    let attention: BARTAttention
    let ln1: Norm
    let mlp: BARTMLP
    let ln2: Norm

    init(layer: Int, config: BARTConfig, load: (String, [Int]) throws -> Tensor) throws {
        let d = config.dModel, eps = config.layerNormEps
        self.layer = layer
        attention = try BARTAttention(heads: config.encoderHeads, dModel: d, load: { try load("self_attn." + $0, $1) })
        ln1 = .layerNorm(weight: try load("self_attn_layer_norm.weight", [d]), bias: try load("self_attn_layer_norm.bias", [d]), eps: eps)
        mlp = try BARTMLP(dModel: d, dMLP: config.encoderFFN, activation: config.activation, load: load)
        ln2 = .layerNorm(weight: try load("final_layer_norm.weight", [d]), bias: try load("final_layer_norm.bias", [d]), eps: eps)
    }

    var parameterCount: Int {
        attention.parameterCount + mlp.parameterCount + [ln1, ln2].reduce(0) { $0 + $1.weight.count + $1.bias!.count }
    }

    /// Runs the layer on `x` `[source_pos, d]`; the recorder is in the encoder stack.
    func callAsFunction(_ x: Tensor, residInput: HookName, recorder rec: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = rec.pos, dModel = TraceRecorder.dModel
        let x = rec.hook(.residPre(layer: L), x, title: "Residual stream in (layer \(L))",
                         formula: L == 0 ? "resid_pre = the embeddings" : "resid_pre = encoder.\(L - 1).resid_post",
                         explanation: "The vector for each source position as it enters encoder layer \(L): everything the encoder knows so far.",
                         axes: [pos, dModel], inputs: [residInput])
        let attnOut = attention(
            x, layer: L, input: .residPre(layer: L), kv: nil, kvInput: .residPre(layer: L), kvAxis: pos, causal: false, start: 0,
            maskExplanation: "An encoder has no causal mask: every source position looks at every other, before and after it (same values as the unmasked scores).",
            outExplanation: "The heads' outputs added together: what self-attention adds to the stream (before the layer norm).",
            recorder: &rec)
        let ln1Out = ln1(x + attnOut, at: .ln1(layer: L), inputs: [.residPre(layer: L), .attnOut(layer: L)],
                         label: "after attention, layer \(L)", hookOut: false, recorder: &rec)
        let mid = rec.hook(.residMid(layer: L), ln1Out, title: "Residual stream after attention (layer \(L))",
                           formula: "resid_mid = LN1(resid_pre + attn_out) = normalized · w + b",
                           explanation: "Post-LN: attention's output is added to the stream, and the sum is layer-normalised before the MLP reads it.",
                           axes: [pos, dModel], inputs: [.normNormalized(.ln1(layer: L))])
        let mlpOut = mlp(mid, layer: L, input: .residMid(layer: L), recorder: &rec)
        let ln2Out = ln2(mid + mlpOut, at: .ln2(layer: L), inputs: [.residMid(layer: L), .mlpOut(layer: L)],
                         label: "after the MLP, layer \(L)", hookOut: false, recorder: &rec)
        return rec.hook(.residPost(layer: L), ln2Out, title: "Residual stream out (layer \(L))",
                        formula: "resid_post = LN2(resid_mid + mlp_out) = normalized · w + b",
                        explanation: "Post-LN: the MLP's output is added to the stream and the sum layer-normalised: the layer's result.",
                        axes: [pos, dModel], inputs: [.normNormalized(.ln2(layer: L))])
    }
}
