import Foundation

/// `source` and `translate`: the two sequences of an encoder-decoder model (BART, Marian, T5).
///
/// The session keeps a source sentence (``Session/sourceIDs``); every pass encodes it and the decoder
/// cross-attends to it. `prompt` then sets the target so far, `translate` writes it token by token.
enum TranslationCommands {
    /// The decoder's ids for a target text: the start token, then the text's tokens with nothing added.
    /// - Throws: ``StepwiseError`` when there is no source yet.
    static func targetIDs(_ text: String, _ session: Session) throws -> [Int] {
        let model = try session.requireModel()
        guard !session.sourceIDs.isEmpty else {
            throw StepwiseError.usage("no source sentence yet: an encoder-decoder model translates one; type 'source The red car' first")
        }
        return [model.info.decoderStartID ?? 0] + (try model.tokenizer.encode(text))
    }

    /// The loaded model, if it has an encoder and a decoder.
    static func requireEncoderDecoder(_ session: Session, _ command: String) throws -> any LanguageModel {
        let model = try session.requireModel()
        guard model.info.isEncoderDecoder else {
            throw StepwiseError(.model, "'\(command)' is for encoder-decoder models (BART, Marian, T5; 'load builtin:translate'); \(model.info.name) reads one sequence: use 'prompt'")
        }
        return model
    }

    /// Encodes `text` as the session's source and runs a traced pass on the decoder's start token.
    static func setSource(_ text: String, _ session: inout Session, context: CommandContext) throws -> [String] {
        let model = try requireEncoderDecoder(session, "source")
        let ids = try model.tokenizer.encodeForModel(text)
        guard !ids.isEmpty else { throw StepwiseError.usage("the source has no tokens") }
        try model.validate(ids)
        var s = session
        s.sourceText = text
        s.sourceIDs = ids
        let start = [model.info.decoderStartID ?? 0]
        let trace = try model.trace(start, options: s.forwardOptions(context: context))
        s.promptText = ""
        s.ids = start
        s.trace = trace
        s.history = []
        s.future = []
        s.cursor = 0
        session = s
        var lines = ["source: \(ids.count) tokens → \(trace.steps.count) steps (the encoder, then the decoder on its start token \(model.tokenizer.label(for: start[0])))"]
        if let best = Predictions.top(trace, tokenizer: model.tokenizer, k: 1).first {
            lines.append("first target token: \(best.label)  p = \(String(format: "%.3f", best.probability))")
        }
        return lines
    }

    static let source = Command(
        "source", usage: "source TEXT",
        summary: "an encoder-decoder model's source sentence: encoded (traced) and kept for every later pass",
        help: """
            The encoder reads TEXT (with the special tokens the tokenizer adds, e.g. <s> … </s>); the decoder then \
            runs on its start token alone, so the trace shows both stacks and the first target token. 'prompt TEXT' \
            sets the target so far, 'translate' writes it; 'tokens' shows both sequences.
            """,
        examples: ["source the red car", "source \"the cats eat fish\""]
    ) { session, context, rest in
        let text = try Unescape.promptText(rest)
        guard !text.isEmpty else { throw StepwiseError.usage("usage: source TEXT") }
        return try setSource(text, &session, context: context)
    }

    static let translate = Command(
        "translate", usage: "translate [TEXT] [--sample]",
        summary: "translate the source (or TEXT, which becomes the source) token by token with the KV cache",
        help: """
            Greedy by default: each step takes the most likely token; --sample uses the sampling settings \
            (temperature, top-k, top-p, seed). Stops at the end-of-sequence token or the model's context. Each \
            new token is shown with the source token its cross-attention weighs most (the mean over every \
            decoder layer and head, at the position that chose it). Afterwards the pass that chose the last \
            token is the current trace, and 'back' walks into the earlier ones.
            """,
        examples: ["translate the red car", "translate", "translate --sample"]
    ) { session, context, rest in
        var words = try Arguments.split(rest)
        let sample = words.contains("--sample")
        words.removeAll { $0 == "--sample" }
        let model = try requireEncoderDecoder(session, "translate")
        var s = session
        var lines: [String] = []
        if !words.isEmpty {
            let text = try Unescape.promptText(rest.replacingOccurrences(of: "--sample", with: "").trimmingCharacters(in: .whitespaces))
            lines += try setSource(text, &s, context: context).prefix(1)
        }
        guard !s.sourceIDs.isEmpty else {
            throw StepwiseError.usage("nothing to translate: give a sentence ('translate the red car') or set one with 'source'")
        }
        let tok = model.tokenizer
        let start = [model.info.decoderStartID ?? 0]
        let limit = (model.info.contextLength ?? 512) - 1
        let generator = Generator(model: model, settings: sample ? s.sampling : .greedy, recordEachToken: true,
                                  options: s.forwardOptions(context: context))
        let result = try generator.generate(prompt: start, maxTokens: min(limit, 256), shouldStop: context.isCancelled) { _ in }
        guard let final = result.finalTrace else {
            throw StepwiseError(.interrupted, "interrupted before the first token; nothing changed")
        }
        // Each token with the source token the pass that chose it attended to most.
        let labelW = min(16, result.generated.map { TextWidth.of(tok.label(for: $0)) }.max() ?? 4)
        let arrow = s.settings.unicode ? "←" : "<-"
        for (i, id) in result.generated.enumerated() {
            let label = TextWidth.truncate(tok.label(for: id), to: labelW)
            var line = String(format: "%3d  ", i + 1) + TextWidth.padRight(label, labelW)
            if result.traces.indices.contains(i), let (k, w) = strongestSource(result.traces[i], layers: model.info.layers) {
                let src = result.traces[i].sourceLabels
                line += "  \(arrow) " + (src.indices.contains(k) ? src[k] : "?") + String(format: "  (%.2f)", w)
            }
            lines.append(TextWidth.trimTrailing(line))
        }
        let eos = tok.specialTokens.eos
        let target = result.generated.filter { $0 != eos }
        s.ids = start + result.generated
        s.promptText = tok.decode(target)
        s.history = Array(result.traces.dropLast())
        s.future = []
        s.trace = final
        s.cursor = 0
        session = s
        let width = StepRenderer.options(session, context).width
        let why = result.stopReason == .endOfText ? "stopped at \(eos.map { tok.label(for: $0) } ?? "end of text")"
            : result.stopReason == .interrupted ? "interrupted" : "stopped at the length limit"
        lines += Prose.wrap(TokenLabel.display(s.sourceText ?? ""), width: width, first: "source: ", cap: false)
        lines += Prose.wrap(TokenLabel.display(s.promptText ?? ""), width: width, first: "target: ", cap: false)
        lines += Prose.wrap("(\(result.generated.count) tokens, \(sample ? "sampled" : "greedy"), \(why); the current trace is the pass that chose the last token — 'back' walks into earlier ones)",
                            width: width)
        return lines
    }

    /// The source position the last query of a pass attends to most, averaged over every decoder
    /// layer's cross-attention heads, and that mean weight.
    static func strongestSource(_ trace: Trace, layers: Int) -> (Int, Float)? {
        var sum: [Float] = []
        var n = 0
        for l in 0..<layers {
            guard let p = trace[HookName.stack(.decoder, .cross(.pattern(layer: l))).name]?.tensor, p.rank == 3 else { continue }
            let (h, q, k) = (p.shape[0], p.shape[1], p.shape[2])
            if sum.isEmpty { sum = [Float](repeating: 0, count: k) }
            guard sum.count == k else { return nil }
            for head in 0..<h {
                let row = (head * q + q - 1) * k
                for j in 0..<k { sum[j] += p.data[row + j] }
            }
            n += h
        }
        guard n > 0, let best = sum.indices.max(by: { sum[$0] < sum[$1] || (sum[$0] == sum[$1] && $0 > $1) }) else { return nil }
        return (best, sum[best] / Float(n))
    }
}
