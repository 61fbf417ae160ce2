/// Collects the steps of one Llama forward pass, or only the logits when recording is off.
///
/// Tensors are passed as autoclosures so a pass with `record == false` never builds the ones it drops.
struct LlamaRecorder {
    /// Record every step (false: only `logits`).
    let enabled: Bool
    var trace: Trace
    /// `pos` axis of the new tokens, labelled with their pieces.
    let pos: Axis
    /// `query_pos` axis (the new tokens) and `key_pos` axis (cached + new positions).
    let queryPos: Axis
    let keyPos: Axis

    init(enabled: Bool, trace: Trace, cachedPositions: Int) {
        self.enabled = enabled
        self.trace = trace
        pos = Axis("pos", labels: trace.positionLabels)
        queryPos = Axis("query_pos", labels: trace.positionLabels)
        let cached = (0..<cachedPositions).map { "#\($0)" }
        keyPos = Axis("key_pos", labels: cached + trace.positionLabels)
    }

    /// Records a step if recording is on (always for `logits`).
    mutating func add(_ name: String, _ title: String, formula: String, explanation: String,
                      tensor: @autoclosure () -> Tensor, axes: [Axis], inputs: [String], layer: Int? = nil) {
        guard enabled || name == "logits" else { return }
        trace.record(Step(name: name, title: title, formula: formula, explanation: explanation,
                          tensor: tensor(), axes: axes, inputs: inputs, layer: layer))
    }
}
