/// Generates text one token at a time with a ``KVCache``: the `generate N` command.
///
/// The prompt is run once (prefill, logits only); then each chosen token is fed back alone, so every
/// new token costs one position of work. Only the pass whose logits chose the last token is recorded
/// in full, so the REPL can walk how that token came about.
public struct Generator: Sendable {
    public var model: any LanguageModel
    public var settings: SamplingSettings
    /// Also record and keep the full trace of every pass (one per generated token). The prefill's trace
    /// holds `[head, pos, pos]` attention matrices for the whole prompt, so this costs memory.
    public var recordEachToken: Bool
    /// Head ablations and the mask setting every pass runs with (its `record` is set per pass).
    public var options: ForwardOptions

    public init(model: any LanguageModel, settings: SamplingSettings, recordEachToken: Bool = false,
                options: ForwardOptions = ForwardOptions()) {
        self.model = model
        self.settings = settings
        self.recordEachToken = recordEachToken
        self.options = options
    }

    /// ``options`` with recording switched on or off.
    func options(record: Bool) -> ForwardOptions {
        var o = options
        o.record = record
        o.lastLogitsOnly = !record
        return o
    }

    /// Generates up to `maxTokens` tokens after `prompt`, with a generator seeded from ``settings``'s seed
    /// (so the same call always gives the same tokens).
    /// - Parameters:
    ///   - prompt: the ids the model reads first, as the model expects them (BOS included if any).
    ///   - maxTokens: at most this many new tokens, `>= 1`.
    ///   - shouldStop: asked between tokens; returning true stops generation (Ctrl-C).
    ///   - onToken: called with each token as soon as it is chosen (the trailing closure).
    /// - Returns: the generated ids, why generation stopped, and the recorded passes.
    /// - Throws: ``StepwiseError`` for a bad count, a prompt that fills the context, a model error, or
    ///   NaN logits; errors thrown by `onToken` are passed on.
    public func generate(prompt: [Int], maxTokens: Int, shouldStop: () -> Bool = { false },
                         onToken: (GeneratedToken) throws -> Void) throws -> GenerationResult {
        var rng = SplitMix64(seed: settings.seed)
        return try generate(prompt: prompt, maxTokens: maxTokens, rng: &rng, shouldStop: shouldStop, onToken: onToken)
    }

    /// Like ``generate(prompt:maxTokens:shouldStop:onToken:)`` with a caller-owned generator, which
    /// continues where the previous call left it.
    ///
    /// Stops after `maxTokens`, after the tokenizer's EOS (which is returned as the last token), when
    /// prompt plus generated tokens reach the model's context length, or when `shouldStop()` is true.
    public func generate(prompt: [Int], maxTokens: Int, rng: inout SplitMix64, shouldStop: () -> Bool = { false },
                         onToken: (GeneratedToken) throws -> Void) throws -> GenerationResult {
        guard maxTokens >= 1 else {
            throw StepwiseError.usage("generate needs a number of tokens >= 1, got \(maxTokens)")
        }
        try model.validate(prompt)
        let context = model.info.contextLength ?? Int.max
        guard prompt.count < context else {
            throw StepwiseError(.model, "the prompt's \(prompt.count) tokens already fill the model's context of \(context); shorten it to generate")
        }
        let tokenizer = model.tokenizer
        let eos = tokenizer.specialTokens.eos
        let cache = model.makeCache()
        var generated: [Int] = []
        var traces: [Trace] = []
        var pending: [Int] = []  // tokens whose text is not yet complete (a multi-byte character split)

        // The pass is the last one when it will produce the last token we may take.
        func isLast(feeding n: Int) -> Bool {
            generated.count + 1 == maxTokens || cache.length + n + 1 >= context
        }
        func run(_ ids: [Int], record: Bool) throws -> Trace {
            let trace = try model.forward(ids, cache: cache, options: options(record: record))
            if recordEachToken { traces.append(trace) }
            return trace
        }

        var fed = prompt
        var recorded = recordEachToken || isLast(feeding: fed.count)
        var trace = try run(fed, record: recorded)
        var stop: GenerationResult.StopReason
        var lastRow: [Float]
        var rngBefore: SplitMix64
        while true {
            guard let logits = trace.logitsRow() else { preconditionFailure("Generator: the model returned no logits") }
            lastRow = logits.data
            if lastRow.contains(where: \.isNaN) {
                throw StepwiseError(.model, "the model produced NaN logits at position \(cache.length - 1); generation stopped")
            }
            rngBefore = rng
            let choice = Sampler.pick(logits: lastRow, settings: settings, rng: &rng)
            let id = choice.tokenID
            generated.append(id)
            pending.append(id)
            var text = Self.newText(pending, after: Array((prompt + generated.dropLast(pending.count)).suffix(4)), tokenizer)
            if text.hasSuffix("\u{FFFD}") && pending.count < 4 {
                text = ""
            } else {
                pending = []
            }
            try onToken(GeneratedToken(index: generated.count - 1, id: id, text: text, label: tokenizer.label(for: id),
                                       probability: choice.probability, modelProbability: choice.modelProbability))
            if id == eos { stop = .endOfText; break }
            if generated.count == maxTokens { stop = .count; break }
            if prompt.count + generated.count >= context { stop = .contextFull; break }
            if shouldStop() { stop = .interrupted; break }
            fed = [id]
            recorded = recordEachToken || isLast(feeding: 1)
            trace = try run(fed, record: recorded)
        }

        // The pass that chose the last token, recorded in full. When the stop could not be foreseen
        // (EOS, Ctrl-C), that pass ran on the fast path: forget its positions and run it again, recorded
        // (after Ctrl-C only if it was a single token, to stop fast).
        var finalTrace: Trace? = recorded ? trace : nil
        if !recorded && (stop == .endOfText || fed.count == 1) {
            cache.truncate(to: cache.length - fed.count)
            finalTrace = try model.forward(fed, cache: cache, options: options(record: true))
        }
        let finalSampling = Sampler.sample(logits: lastRow, settings: settings, rng: &rngBefore,
                                           labels: { tokenizer.label(for: $0) })
        assert(finalSampling.tokenID == generated.last, "Generator: the shown sample differs from the generated token")
        return GenerationResult(prompt: prompt, generated: generated, stopReason: stop, finalTrace: finalTrace,
                                finalSampling: finalSampling, traces: traces)
    }

    /// The text `ids` add after `context` (the few tokens before them): decoded together, minus the
    /// context's own text. Decoding `ids` alone would lose what depends on their neighbours, such as the
    /// space a SentencePiece `▁` stands for, which a Metaspace decoder drops at the start of a text.
    static func newText(_ ids: [Int], after context: [Int], _ tokenizer: any Tokenizer) -> String {
        guard !context.isEmpty else { return tokenizer.decode(ids) }
        let before = tokenizer.decode(context), both = tokenizer.decode(context + ids)
        guard both.hasPrefix(before) else { return tokenizer.decode(ids) }
        return String(both.dropFirst(before.count))
    }
}
