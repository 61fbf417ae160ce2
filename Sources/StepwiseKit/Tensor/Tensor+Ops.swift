import CKernels
import Foundation

// MARK: - Elementwise

extension Tensor {
    /// Elementwise sum of two tensors of the same shape.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "Tensor +: shapes \(a.shape) and \(b.shape) differ")
        var out = a.data
        out.withUnsafeMutableBufferPointer { o in
            b.data.withUnsafeBufferPointer { bb in
                for i in 0..<o.count { o[i] += bb[i] }
            }
        }
        return Tensor(shape: a.shape, data: out)
    }

    /// Elementwise difference of two tensors of the same shape.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "Tensor -: shapes \(a.shape) and \(b.shape) differ")
        return Tensor(shape: a.shape, data: zip(a.data, b.data).map { $0 - $1 })
    }

    /// Elementwise product of two tensors of the same shape.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "Tensor *: shapes \(a.shape) and \(b.shape) differ")
        return Tensor(shape: a.shape, data: zip(a.data, b.data).map { $0 * $1 })
    }

    /// Every value times a scalar.
    public static func * (a: Tensor, s: Float) -> Tensor {
        Tensor(shape: a.shape, data: a.data.map { $0 * s })
    }

    /// Applies `f` to every value.
    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, data: data.map(f))
    }

    /// Adds a vector `[n]` to every row of a `[..., n]` tensor.
    public func addingRowVector(_ v: Tensor) -> Tensor {
        let n = v.count
        precondition(dim(-1) == n, "Tensor.addingRowVector: last axis \(dim(-1)) vs vector \(n)")
        var out = data
        out.withUnsafeMutableBufferPointer { o in
            v.data.withUnsafeBufferPointer { vv in
                var i = 0
                while i < o.count {
                    for j in 0..<n { o[i + j] += vv[j] }
                    i += n
                }
            }
        }
        return Tensor(shape: shape, data: out)
    }
}

// MARK: - Activations

/// The nonlinearities transformers use, each as a pure function of one value.
public enum Activation: String, Sendable, CaseIterable {
    /// Exact GELU: `x * Φ(x)` with the Gaussian CDF (BERT, `gelu`).
    case gelu
    /// GPT-2's tanh approximation of GELU (`gelu_new`, `gelu_pytorch_tanh`).
    case geluTanh
    /// SiLU / swish: `x * sigmoid(x)` (Llama's SwiGLU gate).
    case silu
    /// max(0, x).
    case relu

    /// Parses a Hugging Face `activation_function` / `hidden_act` name.
    public init?(huggingFaceName name: String) {
        switch name {
        case "gelu", "gelu_python": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_tanh": self = .geluTanh
        case "silu", "swish": self = .silu
        case "relu": self = .relu
        default: return nil
        }
    }

    /// The formula as printed in step headers.
    public var formula: String {
        switch self {
        case .gelu: return "GELU(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2))"
        case .geluTanh: return "GELU(x) ≈ 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))"
        case .silu: return "SiLU(x) = x·σ(x) = x / (1 + e^(−x))"
        case .relu: return "ReLU(x) = max(0, x)"
        }
    }

    @inline(__always)
    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .gelu:
            return Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot())))
        case .geluTanh, .silu:
            var (input, v) = (x, Float(0))
            stepwise_activation(KernelISA.selected.code, kernel!, &input, nil, &v, 1)
            return v
        case .relu:
            return Swift.max(0, x)
        }
    }
}

extension Activation {
    /// `CKernels`' code for the activations it computes (GELU-tanh and SiLU, 16 lanes at a time with its
    /// own `exp`; every kernel variant gives the same bits), nil for those computed here.
    var kernel: Int32? {
        switch self {
        case .geluTanh: Int32(STEPWISE_ACT_GELU_TANH)
        case .silu: Int32(STEPWISE_ACT_SILU)
        case .gelu, .relu: nil
        }
    }

    /// `f(x) ⊙ up` (a gated MLP's hidden activation) or `f(x)` for every value of `x`; a large tensor
    /// is split over the cores in whole chunks, so every value is what the one-thread loop gives.
    func map(_ x: Tensor, times up: Tensor?, isa: KernelISA = .selected) -> Tensor {
        let n = x.count, chunk = 8192
        let f = self, kernel = self.kernel, isa = isa.code, gated = up != nil
        let out = [Float](unsafeUninitializedCapacity: n) { buf, initialized in
            x.data.withUnsafeBufferPointer { xp in
                (up?.data ?? []).withUnsafeBufferPointer { up in
                    let (g, o) = (UnsafeSendable(xp.baseAddress), UnsafeSendable(buf.baseAddress))
                    let u = UnsafeSendable(gated ? up.baseAddress : nil)
                    Parallel.forEach((n + chunk - 1) / chunk) { c in
                        let start = c * chunk, count = Swift.min(n, start + chunk) - start
                        if let kernel {
                            stepwise_activation(isa, kernel, g.value! + start, u.value.map { $0 + start }, o.value! + start, count)
                        } else if let u = u.value {
                            for i in start..<(start + count) { o.value![i] = f(g.value![i]) * u[i] }
                        } else {
                            for i in start..<(start + count) { o.value![i] = f(g.value![i]) }
                        }
                    }
                }
            }
            initialized = n
        }
        return Tensor(shape: x.shape, data: out)
    }

    /// `f(gate) ⊙ up`, a gated MLP's hidden activation.
    public func gated(_ gate: Tensor, _ up: Tensor) -> Tensor {
        precondition(gate.shape == up.shape, "Activation.gated: gate \(gate.shape) vs up \(up.shape)")
        return map(gate, times: up)
    }
}

extension Tensor {
    /// Applies an activation to every value.
    public func applying(_ act: Activation) -> Tensor { act.map(self, times: nil) }
}

// MARK: - Normalisation

extension Tensor {
    /// LayerNorm over the last axis, split into its two halves so a trace can show both.
    ///
    /// - Returns: `scale` `[..., 1]` = √(var + eps) per row, and `normalized` `[..., n]` = (x − mean) / scale
    ///   (before the learned weight and bias, as TransformerLens's `hook_normalized`... is after them; see
    ///   ``layerNorm(weight:bias:eps:)``).
    public func layerNormParts(eps: Float) -> (scale: Tensor, centered: Tensor) {
        let n = dim(-1)
        let rows = count / Swift.max(n, 1)
        var scale = [Float](repeating: 0, count: rows)
        var centered = data
        centered.withUnsafeMutableBufferPointer { c in
            for r in 0..<rows {
                let base = r * n
                var mean: Float = 0
                for j in 0..<n { mean += c[base + j] }
                mean /= Float(n)
                var v: Float = 0
                for j in 0..<n {
                    let d = c[base + j] - mean
                    c[base + j] = d
                    v += d * d
                }
                v /= Float(n)
                scale[r] = (v + eps).squareRoot()
            }
        }
        return (Tensor(shape: Array(shape.dropLast()) + [1], data: scale), Tensor(shape: shape, data: centered))
    }

    /// LayerNorm over the last axis: `(x − mean) / √(var + eps) · weight + bias`.
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Float) -> (scale: Tensor, normalized: Tensor) {
        let (scale, centered) = layerNormParts(eps: eps)
        return (scale, centered.dividedByRowScale(scale).affine(weight: weight, bias: bias))
    }

    /// RMSNorm over the last axis: `x / √(mean(x²) + eps) · weight`.
    public func rmsNorm(weight: Tensor?, eps: Float) -> (scale: Tensor, normalized: Tensor) {
        let s = Norm.rootMeanSquare(self, eps: eps)
        return (s, dividedByRowScale(s).affine(weight: weight, bias: nil))
    }

    /// Divides each row of the last axis by the matching value of `scale` `[..., 1]`.
    public func dividedByRowScale(_ scale: Tensor) -> Tensor {
        let n = dim(-1)
        var out = data
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<scale.count {
                let inv = 1 / scale.data[r]
                for j in 0..<n { o[r * n + j] *= inv }
            }
        }
        return Tensor(shape: shape, data: out)
    }

    /// `x · weight + bias` on the last axis (either may be nil).
    public func affine(weight: Tensor?, bias: Tensor?) -> Tensor {
        let n = dim(-1)
        var out = data
        out.withUnsafeMutableBufferPointer { o in
            let rows = o.count / Swift.max(n, 1)
            (weight?.data ?? []).withUnsafeBufferPointer { w in
                (bias?.data ?? []).withUnsafeBufferPointer { b in
                    for r in 0..<rows {
                        let row = o.baseAddress! + r * n
                        if weight != nil { for j in 0..<n { row[j] *= w[j] } }
                        if bias != nil { for j in 0..<n { row[j] += b[j] } }
                    }
                }
            }
        }
        return Tensor(shape: shape, data: out)
    }
}

// MARK: - Softmax

extension Tensor {
    /// Softmax over the last axis, numerically stable (the row maximum is subtracted first).
    /// `-infinity` entries (masked) become exactly 0; a row that is all `-infinity` becomes all 0.
    public func softmax() -> Tensor {
        let n = dim(-1)
        var out = data
        out.withUnsafeMutableBufferPointer { Self.softmaxRows($0, n: n) }
        return Tensor(shape: shape, data: out)
    }

    /// Softmax over each row of `n` values of `o`, in place: the maximum subtracted, `exp`, a running sum,
    /// one reciprocal; a row of only `-infinity` becomes zeros. ``softmax()`` and attention computed a
    /// head at a time both run this, so their patterns agree bit for bit.
    static func softmaxRows(_ o: UnsafeMutableBufferPointer<Float>, n: Int) {
        let rows = o.count / Swift.max(n, 1)
        for r in 0..<rows {
            let base = r * n
            var m = -Float.infinity
            for j in 0..<n where o[base + j] > m { m = o[base + j] }
            if m == -Float.infinity {
                for j in 0..<n { o[base + j] = 0 }
                continue
            }
            var sum: Float = 0
            for j in 0..<n {
                let e = exp(o[base + j] - m)
                o[base + j] = e
                sum += e
            }
            let inv = 1 / sum
            for j in 0..<n { o[base + j] *= inv }
        }
    }
}
