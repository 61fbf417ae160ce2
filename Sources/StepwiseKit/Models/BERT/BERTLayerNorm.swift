/// One of BERT's LayerNorms (after the embeddings, and after each residual add: post-LN).
struct BERTLayerNorm: Sendable {
    let weight: Tensor  // [d]
    let bias: Tensor  // [d]
    let eps: Float

    /// Normalises `x` `[pos, d]` and records `prefix.hook_scale` `[pos, 1]` and `prefix.hook_normalized`
    /// `[pos, d]` (before the learned weight and bias); the caller records the output under its own name.
    func callAsFunction(_ x: Tensor, prefix: String, inputs: [String], what: String, layer: Int?,
                        recorder rec: inout TraceRecorder) -> Tensor {
        let (scale, centered) = x.layerNormParts(eps: eps)
        let normalized = centered.dividedByRowScale(scale)
        rec.record("\(prefix).hook_scale", "Norm scale (\(what))", formula: "scale = √(var(x) + ε)",
                   explanation: "How spread out each position's vector is (its standard deviation): the number it is divided by.",
                   axes: [rec.pos, TraceRecorder.one], inputs: inputs, layer: layer, tensor: scale)
        rec.record("\(prefix).hook_normalized", "Normalized (\(what))", formula: "(x − mean(x)) / scale",
                   explanation: "Each vector centred on zero and divided by its spread, so every position has mean 0 and variance 1.",
                   axes: [rec.pos, TraceRecorder.dModel], inputs: ["\(prefix).hook_scale"], layer: layer, tensor: normalized)
        return normalized.affine(weight: weight, bias: bias)
    }
}
