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
        trace.record(Step(name: name, title: title, formula: formula, explanation: explanation,
                          tensor: tensor(), axes: axes, inputs: inputs, layer: layer))
    }

    /// Records a step whatever the mode (the logits).
    public mutating func recordAlways(_ step: Step) {
        trace.record(step)
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
