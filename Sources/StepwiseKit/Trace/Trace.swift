/// The record of one forward pass: the tokens it read and every named step, in the order computed.
public struct Trace: Sendable {
    /// The token ids fed to the model (for an incremental pass, the new tokens only).
    public var tokenIDs: [Int]
    /// The display label of each position, e.g. `' cat'` (see ``TokenLabel``).
    public var positionLabels: [String]
    /// An encoder-decoder model's source tokens (what the encoder read; ``tokenIDs`` are the decoder's),
    /// empty for other models.
    public var sourceIDs: [Int] = []
    public var sourceLabels: [String] = []
    /// The steps, in order.
    public private(set) var steps: [Step] = []
    private var index: [String: Int] = [:]

    public init(tokenIDs: [Int], positionLabels: [String]) {
        self.tokenIDs = tokenIDs
        self.positionLabels = positionLabels
    }

    /// Appends a step; a second step of the same name replaces the first (an intervention re-run).
    public mutating func record(_ step: Step) {
        if let i = index[step.name] {
            steps[i] = step
        } else {
            index[step.name] = steps.count
            steps.append(step)
        }
    }

    /// The step with this exact name.
    public subscript(name: String) -> Step? {
        index[name].map { steps[$0] }
    }

    /// The position of a step in ``steps``.
    public func position(of name: String) -> Int? { index[name] }

    /// All step names, in order.
    public var names: [String] { steps.map(\.name) }

    /// The logits `[pos, vocab]` if the pass computed them.
    public var logits: Tensor? { self["logits"]?.tensor }
}
