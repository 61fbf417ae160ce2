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

    /// The logits `[pos, vocab]` if the pass computed them. A decoder-only model's trace computes every
    /// row but the last on each read: ``logitsRow(_:)`` gives one row.
    public var logits: Tensor? { self["logits"]?.tensor }

    /// Whether the pass computed logits (an encoder computes none).
    public var hasLogits: Bool { self["logits"] != nil }

    /// Row `index` of the logits step (default its last, the next-token prediction): `[vocab]`, the only
    /// row computed when the other rows are a recipe.
    public func logitsRow(_ index: Int? = nil) -> Tensor? {
        guard let step = self["logits"], step.shape.count == 2, step.shape[0] > 0 else { return nil }
        return step.sliced([.index(index ?? step.shape[0] - 1), .all])
    }

    // MARK: Memory

    /// What the pass left out to stay within ``ForwardOptions/traceBudget``, and why; nil when it kept everything.
    public internal(set) var budget: TraceBudget.Report?

    /// Removes steps (a budget decision made after they were recorded), noting them as left out.
    mutating func remove(_ names: Set<String>) {
        guard !names.isEmpty else { return }
        steps.removeAll { names.contains($0.name) }
        index = Dictionary(uniqueKeysWithValues: steps.enumerated().map { ($1.name, $0) })
    }

    /// The bytes the trace holds: every distinct allocation its steps keep alive (their values, and the
    /// tensors their recipes compute from), each counted once however many steps share it.
    public var heldBytes: Int {
        var seen = Set<UInt>()
        return Self.bytes(of: steps.lazy.flatMap(\.value.heldTensors), adding: &seen)
    }

    /// The bytes of `tensors`' allocations not yet in `seen` (which gains them).
    static func bytes<S: Sequence>(of tensors: S, adding seen: inout Set<UInt>) -> Int where S.Element == Tensor {
        var total = 0
        for t in tensors {
            let (address, bytes) = t.storage
            if bytes > 0, seen.insert(address).inserted { total += bytes }
        }
        return total
    }

    /// One line saying why a step this trace does not hold was left out, and what to do; nil when the
    /// pass never had it (the name is wrong, or the model has no such step).
    public func absence(of name: String) -> String? {
        budget?.absence(of: name)
    }
}
