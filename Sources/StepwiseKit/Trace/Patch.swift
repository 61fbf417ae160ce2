/// An edit to the tensor of one hook point, applied as the forward pass goes through it.
///
/// A patch selects part of the tensor — some positions (the first `pos` or `query_pos` axis, counted
/// from the start of the sequence, so with a KV cache row `i` of an incremental pass is position
/// `start + i`) and some heads (the first `head` or `kv_head` axis), all of them when nil — and
/// replaces, adds to, zeroes or mean-ablates the selected entries. Head ablation is
/// `Patch(.z(layer: L), .zero, heads: [H])`.
public struct Patch: Sendable, Equatable {
    /// What happens to the selected entries.
    public enum Action: Sendable, Equatable {
        /// Set to the value's entry (a tensor of the hook's shape, or of its trailing axes, broadcast).
        case replace(Tensor)
        /// Add the value's entry (same shapes as `replace`): steering adds a `[d_model]` vector.
        case add(Tensor)
        /// Set to 0.
        case zero
        /// Set to the mean over all positions of this pass (the entry itself without a position axis).
        case mean
    }

    public var hook: HookName
    public var action: Action
    /// Absolute positions to change; nil means every position.
    public var positions: [Int]?
    /// Heads to change; nil means every head.
    public var heads: [Int]?

    public init(_ hook: HookName, _ action: Action, positions: [Int]? = nil, heads: [Int]? = nil) {
        self.hook = hook
        self.action = action
        self.positions = positions
        self.heads = heads
    }

    /// A short description for explanations and `info`, e.g. `zero at heads 2` or `add at positions 0, 3`.
    public var summary: String {
        let what: String
        switch action {
        case .replace: what = "replace"
        case .add: what = "add"
        case .zero: what = "zero"
        case .mean: what = "mean"
        }
        var parts = [what]
        if let heads { parts.append("heads " + heads.map(String.init).joined(separator: ", ")) }
        if let positions { parts.append("positions " + positions.map(String.init).joined(separator: ", ")) }
        return parts.joined(separator: " at ")
    }

    /// Applies the patch to `tensor`, whose axes are `axes` and whose position axis starts at `start`.
    ///
    /// - Returns: the patched tensor.
    /// - Throws: ``StepwiseError`` if the patch selects heads or positions the tensor has no axis for,
    ///   an index out of range, or a value whose shape neither equals the tensor's nor its trailing axes.
    public func apply(to tensor: Tensor, axes: [String], start: Int = 0) throws -> Tensor {
        let shape = tensor.shape
        precondition(axes.count == shape.count, "Patch.apply: \(axes.count) axes for shape \(shape)")
        let posAxis = axes.firstIndex { $0 == "pos" || $0 == "query_pos" }
        let headAxis = axes.firstIndex { $0 == "head" || $0 == "kv_head" }
        func fail(_ why: String) -> StepwiseError { StepwiseError(.model, "patch at \(hook.name): \(why)") }

        // Which index of each axis is selected (nil: all).
        var keep = [[Bool]?](repeating: nil, count: shape.count)
        if let positions {
            guard let a = posAxis else { throw fail("the step has no position axis (axes \(axes))") }
            var sel = [Bool](repeating: false, count: shape[a])
            for p in positions {
                guard p >= 0 && p < start + shape[a] else { throw fail("position \(p) is outside 0–\(start + shape[a] - 1)") }
                if p >= start { sel[p - start] = true }
            }
            keep[a] = sel
        }
        if let heads {
            guard let a = headAxis else { throw fail("the step has no head axis (axes \(axes))") }
            var sel = [Bool](repeating: false, count: shape[a])
            for h in heads {
                guard h >= 0 && h < shape[a] else { throw fail("head \(h) is outside 0–\(shape[a] - 1)") }
                sel[h] = true
            }
            keep[a] = sel
        }

        var value: Tensor?
        switch action {
        case .replace(let v), .add(let v):
            guard v.shape == shape || (v.rank <= shape.count && Array(shape.suffix(v.rank)) == v.shape) else {
                throw fail("value of shape \(v.shape) fits neither the step's shape \(shape) nor its last axes")
            }
            value = v
        case .zero:
            break
        case .mean:
            value = Self.meanOverPositions(tensor, axis: posAxis)
        }

        // Walk every entry with its multi-index; strides of the tensor and of the value (broadcast).
        var out = tensor.data
        let n = out.count
        guard n > 0 else { return tensor }
        let valueOffset = shape.count - (value?.rank ?? 0)
        var index = [Int](repeating: 0, count: shape.count)
        let valueData = value?.data ?? []
        let valueShape = value?.shape ?? []
        for flat in 0..<n {
            var selected = true
            for a in 0..<shape.count where keep[a] != nil && !keep[a]![index[a]] { selected = false; break }
            if selected {
                var vi = 0
                if value != nil {
                    for a in valueOffset..<shape.count { vi = vi * valueShape[a - valueOffset] + index[a] }
                }
                switch action {
                case .zero: out[flat] = 0
                case .replace, .mean: out[flat] = valueData[vi]
                case .add: out[flat] += valueData[vi]
                }
            }
            var a = shape.count - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < shape[a] { break }
                index[a] = 0
                a -= 1
            }
        }
        return Tensor(shape: shape, data: out)
    }

    /// The tensor with every entry replaced by its mean along `axis` (kept, broadcast back), summed in
    /// position order; the tensor itself when there is no position axis.
    static func meanOverPositions(_ t: Tensor, axis: Int?) -> Tensor {
        guard let axis else { return t }
        let shape = t.shape
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var sum = [Float](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for p in 0..<n {
                let base = (o * n + p) * inner
                for i in 0..<inner { sum[o * inner + i] += t.data[base + i] }
            }
        }
        for i in sum.indices { sum[i] /= Float(n) }
        var out = t.data
        for o in 0..<outer {
            for p in 0..<n {
                let base = (o * n + p) * inner
                for i in 0..<inner { out[base + i] = sum[o * inner + i] }
            }
        }
        return Tensor(shape: shape, data: out)
    }
}
