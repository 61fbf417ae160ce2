/// How a step's value is computed again, on demand, from tensors the trace already holds.
///
/// A trace keeps its largest steps this way instead of as values: the attention scores and patterns
/// (`[head, query_pos, key_pos]`, one `T × T` matrix per head), the per-head results, the norms' outputs
/// and the logits of every position but the last (`[pos, vocab]`).
/// The recipe runs the same functions with the same sizes the forward pass ran (``AttentionMath``'s per-head
/// products, the norm's row operations, the unembedding a row at a time), so what it gives back is bit for
/// bit what the pass computed.
///
/// `compute` receives ``inputs`` rather than capturing them, so the tensors a recipe keeps alive are the
/// ones it names (``Trace/heldBytes`` counts them); it may capture small values (a scale, a mask's
/// extent) and the model's weights.
public struct StepRecipe: Sendable {
    /// The shape of the whole value.
    public let shape: [Int]
    /// The axis whose entries can be computed on their own, if any: a step's `head` axis, or the logits'
    /// positions.
    public let partAxis: Int?
    /// The tensors the value is computed from.
    public let inputs: [Tensor]
    /// The value with the part axis restricted to `part` (the whole axis, or all of it without one).
    let compute: @Sendable (_ inputs: [Tensor], _ part: Range<Int>) -> Tensor

    /// - Parameters:
    ///   - partAxis: the axis `compute` can restrict; nil when it always computes everything.
    ///   - compute: `(inputs, part) -> value`, the value's `partAxis` extent `part.count`.
    public init(shape: [Int], partAxis: Int? = nil, inputs: [Tensor],
                compute: @escaping @Sendable (_ inputs: [Tensor], _ part: Range<Int>) -> Tensor) {
        precondition(partAxis.map { $0 >= 0 && $0 < shape.count } ?? true, "StepRecipe: part axis \(partAxis!) for shape \(shape)")
        self.shape = shape
        self.partAxis = partAxis
        self.inputs = inputs
        self.compute = compute
    }

    /// The whole value.
    public func materialized() -> Tensor {
        let t = compute(inputs, 0..<(partAxis.map { shape[$0] } ?? 1))
        precondition(t.shape == shape, "StepRecipe: computed \(t.shape), expected \(shape)")
        return t
    }

    /// The value for `part` of the part axis only: that axis has `part.count` entries.
    public func materialized(part: Range<Int>) -> Tensor {
        guard let a = partAxis else { return Self.restrict(materialized(), axis: nil, part) }
        precondition(part.lowerBound >= 0 && part.upperBound <= shape[a], "StepRecipe: entries \(part) of \(shape[a])")
        let t = compute(inputs, part)
        var expected = shape
        expected[a] = part.count
        precondition(t.shape == expected, "StepRecipe: computed \(t.shape) for entries \(part), expected \(expected)")
        return t
    }

    /// `t` with its axis `axis` cut to `part` (the first axis when nil).
    static func restrict(_ t: Tensor, axis: Int?, _ part: Range<Int>) -> Tensor {
        let a = axis ?? 0
        var sel = [AxisSelection](repeating: .all, count: a + 1)
        sel[a] = .range(part.lowerBound, part.upperBound, 1)
        return t.sliced(sel)
    }
}

/// A step's value as the trace stores it: the tensor itself, or a ``StepRecipe`` for it.
public enum StepValue: Sendable {
    case dense(Tensor)
    case recipe(StepRecipe)

    public var shape: [Int] {
        switch self {
        case .dense(let t): return t.shape
        case .recipe(let r): return r.shape
        }
    }

    /// The value (computed for a recipe, on every call).
    public var tensor: Tensor {
        switch self {
        case .dense(let t): return t
        case .recipe(let r): return r.materialized()
        }
    }

    /// True when the value is computed on demand.
    public var isRecipe: Bool {
        if case .recipe = self { return true }
        return false
    }

    /// The tensors this value keeps alive: its own, or the recipe's inputs.
    public var heldTensors: [Tensor] {
        switch self {
        case .dense(let t): return [t]
        case .recipe(let r): return r.inputs
        }
    }
}

extension Tensor {
    /// Where this tensor's values live and how many bytes that allocation holds (its capacity, which
    /// can exceed its count): two tensors that share storage (copy-on-write) give the same address.
    var storage: (address: UInt, bytes: Int) {
        let bytes = data.capacity * MemoryLayout<Float>.stride
        let address = data.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        return (address, bytes)
    }
}
