import Foundation

/// From logits to text: `sample`, `generate`, `compare`.
enum SamplingCommands {
    /// A probability bar of fixed width with its percentage, no label (BarView's line without its margin).
    static func bar(_ p: Double, _ o: ViewOptions) -> String {
        String((BarView.render(items: [(label: "", value: Float(p))], options: o, maxValue: 1).first ?? "").dropFirst(4))
    }

    /// The last position's logits of the current trace.
    static func lastLogits(_ session: Session) throws -> [Float] {
        let trace = try session.requireTrace()
        guard let logits = trace.logitsRow() else {
            throw StepwiseError(.model, "this model computes no logits (an encoder): nothing to sample from")
        }
        return logits.data
    }

    static let sample = Command(
        "sample", usage: "sample",
        summary: "choose the next token step by step: temperature, top-k, top-p, renormalise, random draw",
        help: """
            Uses the settings temperature, top-k, top-p and seed ('set' lists them; temperature 0 is greedy). \
            Each stage is shown as a step over the ten most likely tokens. The same seed always draws the \
            same token (the generator is SplitMix64, specified to the bit).
            """,
        examples: ["sample", "set temperature 0.7", "set top-p 0.9", "set seed 7"]
    ) { session, context, _ in
        let logits = try lastLogits(session)
        let tok = session.tokenizer!
        var rng = SplitMix64(seed: session.sampling.seed)
        let result = Sampler.sample(logits: logits, settings: session.sampling, rng: &rng, labels: { tok.label(for: $0) })
        // The ten most likely tokens by the model's own logits: every vocabulary-sized stage shows these.
        let top = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }.prefix(10)
        let o = StepRenderer.options(session, context)
        var lines = Prose.wrap("Sampling the token after \(session.trace!.positionLabels.last ?? "") — \(session.sampling.summary)",
                               width: o.width)
        for (i, step) in result.steps.enumerated() {
            lines.append("")
            lines += Prose.wrap(step.title, width: o.width, first: "\(i + 1). ")
            lines += Prose.wrap(step.explanation, width: o.width, first: "   ")
            lines += Prose.wrap(step.formula, width: o.width, first: "   ")
            lines += stageTable(step, top: Array(top), options: o, mark: step.name == "sample.draw" ? result.rank : nil)
        }
        lines.append("")
        lines += Prose.wrap("chosen: \(tok.label(for: result.tokenID))  (id \(result.tokenID), p = \(String(format: "%.4f", result.probability)) after filtering, \(String(format: "%.4f", result.modelProbability)) from the model)",
                            width: o.width, rest: "  ")
        return lines
    }

    /// One sampling stage as a table. Stages over the vocabulary show the model's ten most likely
    /// tokens; the ranked stages (token id, probability, running total) show ids as whole numbers in
    /// their own column, and the chosen token's fields one per line: ids are never averaged with
    /// probabilities.
    /// - Parameter mark: the row of the ranked table to point at (the drawn rank), shown even when the
    ///   table is elided.
    static func stageTable(_ step: Step, top: [Int], options: ViewOptions, mark: Int? = nil) -> [String] {
        var o = options
        o.maxRows = 12
        let p = o.precision
        func number(_ v: Float) -> String { NumberFormat.format(v, p, NumberFormat.style(maxAbs: abs(v), precision: p)) }
        let fields = step.axes.last?.name == "field" ? step.axes.last?.labels ?? [] : []
        if step.tensor.rank == 2, fields.first == "token id" {
            let rank = step.axes[0]
            let n = step.tensor.shape[0], f = step.tensor.shape[1]
            // One number style per column, so a column lines up.
            let styles = (0..<f).map { c in
                NumberFormat.style(maxAbs: (0..<n).map { abs(step.tensor.data[$0 * f + c]) }.max() ?? 0, precision: p)
            }
            let rows = (0..<n).map { r -> [String] in
                [String(rank.position(r)), rank.labels?[r] ?? "", String(Int(step.tensor.data[r * f]))]
                    + (1..<f).map { NumberFormat.format(step.tensor.data[r * f + $0], p, styles[$0]) }
            }
            let columns = [RecordsView.Column(rank.name), RecordsView.Column("token", numeric: false), RecordsView.Column("id")]
                + fields.dropFirst().map { RecordsView.Column($0) }
            return RecordsView.render(columns: columns, rows: rows, options: o, mark: mark)
                + [TableView.margin + "\(n) tokens" + (n > o.rowLimit ? " (the middle ones left out)" : "")]
        }
        if step.tensor.rank == 1, fields.first == "token id" {
            let w = fields.map(TextWidth.of).max() ?? 0
            return zip(fields, step.tensor.data).enumerated().map { i, fv in
                TableView.margin + TextWidth.padRight(fv.0, w) + "  " + (i == 0 ? String(Int(fv.1)) : number(fv.1))
            }
        }
        var selections: [AxisSelection] = []
        if step.axes.first?.name == "vocab" { selections = [.indices(top)] }
        let (t, axes) = StepRenderer.slice(step, selections)
        return TableView.render(t, axes: axes, options: o, name: step.name)
    }

    static let generate = Command(
        "generate", aliases: ["gen"], usage: "generate N",
        summary: "append N tokens one at a time with a KV cache; each token printed as it comes; stops at end-of-text",
        help: """
            Uses the sampling settings (temperature 0 = greedy). Keys and values of earlier positions are kept \
            (the KV cache), so each new token costs one position's work. Afterwards the last token's forward pass \
            is the current trace, and 'back' walks into the passes of the tokens before it. Ctrl-C stops cleanly.
            """,
        examples: ["generate 20", "set temperature 0", "generate 10"]
    ) { session, context, rest in
        let model = try session.requireModel()
        _ = try session.requireTrace()
        guard model.info.isCausal else { throw StepwiseError(.model, "an encoder does not generate text; load a decoder (GPT-2, Llama)") }
        let n = try Arguments.int(rest.isEmpty ? nil : rest, "N (the number of tokens)", range: 1...10_000)
        if let ctx = model.info.contextLength, session.ids.count >= ctx {
            throw StepwiseError(.model, "the prompt already fills the context of \(ctx) tokens")
        }
        let tok = session.tokenizer!
        let generator = Generator(model: model, settings: session.sampling, recordEachToken: true,
                                  options: session.forwardOptions(context: context))
        var lines: [String] = []
        var o = StepRenderer.options(session, context)
        let fullWidth = o.width
        o.width = min(o.width, 60) - 18
        let result = try generator.generate(prompt: session.ids, maxTokens: n, shouldStop: context.isCancelled) { t in
            // A fixed-width label column so the bars line up as tokens stream in.
            // The bar is the model's own probability of the token (before temperature and filters).
            let label = TextWidth.truncate(t.label, to: 16)
            let line = String(format: "%3d  ", t.index + 1) + label + String(repeating: " ", count: max(0, 16 - TextWidth.of(label)))
                + bar(t.modelProbability, o)
            if context.interactive { context.emit(line) } else { lines.append(line) }
        }
        guard let final = result.finalTrace else {
            throw StepwiseError(.interrupted, "interrupted before the first token; nothing changed")
        }
        session.ids = result.prompt + result.generated
        session.promptText = tok.decode(session.ids)
        session.history = Array(result.traces.dropLast())
        session.future = []
        session.trace = final
        session.cursor = 0
        let reason: String
        switch result.stopReason {
        case .count: reason = "\(result.generated.count) tokens"
        case .endOfText: reason = "stopped at end-of-text after \(result.generated.count) tokens"
        case .contextFull: reason = "stopped: the context is full"
        case .interrupted: reason = "interrupted after \(result.generated.count) tokens"
        }
        // The whole text, wrapped at word boundaries under its label.
        lines += Prose.wrap(TokenLabel.display(session.promptText!), width: fullWidth, first: "text: ", cap: false)
        lines += Prose.wrap("(\(reason); the current trace is the pass that chose the last token — 'back' walks into earlier ones)",
                            width: fullWidth)
        return lines
    }

    static let compare = Command(
        "compare", usage: "compare SETTING A B | compare prompts \"A\" \"B\"",
        summary: "two sampling settings side by side on the same logits, or two prompts: tokens, top-k, where heads and layers differ",
        help: """
            compare SETTING A B samples the current logits under two values of one sampling setting (temperature, \
            top-k, top-p, ...) and shows both distributions and their entropies. compare prompts "A" "B" runs both \
            prompts (with the session's ablations and steering) and shows their tokens, their top 5 next tokens side \
            by side, the 5 heads whose attention patterns differ most (total variation ½ Σ|A − B| of each query's \
            row, averaged over the positions both prompts have, aligned from position 0) and the 5 places (layer, \
            position) where the residual stream after a block differs most in direction (1 − cos). It changes \
            nothing in the session.
            """,
        examples: ["compare temperature 0.5 1.5", "compare top-k 3 50", "compare top-p 0.5 0.95",
                   "compare prompts \"Mr. Darcy bowed to Miss Bennet, and then Mr. Darcy bowed to Miss\" \"Mr. Darcy bowed to Miss Lucas, and then Mr. Darcy bowed to Miss\""],
        completion: .settings
    ) { session, context, rest in
        let words = try Arguments.split(rest)
        if words.first == "prompts" {
            return try SteerCommands.comparePrompts(session, context, Array(words.dropFirst()))
        }
        let logits = try lastLogits(session)
        guard words.count == 3 else { throw StepwiseError.usage("usage: compare SETTING A B, e.g. compare temperature 0.5 1.5") }
        var a = session.sampling, b = session.sampling
        try a.set(words[0], to: words[1])
        try b.set(words[0], to: words[2])
        let tok = session.tokenizer!
        let rows = Sampler.compare(logits: logits, a: a, b: b, top: 12, labels: { tok.label(for: $0) })
        var o = StepRenderer.options(session, context)
        let labelW = min(16, rows.map { TextWidth.of($0.label) }.max() ?? 4)
        let half = max(12, (o.width - labelW - 6) / 2)
        let fullWidth = o.width
        o.width = half
        var lines = ["A: \(a.summary)", "B: \(b.summary)", ""]
        lines.append("  " + "token".padding(toLength: labelW, withPad: " ", startingAt: 0) + "  "
                     + "A".padding(toLength: half - 2, withPad: " ", startingAt: 0) + "B")
        for r in rows {
            let label = TextWidth.truncate(r.label, to: labelW)
            // Two spaces between a label and its bar, as in the header: a full-width label never touches it.
            lines.append(TextWidth.trimTrailing("  " + TextWidth.padRight(label, labelW) + "  "
                                                + bar(r.probabilityA, o) + "  " + bar(r.probabilityB, o)))
        }
        // (max with 0: a certain choice is 0 bits, not -0.00.)
        let entropy = { (p: [Double]) -> Double in max(0, -p.reduce(0) { $1 > 0 ? $0 + $1 * log2($1) : $0 }) }
        let ea = entropy(Sampler.distribution(logits: logits, settings: a))
        let eb = entropy(Sampler.distribution(logits: logits, settings: b))
        lines.append("")
        lines += Prose.wrap(String(format: "entropy: A %.2f bits, B %.2f bits (higher = flatter, more random)", ea, eb), width: fullWidth)
        return lines
    }
}
