/// Builds a ``Trace`` during a forward pass, skipping the work of recording when only logits are wanted.
///
/// Models call ``record(_:_:formula:explanation:axes:inputs:layer:tensor:)`` with the tensor as an
/// autoclosure, so a tensor that exists only to be shown (a per-head split, an unmasked score matrix)
/// is never built on the fast generation path.
public struct TraceRecorder {
    public private(set) var trace: Trace
    /// False on the fast path: nothing but the logits is kept.
    public let enabled: Bool
    /// Labels of the new positions (queries).
    public let queryLabels: [String]
    /// Labels of every position a query can see (cached + new): the key axis.
    public let keyLabels: [String]

    /// The first recorded value that is NaN or ±infinity (−infinity is allowed where a mask puts it):
    /// the step, the flat index and the value.
    public private(set) var firstNonFinite: (step: String, index: Int, value: Float)?

    public init(tokenIDs: [Int], queryLabels: [String], keyLabels: [String], enabled: Bool) {
        trace = Trace(tokenIDs: tokenIDs, positionLabels: queryLabels)
        self.enabled = enabled
        self.queryLabels = queryLabels
        self.keyLabels = keyLabels
    }

    /// Records a step when recording is on.
    public mutating func record(_ name: String, _ title: String, formula: String, explanation: String,
                                axes: [Axis], inputs: [String] = [], layer: Int? = nil,
                                tensor: @autoclosure () -> Tensor) {
        guard enabled else { return }
        let step = Step(name: name, title: title, formula: formula, explanation: explanation,
                        tensor: tensor(), axes: axes, inputs: inputs, layer: layer)
        noteNonFinite(step)
        trace.record(step)
    }

    /// Records a step whatever the mode (the logits).
    public mutating func recordAlways(_ step: Step) {
        noteNonFinite(step)
        trace.record(step)
    }

    /// Remembers the first step holding a NaN or an infinity. Masked attention scores hold −infinity
    /// by design; anything else non-finite means the float32 arithmetic overflowed (finite weights can
    /// still have products beyond 3.4e38).
    private mutating func noteNonFinite(_ step: Step) {
        guard firstNonFinite == nil else { return }
        let maskable = step.name.hasSuffix("hook_attn_scores")
        step.tensor.data.withUnsafeBufferPointer { v in
            // A fast scan first: x * 0 is NaN exactly when x is NaN or infinite, and NaN survives the sum.
            let n = v.count
            let raw = UnsafeRawBufferPointer(v)
            var acc = SIMD8<Float>(repeating: 0)
            var i = 0
            while i + 8 <= n {
                acc += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) * 0
                i += 8
            }
            var any = acc.sum()
            while i < n { any += v[i] * 0; i += 1 }
            guard any.isNaN else { return }
            for (i, x) in v.enumerated() where !x.isFinite && !(maskable && x == -.infinity) {
                firstNonFinite = (step.name, i, x)
                return
            }
        }
    }

    /// Throws if any recorded value went non-finite, naming the first step (in the order computed)
    /// and where in it. Models call it once the logits are recorded, before touching a cache.
    /// - Throws: ``StepwiseError`` (`.model`): `the forward pass went non-finite at step
    ///   blocks.0.mlp.hook_pre (inf at position 1 ' cat', flat index 70) ...`.
    public func checkFinite() throws {
        guard let (name, index, value) = firstNonFinite else { return }
        var at = "flat index \(index)"
        if let step = trace[name], let first = step.axes.first, let labels = first.labels, step.tensor.shape.count >= 1,
           step.tensor.shape[0] == labels.count, step.tensor.count > 0 {
            let row = index / (step.tensor.count / step.tensor.shape[0])
            at = "\(first.name) \(row) \(labels[row]), flat index \(index)"
        }
        let where_ = enabled ? "at step \(name)" : "in the \(name)"
        throw StepwiseError(.model, "the forward pass went non-finite \(where_) (\(value) at \(at)): the weights' products overflow float32 for this input; nothing was changed")
    }

    // MARK: Axis helpers

    /// The position axis of the new tokens.
    public var pos: Axis { Axis("pos", labels: queryLabels) }
    public var queryPos: Axis { Axis("query_pos", labels: queryLabels) }
    public var keyPos: Axis { Axis("key_pos", labels: keyLabels) }
    public static let head = Axis("head")
    public static let kvHead = Axis("kv_head")
    public static let dHead = Axis("d_head")
    public static let dModel = Axis("d_model")
    public static let dMLP = Axis("d_mlp")
    public static let one = Axis("one")
}
