/// The token ``Sampler`` chose, the numbers behind the choice, and (for a shown sample) every stage as a ``Step``.
public struct SamplingResult: Sendable {
    /// The chosen token id.
    public var tokenID: Int
    /// The chance the chosen token had under the settings: its renormalised probability after
    /// temperature, top-k and top-p (1 under greedy).
    public var probability: Double
    /// The model's own probability for the token: softmax of the raw logits at temperature 1, no filters.
    public var modelProbability: Double
    /// The uniform random number in `[0, 1)` that picked the token; nil under greedy (nothing is drawn).
    public var u: Double?
    /// 0-based rank of the chosen token in the kept list (descending probability, ties by lower id).
    public var rank: Int
    /// The tokens that survived top-k and top-p, in draw order (descending probability, equal logits by
    /// lower id), with their renormalised probabilities; they sum to 1. Greedy keeps one token.
    public var kept: [TokenProbability]
    /// How many tokens survived top-k (all of them when top-k is off; 1 under greedy).
    public var keptByTopK: Int
    /// The stages `sample.logits`, `sample.scaled`, `sample.top_k`, `sample.top_p`, `sample.probs`,
    /// `sample.draw`, `sample.choice`, in that order; empty from ``Sampler/pick(logits:settings:rng:)``.
    public var steps: [Step]

    public init(tokenID: Int, probability: Double, modelProbability: Double, u: Double?, rank: Int,
                kept: [TokenProbability], keptByTopK: Int, steps: [Step]) {
        self.tokenID = tokenID
        self.probability = probability
        self.modelProbability = modelProbability
        self.u = u
        self.rank = rank
        self.kept = kept
        self.keptByTopK = keptByTopK
        self.steps = steps
    }

    /// The step with this name (`sample.top_p`, ...).
    public func step(_ name: String) -> Step? { steps.first { $0.name == name } }
}

/// A token id and a probability.
public struct TokenProbability: Sendable {
    public var id: Int
    public var probability: Double

    public init(id: Int, probability: Double) {
        self.id = id
        self.probability = probability
    }
}

/// One row of ``Sampler/compare(logits:a:b:top:labels:)``: a token's final probability under two settings.
public struct SamplingComparisonRow: Sendable {
    public var id: Int
    /// The token's display label (``TokenLabel``).
    public var label: String
    public var probabilityA: Double
    public var probabilityB: Double

    public init(id: Int, label: String, probabilityA: Double, probabilityB: Double) {
        self.id = id
        self.label = label
        self.probabilityA = probabilityA
        self.probabilityB = probabilityB
    }
}
