/// One axis of a step's tensor: a name such as `query_pos` or `d_head`, and optional labels for its
/// indices (token pieces for position axes, token texts for a vocabulary axis).
public struct Axis: Sendable, Equatable {
    public var name: String
    public var labels: [String]?
    /// For an axis cut out of a longer one by a range (`show resid_pre 0[13:]`): the index each entry
    /// had on the full axis, so views number rows 13, 14, … rather than 0, 1, …. Nil means 0, 1, 2, ….
    public var positions: [Int]?

    public init(_ name: String, labels: [String]? = nil, positions: [Int]? = nil) {
        self.name = name
        self.labels = labels
        self.positions = positions
    }

    /// The index entry `i` had on the full axis.
    public func position(_ i: Int) -> Int {
        positions?[i] ?? i
    }
}

/// One named intermediate value of a forward pass.
///
/// Names follow TransformerLens's hook points with the batch axis dropped
/// (`blocks.0.attn.hook_pattern`), so a user of that library finds them where they expect.
///
/// The value is ``tensor``; the trace may store it as a ``StepRecipe`` that computes it again from
/// tensors it already holds (the attention patterns, `[head, query_pos, key_pos]`), so reading ``tensor``
/// of such a step computes the whole value each time. ``shape`` costs nothing, and ``tensor(heads:)`` /
/// ``sliced(_:)`` compute only the heads a view needs.
public struct Step: Sendable {
    /// The hook name, e.g. `blocks.3.attn.hook_pattern`.
    public var name: String
    /// A short title, e.g. "Attention pattern (layer 3)".
    public var title: String
    /// The formula that produced the tensor, e.g. `softmax(scores)`.
    public var formula: String
    /// One plain-English line saying what happened.
    public var explanation: String
    /// How the value is stored: the tensor, or a recipe for it.
    public var value: StepValue
    /// One entry per axis of `tensor`.
    public var axes: [Axis]
    /// The names of the steps this one was computed from.
    public var inputs: [String]
    /// The layer this step belongs to, if any.
    public var layer: Int?
    /// The stack of an encoder-decoder model the step belongs to (its layer numbers count within it).
    public var stack: HookName.Stack?

    public init(name: String, title: String, formula: String, explanation: String,
                tensor: Tensor, axes: [Axis], inputs: [String] = [], layer: Int? = nil, stack: HookName.Stack? = nil) {
        self.init(name: name, title: title, formula: formula, explanation: explanation, value: .dense(tensor), axes: axes,
                  inputs: inputs, layer: layer, stack: stack)
    }

    public init(name: String, title: String, formula: String, explanation: String,
                value: StepValue, axes: [Axis], inputs: [String] = [], layer: Int? = nil, stack: HookName.Stack? = nil) {
        precondition(axes.count == value.shape.count, "Step \(name): \(axes.count) axes for shape \(value.shape)")
        self.name = name
        self.title = title
        self.formula = formula
        self.explanation = explanation
        self.value = value
        self.axes = axes
        self.inputs = inputs
        self.layer = layer
        self.stack = stack
    }

    /// The value. A recipe step computes it on every read: read it once into a local.
    public var tensor: Tensor {
        get { value.tensor }
        set { value = .dense(newValue) }
    }

    /// The value's shape, without computing it.
    public var shape: [Int] { value.shape }

    /// The index of the `head` axis, if the step has one.
    public var headAxis: Int? { axes.firstIndex { $0.name == "head" } }

    /// The value for `heads` of its `head` axis only (that axis then has `heads.count` entries): a
    /// recipe step computes just those heads.
    public func tensor(heads: Range<Int>) -> Tensor {
        guard let a = headAxis else { preconditionFailure("Step \(name) has no head axis") }
        switch value {
        case .dense(let t): return StepRecipe.restrict(t, axis: a, heads)
        case .recipe(let r):
            return r.partAxis == a ? r.materialized(part: heads) : StepRecipe.restrict(r.materialized(), axis: a, heads)
        }
    }

    /// The value after `selections` (as ``Tensor/sliced(_:)``): a recipe step computes only the entries
    /// selected of the axis it computes a part at a time (the heads selected; the logits' positions).
    public func sliced(_ selections: [AxisSelection]) -> Tensor {
        guard case .recipe(let r) = value, let a = r.partAxis, a < selections.count else {
            return tensor.sliced(selections)
        }
        var rest = selections
        let heads: Range<Int>
        switch selections[a] {
        case .all:
            return r.materialized().sliced(selections)
        case .index(let h):
            heads = h..<(h + 1)
            rest[a] = .index(0)
        case .range(let lo, let hi, let st):
            let picked = Array(stride(from: lo, to: hi, by: st))
            guard let first = picked.min(), let last = picked.max() else { return tensor.sliced(selections) }
            heads = first..<(last + 1)
            rest[a] = .indices(picked.map { $0 - first })
        case .indices(let list):
            guard let first = list.min(), let last = list.max() else { return tensor.sliced(selections) }
            heads = first..<(last + 1)
            rest[a] = .indices(list.map { $0 - first })
        }
        return r.materialized(part: heads).sliced(rest)
    }

    /// `[pos 5, head 4, d_head 16]`-style description of the shape.
    public var shapeDescription: String {
        "[" + zip(axes, shape).map { "\($0.name) \($1)" }.joined(separator: ", ") + "]"
    }
}
