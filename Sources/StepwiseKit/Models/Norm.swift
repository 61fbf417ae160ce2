/// A norm layer of any family: LayerNorm (GPT-2, BERT) or RMSNorm (Llama), with its learned weight
/// (and bias), run through its three hook points `hook_scale`, `hook_normalized` and `hook_out`.
///
/// Mirrors `torch.nn.LayerNorm` and transformers' `LlamaRMSNorm` (TransformerLens's `LayerNormPre` +
/// weight for the steps): the scale `[pos, 1]` is what each row is divided by, so a patch at the scale
/// changes the normalized vector and everything after it.
struct Norm: Sendable {
    enum Kind: Sendable {
        /// `(x − mean) / √(var + ε) · w + b`.
        case layerNorm
        /// `x / √(mean(x²) + ε) · w`.
        case rms
    }

    let kind: Kind
    /// `[d_model]`.
    let weight: Tensor
    /// `[d_model]`, LayerNorm only.
    let bias: Tensor?
    let eps: Float
    /// How `out`'s formula writes the weight: `w`, or `(1 + w)` for Gemma, whose checkpoints store the
    /// weight minus one (``gemma(weight:eps:storesOnePlus:)`` adds the one at load).
    var weightText = "w"

    static func layerNorm(weight: Tensor, bias: Tensor, eps: Float) -> Norm {
        Norm(kind: .layerNorm, weight: weight, bias: bias, eps: eps)
    }

    static func rms(weight: Tensor, eps: Float) -> Norm {
        Norm(kind: .rms, weight: weight, bias: nil, eps: eps)
    }

    /// Gemma's RMSNorm, `x / √(mean(x²) + ε) · (1 + w)`: Hugging Face weights hold `w` (the one is added
    /// here, in float32, as transformers does), GGUF weights hold `1 + w` already (llama.cpp's converter added it).
    static func gemma(weight: Tensor, eps: Float, storesOnePlus: Bool) -> Norm {
        var n = Norm(kind: .rms, weight: storesOnePlus ? weight : weight.map { 1 + $0 }, bias: nil, eps: eps)
        n.weightText = "(1 + w)"
        return n
    }

    /// Normalizes `x` `[pos, d_model]` through the hook points of `site`.
    ///
    /// - Parameters:
    ///   - inputs: the steps `x` comes from (the scale's inputs).
    ///   - label: added to the titles in parentheses, e.g. `layer 3`.
    ///   - hookOut: false when the caller hooks the output under its own name (BERT's `hook_resid_mid`).
    ///   - axes: the axes of `x` when it is not `[pos, d_model]` (q/k norms: `[pos, head, d_head]`); the
    ///     last axis is the one normalized.
    /// - Returns: `x`'s shape, after the weight and bias.
    func callAsFunction(_ x: Tensor, at site: HookName.NormSite, inputs: [HookName], label: @autoclosure () -> String? = nil,
                        hookOut: Bool = true, axes: [Axis]? = nil, recorder rec: inout TraceRecorder) -> Tensor {
        // The steps' words and axes are made only when a step is recorded.
        func at() -> String { label().map { " (\($0)" + ")" } ?? "" }
        let rms = kind == .rms
        let pos = axes == nil ? rec.pos : nil
        func valueAxes() -> [Axis] { axes ?? [pos!, TraceRecorder.dModel] }
        func scaleAxes() -> [Axis] { Array(valueAxes().dropLast()) + [TraceRecorder.one] }
        // The q/k norms normalize every head's vector on its own.
        let perHead: String?
        switch site {
        case .qNorm: perHead = "query"
        case .kNorm: perHead = "key"
        default: perHead = nil
        }
        var scale: Tensor, centered: Tensor
        if rms {
            (scale, centered) = (Self.rootMeanSquare(x, eps: eps), x)
        } else {
            (scale, centered) = x.layerNormParts(eps: eps)
        }
        scale = rec.hook(.normScale(site), scale,
                         title: (rms ? "RMSNorm scale" : "Norm scale") + at(),
                         formula: rms ? "scale = √(mean(x²) + \(eps))" : "scale = √(var(x) + ε)",
                         explanation: perHead.map { "The root-mean-square size of each head's \($0) vector at each position; it is divided out before RoPE." }
                             ?? (rms ? "The root-mean-square size of each position's vector; it is divided out."
                             : "How spread out each position's vector is (its standard deviation): the number it is divided by."),
                         axes: scaleAxes(), inputs: inputs)
        let normalized = rec.hook(.normNormalized(site), centered.dividedByRowScale(scale),
                                  title: (rms ? "RMS-normalised" : "Normalized") + at(),
                                  formula: rms ? "normalized = x / scale" : "(x − mean(x)) / scale",
                                  explanation: perHead.map { "Each head's \($0) vector rescaled to RMS 1, so its length no longer depends on the input's." }
                                      ?? (rms ? "Each position's vector rescaled to RMS 1 (no mean is subtracted, unlike LayerNorm)."
                                      : "Each vector centred on zero and divided by its spread, so every position has mean 0 and variance 1."),
                                  axes: valueAxes(), inputs: (rms ? inputs : []) + [.normScale(site)],
                                  recipe: { StepRecipe(shape: x.shape, inputs: [x, scale]) { t, _ in self.normalized(t[0], scale: t[1]) } })
        let out = normalized.affine(weight: weight, bias: bias)
        // The output is a recipe too, unless a patch changed the normalized vector it is computed from.
        let outRecipe: (() -> StepRecipe)? = rec.isPatched(.normNormalized(site)) ? nil : {
            StepRecipe(shape: x.shape, inputs: [x, scale]) { t, _ in
                self.normalized(t[0], scale: t[1]).affine(weight: self.weight, bias: self.bias)
            }
        }
        guard hookOut else { return out }
        let what: String
        switch site {
        case .final: what = "the final layer norm"
        case .embed: what = "the embedding layer norm"
        case .ln1: what = "layer norm ln1"
        case .ln2: what = "layer norm ln2"
        case .ln3: what = "layer norm ln3"
        case .ln1Post: what = "the norm after attention"
        case .ln2Post: what = "the norm after the MLP"
        case .qNorm: what = "the query norm"
        case .kNorm: what = "the key norm"
        }
        return rec.hook(.normOut(site), out, title: (rms ? "RMSNorm output" : "Norm output") + at(),
                        formula: rms ? "out = normalized ⊙ \(weightText)" : "normalized · w + b",
                        explanation: perHead.map { "Each dimension of every head's \($0) multiplied by its learned weight (one weight per d_head dimension, shared by the heads); RoPE rotates this." }
                            ?? (rms ? "Each dimension multiplied by its learned weight."
                            : "The learned per-dimension gain and bias of \(what), applied to the normalized vector."),
                        axes: valueAxes(), inputs: [.normNormalized(site)], recipe: outRecipe)
    }

    /// `x`'s normalized vector for this (possibly patched) scale, as ``callAsFunction(_:at:inputs:label:hookOut:axes:recorder:)``
    /// computes it: the recipe of `hook_normalized` and `hook_out`, which keep `x` and the scale instead.
    func normalized(_ x: Tensor, scale: Tensor) -> Tensor {
        (kind == .rms ? x : x.layerNormParts(eps: eps).centered).dividedByRowScale(scale)
    }

    /// The norm without hooks (the logit lens reads the residual stream through it).
    func callAsFunction(_ x: Tensor) -> Tensor {
        let normalized = kind == .rms ? x.dividedByRowScale(Self.rootMeanSquare(x, eps: eps))
            : { let (s, c) = x.layerNormParts(eps: eps); return c.dividedByRowScale(s) }()
        return normalized.affine(weight: weight, bias: bias)
    }

    /// `√(mean(x²) + ε)` of each row of the last axis, `[..., 1]` (as ``Tensor/rmsNorm(weight:eps:)`` computes it).
    static func rootMeanSquare(_ x: Tensor, eps: Float) -> Tensor {
        let n = x.dim(-1)
        let rows = x.count / Swift.max(n, 1)
        var scale = [Float](repeating: 0, count: rows)
        x.data.withUnsafeBufferPointer { p in
            let raw = UnsafeRawBufferPointer(p)
            for r in 0..<rows {
                // Σx² in sixteen lanes (two independent sums), then the lanes and the tail.
                var a = SIMD16<Float>(repeating: 0), b = a
                var j = 0
                let base = r * n
                while j + 32 <= n {
                    let u = raw.loadUnaligned(fromByteOffset: 4 * (base + j), as: SIMD16<Float>.self)
                    let v = raw.loadUnaligned(fromByteOffset: 4 * (base + j + 16), as: SIMD16<Float>.self)
                    a += u * u
                    b += v * v
                    j += 32
                }
                var ss = (a + b).sum()
                while j < n { ss += p[base + j] * p[base + j]; j += 1 }
                scale[r] = (ss / Float(n) + eps).squareRoot()
            }
        }
        return Tensor(shape: Array(x.shape.dropLast()) + [1], data: scale)
    }
}
