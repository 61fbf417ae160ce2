/// One token as generation produces it, for printing with a probability bar.
public struct GeneratedToken: Sendable {
    /// 0 for the first generated token.
    public var index: Int
    public var id: Int
    /// The text this token adds to the output. Empty while a character split over several tokens is
    /// incomplete; the token that completes it carries the whole character.
    public var text: String
    /// The token's own display label, e.g. `' cat'` (``TokenLabel``).
    public var label: String
    /// Its probability under the sampling settings (1 under greedy).
    public var probability: Double
    /// The model's own probability for it (softmax at temperature 1, no filters).
    public var modelProbability: Double

    public init(index: Int, id: Int, text: String, label: String, probability: Double, modelProbability: Double) {
        self.index = index
        self.id = id
        self.text = text
        self.label = label
        self.probability = probability
        self.modelProbability = modelProbability
    }
}

/// What ``Generator`` produced.
public struct GenerationResult: Sendable {
    /// Why generation ended.
    public enum StopReason: String, Sendable, Equatable {
        /// The requested number of tokens was reached.
        case count
        /// The tokenizer's end-of-text token was generated (it is the last generated id).
        case endOfText
        /// Prompt plus generated tokens reached the model's context length.
        case contextFull
        /// `shouldStop` returned true (Ctrl-C).
        case interrupted
    }

    public var prompt: [Int]
    /// The new ids, in order.
    public var generated: [Int]
    public var stopReason: StopReason
    /// The full trace of the pass whose logits chose the last generated token: its input is the prompt
    /// (one token generated) or the token before the last, and its last `logits` row is what
    /// ``finalSampling`` sampled from. Nil only when generation was interrupted right after the prompt
    /// (the prompt pass is not re-run, to stop fast).
    public var finalTrace: Trace?
    /// The seven `sample.*` steps of the last token's choice (same logits, same random number).
    public var finalSampling: SamplingResult
    /// With ``Generator/recordEachToken``: the trace of every pass, `traces[i]` chose `generated[i]`.
    public var traces: [Trace]

    public init(prompt: [Int], generated: [Int], stopReason: StopReason, finalTrace: Trace?,
                finalSampling: SamplingResult, traces: [Trace]) {
        self.prompt = prompt
        self.generated = generated
        self.stopReason = stopReason
        self.finalTrace = finalTrace
        self.finalSampling = finalSampling
        self.traces = traces
    }
}
