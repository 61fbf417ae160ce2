/// How a step's value is computed again, on demand, from tensors the trace already holds.
///
/// A trace keeps its largest steps this way instead of as values: the attention scores and patterns
/// (`[head, query_pos, key_pos]`, one `T × T` matrix per head), the per-head results and the norms' outputs.
/// The recipe runs the same functions with the same sizes the forward pass ran (``AttentionMath``'s per-head
/// products, the norm's row operations), so what it gives back is bit for bit what the pass computed.
///
/// `compute` receives ``inputs`` rather than capturing them, so the tensors a recipe keeps alive are the
/// ones it names (``Trace/heldBytes`` counts them); it may capture small values (a scale, a mask's
/// extent) and the model's weights.
public struct StepRecipe: Sendable {
    /// The shape of the whole value.
    public let shape: [Int]
    /// The axis whose entries can be computed on their own (a step's `head` axis), if any.
    public let headAxis: Int?
    /// The tensors the value is computed from.
    public let inputs: [Tensor]
    /// The value with the head axis restricted to `heads` (the whole axis, or all of it without one).
    let compute: @Sendable (_ inputs: [Tensor], _ heads: Range<Int>) -> Tensor

    /// - Parameters:
    ///   - headAxis: the axis `compute` can restrict; nil when it always computes everything.
    ///   - compute: `(inputs, heads) -> value`, the value's `headAxis` extent `heads.count`.
    public init(shape: [Int], headAxis: Int? = nil, inputs: [Tensor],
                compute: @escaping @Sendable (_ inputs: [Tensor], _ heads: Range<Int>) -> Tensor) {
        precondition(headAxis.map { $0 >= 0 && $0 < shape.count } ?? true, "StepRecipe: head axis \(headAxis!) for shape \(shape)")
        self.shape = shape
        self.headAxis = headAxis
        self.inputs = inputs
        self.compute = compute
    }

    /// The whole value.
    public func materialized() -> Tensor {
        let t = compute(inputs, 0..<(headAxis.map { shape[$0] } ?? 1))
        precondition(t.shape == shape, "StepRecipe: computed \(t.shape), expected \(shape)")
        return t
    }

    /// The value for `heads` of the head axis only: the head axis has `heads.count` entries.
    public func materialized(heads: Range<Int>) -> Tensor {
        guard let a = headAxis else { return Self.restrict(materialized(), axis: nil, heads) }
        precondition(heads.lowerBound >= 0 && heads.upperBound <= shape[a], "StepRecipe: heads \(heads) of \(shape[a])")
        let t = compute(inputs, heads)
        var expected = shape
        expected[a] = heads.count
        precondition(t.shape == expected, "StepRecipe: computed \(t.shape) for heads \(heads), expected \(expected)")
        return t
    }

    /// `t` with its axis `axis` cut to `heads` (the first axis when nil).
    static func restrict(_ t: Tensor, axis: Int?, _ heads: Range<Int>) -> Tensor {
        let a = axis ?? 0
        var sel = [AxisSelection](repeating: .all, count: a + 1)
        sel[a] = .range(heads.lowerBound, heads.upperBound, 1)
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
