import Foundation

/// One BART decoder layer, post-LN: causal self-attention, then cross-attention to the encoder's
/// output, then the MLP, each added to the stream and layer-normalised.
///
/// Mirrors `BartDecoderLayer` in transformers' `modeling_bart.py`: `self_attn_layer_norm` is ln1,
/// `encoder_attn_layer_norm` ln2 and `final_layer_norm` ln3 (TransformerLens's decoder-block names:
/// ln1 self-attention, ln2 cross-attention, ln3 MLP).
struct BARTDecoderLayer: Sendable {
    let layer: Int
    let selfAttention: BARTAttention
    let ln1: Norm
    let crossAttention: BARTAttention
    let ln2: Norm
    let mlp: BARTMLP
    let ln3: Norm

    init(layer: Int, config: BARTConfig, load: (String, [Int]) throws -> Tensor) throws {
        let d = config.dModel, eps = config.layerNormEps
        func norm(_ name: String) throws -> Norm {
            .layerNorm(weight: try load(name + ".weight", [d]), bias: try load(name + ".bias", [d]), eps: eps)
        }
        self.layer = layer
        selfAttention = try BARTAttention(heads: config.decoderHeads, dModel: d, load: { try load("self_attn." + $0, $1) })
        ln1 = try norm("self_attn_layer_norm")
        crossAttention = try BARTAttention(heads: config.decoderHeads, dModel: d, load: { try load("encoder_attn." + $0, $1) })
        ln2 = try norm("encoder_attn_layer_norm")
        mlp = try BARTMLP(dModel: d, dMLP: config.decoderFFN, activation: config.activation, load: load)
        ln3 = try norm("final_layer_norm")
    }

    var parameterCount: Int {
        selfAttention.parameterCount + crossAttention.parameterCount + mlp.parameterCount
            + [ln1, ln2, ln3].reduce(0) { $0 + $1.weight.count + $1.bias!.count }
    }

    /// Runs the layer on `x` `[target_pos, d]`; the recorder is in the decoder stack.
    ///
    /// - Parameters:
    ///   - cross: the cross-attention keys and values `[source_pos, heads, d_head]` of this layer, made
    ///     from the encoder's output (``encoderOutput``) and the source labels for the key axis.
    ///   - start: absolute position of the first new target token (the cached length).
    func callAsFunction(_ x: Tensor, residInput: HookName, start: Int, cache: KVCache?,
                        cross: (k: Tensor, v: Tensor), encoderOutput: HookName, sourceLabels: [String],
                        options: ForwardOptions, recorder rec: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = rec.pos, dModel = TraceRecorder.dModel
        let x = rec.hook(.residPre(layer: L), x, title: "Residual stream in (layer \(L))",
                         formula: L == 0 ? "resid_pre = the embeddings" : "resid_pre = decoder.\(L - 1).resid_post",
                         explanation: "The vector for each target position as it enters decoder layer \(L).",
                         axes: [pos, dModel], inputs: [residInput])

        // MARK: Self-attention (causal, cached)
        let causal = options.causal ?? true
        let selfOut = selfAttention(
            x, layer: L, input: .residPre(layer: L), kv: nil, kvInput: .residPre(layer: L), kvAxis: pos, causal: causal, start: start,
            maskExplanation: causal ? "The causal mask: a target position may not look at later ones, so those scores become −∞ (zero after softmax)."
                : "The causal mask is switched off: every target position may look at every other.",
            outExplanation: "The heads' outputs added together: what self-attention adds to the stream (before the layer norm).",
            cache: cache, recorder: &rec)
        let ln1Out = ln1(x + selfOut, at: .ln1(layer: L), inputs: [.residPre(layer: L), .attnOut(layer: L)],
                         label: "after self-attention, layer \(L)", hookOut: false, recorder: &rec)
        let mid = rec.hook(.residMid(layer: L), ln1Out, title: "Residual stream after self-attention (layer \(L))",
                           formula: "resid_mid = LN1(resid_pre + attn_out) = normalized · w + b",
                           explanation: "Post-LN: self-attention's output is added to the stream and the sum layer-normalised.",
                           axes: [pos, dModel], inputs: [.normNormalized(.ln1(layer: L))])

        // MARK: Cross-attention (queries from the target, keys and values from the source)
        let crossOut = rec.crossAttention(sourceLabels: sourceLabels) { rec in
            crossAttention(
                mid, layer: L, input: .residMid(layer: L), kv: (cross.k, cross.v), kvInput: encoderOutput,
                kvAxis: Axis("pos", labels: sourceLabels), causal: false, start: 0,
                maskExplanation: "Cross-attention has no causal mask: every target position may look at every source token.",
                outExplanation: "The heads' outputs added together: what the decoder reads from the source at each target position.",
                recorder: &rec)
        }
        let ln2Out = ln2(mid + crossOut, at: .ln2(layer: L), inputs: [.residMid(layer: L), .crossAttnOut(layer: L)],
                         label: "after cross-attention, layer \(L)", hookOut: false, recorder: &rec)
        let midCross = rec.hook(.residMidCross(layer: L), ln2Out, title: "Residual stream after cross-attention (layer \(L))",
                                formula: "resid_mid_cross = LN2(resid_mid + cross_attn_out) = normalized · w + b",
                                explanation: "Post-LN: what was read from the source is added to the stream and the sum layer-normalised.",
                                axes: [pos, dModel], inputs: [.normNormalized(.ln2(layer: L))])

        // MARK: MLP
        let mlpOut = mlp(midCross, layer: L, input: .residMidCross(layer: L), recorder: &rec)
        let ln3Out = ln3(midCross + mlpOut, at: .ln3(layer: L), inputs: [.residMidCross(layer: L), .mlpOut(layer: L)],
                         label: "after the MLP, layer \(L)", hookOut: false, recorder: &rec)
        return rec.hook(.residPost(layer: L), ln3Out, title: "Residual stream out (layer \(L))",
                        formula: "resid_post = LN3(resid_mid_cross + mlp_out) = normalized · w + b",
                        explanation: "Post-LN: the MLP's output is added to the stream and the sum layer-normalised: the layer's result.",
                        axes: [pos, dModel], inputs: [.normNormalized(.ln3(layer: L))])
    }
}
