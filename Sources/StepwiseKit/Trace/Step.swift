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
public struct Step: Sendable {
    /// The hook name, e.g. `blocks.3.attn.hook_pattern`.
    public var name: String
    /// A short title, e.g. "Attention pattern (layer 3)".
    public var title: String
    /// The formula that produced the tensor, e.g. `softmax(scores)`.
    public var formula: String
    /// One plain-English line saying what happened.
    public var explanation: String
    /// The value.
    public var tensor: Tensor
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
        precondition(axes.count == tensor.rank, "Step \(name): \(axes.count) axes for shape \(tensor.shape)")
        self.name = name
        self.title = title
        self.formula = formula
        self.explanation = explanation
        self.tensor = tensor
        self.axes = axes
        self.inputs = inputs
        self.layer = layer
        self.stack = stack
    }

    /// `[pos 5, head 4, d_head 16]`-style description of the shape.
    public var shapeDescription: String {
        "[" + zip(axes, tensor.shape).map { "\($0.name) \($1)" }.joined(separator: ", ") + "]"
    }
}
