import Foundation

/// Looking inside heads and intervening: `weights`, `detect`, `ablate`, `restore`, `lens`, `attribute`, `patch`.
enum AnalysisCommands {
    // MARK: - Shared helpers

    /// `L H` or `L.H` pairs, checked against the model.
    static func heads(_ words: [String], _ info: ModelInfo) throws -> [(Int, Int)] {
        var numbers: [String] = []
        for w in words {
            if w.contains(".") {
                let parts = w.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2 else { throw StepwiseError.usage("'\(w)' is not a head: write LAYER.HEAD, e.g. 0.3") }
                numbers += parts
            } else {
                numbers.append(w)
            }
        }
        guard !numbers.isEmpty else { throw StepwiseError.usage("give a layer and a head, e.g. 'ablate 0 3' or 'ablate 0.3'") }
        guard numbers.count % 2 == 0 else {
            throw StepwiseError.usage("heads come in pairs LAYER HEAD; '\(numbers.last!)' has no partner")
        }
        return try stride(from: 0, to: numbers.count, by: 2).map { i in
            (try Arguments.int(numbers[i], "layer", range: 0...(info.layers - 1)),
             try Arguments.int(numbers[i + 1], "head", range: 0...(info.heads - 1)))
        }
    }

    /// One line naming the ablated heads and the steering vectors, or nil when there are none (used by
    /// `info` and `where` too).
    static func ablationNote(_ session: Session) -> String? {
        guard !session.interventions.isEmpty else { return nil }
        var heads: [String] = [], steers: [String] = []
        for i in session.interventions {
            switch i {
            case let .ablateHead(l, h, mode): heads.append("\(l).\(h) (\(mode.rawValue))")
            case let .steer(v): steers.append(v.summary)
            }
        }
        var parts: [String] = []
        if !heads.isEmpty { parts.append("ablated heads: " + heads.joined(separator: ", ")) }
        if !steers.isEmpty { parts.append("steering: " + steers.joined(separator: "; ")) }
        return parts.joined(separator: "; ") + " — 'restore' undoes"
    }

    static func p(_ x: Float) -> String { String(format: "%.3f", x) }

    // MARK: - weights

    static let weights = Command(
        "weights", usage: "weights LAYER HEAD [q|k|v|o]",
        summary: "one head's W_Q, W_K, W_V, W_O (shapes, norms, tables) and its QK and OV circuits on the vocabulary",
        help: """
            Shows the head's slices of the attention weights in TransformerLens's orientation (x · W_Q): \
            W_Q, W_K, W_V [d_model, d_head] and W_O [d_head, d_model], with Frobenius norms and biases. \
            Then the circuits of 'A Mathematical Framework for Transformer Circuits' through the token embedding \
            only (no layer norms, positions or earlier layers): the QK circuit W_E W_Q (W_E W_K)ᵀ / √d_head \
            (which key token a query token prefers) and the OV circuit W_E W_V W_O W_U (which output logit a \
            source token raises), both on the first 1000 non-special token ids, with the OV copying score \
            Σλ/Σ|λ| over its eigenvalues. Under grouped-query attention W_K and W_V are the shared key/value \
            head's; with RoPE the QK circuit shown is the one at distance 0. A fourth word shows one matrix whole.
            """,
        examples: ["weights 0 1", "weights 0.1", "weights 3 2 o"],
        completion: .layerHead(then: ["q", "k", "v", "o"])
    ) { session, context, rest in
        try session.refuseEncoderDecoder("weights", "its per-head weights are not wired up yet; 'show decoder.0.cross_attn.hook_q' and the other steps show what each head computes")
        let model = try session.requireModel()
        guard let provider = model as? any HeadWeightsProviding else {
            throw StepwiseError(.unsupported, "\(model.info.family) models do not expose per-head weights")
        }
        var words = try Arguments.split(rest)
        var which: String?
        if let last = words.last, ["q", "k", "v", "o"].contains(last.lowercased()) {
            which = last.lowercased()
            words.removeLast()
        }
        let pairs = try heads(words, model.info)
        guard pairs.count == 1 else { throw StepwiseError.usage("weights shows one head: 'weights 0 1'") }
        let (L, H) = pairs[0]
        let w = provider.headWeights(layer: L, head: H)
        var o = StepRenderer.options(session, context)
        let dm = Axis("d_model"), dh = Axis("d_head")
        let mats: [(String, Tensor, [Axis], Tensor?)] = [("W_Q", w.wQ, [dm, dh], w.bQ), ("W_K", w.wK, [dm, dh], w.bK),
                                                         ("W_V", w.wV, [dm, dh], w.bV), ("W_O", w.wO, [dh, dm], nil)]
        if let which {
            let m = mats.first { $0.0.lowercased() == "w_" + which }!
            return Prose.wrap("\(m.0) of head \(L).\(H)  [\(m.1.shape.map(String.init).joined(separator: ", "))]  ‖\(m.0)‖_F = \(p(Circuits.frobenius(m.1)))", width: o.width)
                + TableView.render(m.1, axes: m.2, options: o, name: m.0)
        }
        let info = model.info
        let width = o.width
        var lines = Prose.wrap("Head \(L).\(H) of \(info.name) (\(info.family)): d_model \(w.dModel), d_head \(w.dHead)", width: width)
        if info.kvHeads != info.heads {
            let g = info.heads / info.kvHeads
            lines += Prose.wrap("grouped-query: W_K and W_V belong to key/value head \(w.kvHead), shared by query heads \(w.kvHead * g)–\(w.kvHead * g + g - 1)", width: width)
        }
        for (name, t, _, b) in mats {
            let shape = name == "W_O" ? "[d_head \(w.dHead), d_model \(w.dModel)]" : "[d_model \(w.dModel), d_head \(w.dHead)]"
            let bias = b.map { "   b_\(name.dropFirst(2)) ‖·‖ = \(p(Circuits.frobenius($0)))" } ?? ""
            lines += Prose.wrap("\(name) \(shape)   ‖\(name)‖_F = \(p(Circuits.frobenius(t)))" + bias, width: width, first: "  ", rest: "    ")
        }
        if let bO = w.bO {
            lines += Prose.wrap("b_O [d_model \(w.dModel)] (shared by the layer's heads)   ‖b_O‖ = \(p(Circuits.frobenius(bO)))", width: width, first: "  ", rest: "    ")
        }
        o.maxRows = o.maxRows == 0 ? 6 : min(o.maxRows, 6)
        for (name, t, axes, _) in mats {
            lines.append("")
            lines += Prose.wrap("\(name) (first rows; 'weights \(L) \(H) \(name.dropFirst(2).lowercased())' shows it whole)", width: width)
            lines += TableView.render(t, axes: axes, options: o, name: name)
        }
        let tok = model.tokenizer
        let subset = Circuits.tokenSubset(vocabularySize: info.vocabularySize, specials: tok.specialTokens, count: 1000)
        let range = subset.count == info.vocabularySize ? "all \(subset.count) tokens"
            : "\(subset.count) of \(info.vocabularySize) tokens (ids \(subset.first!)–\(subset.last!), specials skipped; the full matrix would be \(info.vocabularySize)²)"
        func pair(_ t: Circuits.TokenPair, _ arrow: String) -> String {
            "\(tok.label(for: t.from)) \(arrow) \(tok.label(for: t.to))  \(String(format: "%.3f", t.value))"
        }
        lines.append("")
        lines += Prose.wrap("QK circuit W_E W_Q (W_E W_K)ᵀ / √d_head on \(range): the pairs it scores highest (query → key)", width: width)
        if w.rotary {
            lines += Prose.wrap("RoPE: q and k are rotated by position, so real scores also depend on the distance; this is the circuit at distance 0",
                                width: width, first: "  ")
        }
        lines += Prose.wrap("direct path only: token embeddings, no layer norm, positions or earlier layers", width: width, first: "  ")
        let embedded = provider.tokenEmbeddings(subset)
        let qk = Circuits.qkSummary(w, embedding: embedded, tokens: subset)
        lines += qk.top.map { "  " + pair($0, "→") }
        if let u = model as? any Unembedding {
            let ov = Circuits.ovSummary(w, embedding: embedded, unembedding: u.unembeddingRows(subset), tokens: subset)
            lines.append("")
            lines += Prose.wrap("OV circuit W_E W_V W_O W_U on the same tokens: source token ⇒ the logit it raises most", width: width)
            lines += ov.circuit.top.map { "  " + pair($0, "⇒") }
            lines += Prose.wrap("copying score Σλ/Σ|λ| = \(String(format: "%.3f", ov.copyingScore)) (1: copies, −1: suppresses); "
                                + "\(String(format: "%.0f", ov.positiveFraction * 100))% of its \(ov.eigenvalues.count) eigenvalues have a positive real part; "
                                + "\(String(format: "%.0f", ov.selfTopFraction * 100))% of source tokens raise their own logit most",
                                width: width, first: "  ")
        } else {
            lines.append("")
            lines += Prose.wrap("OV circuit: \(info.family) has no unembedding (an encoder has no logits), so there is no token → logit circuit", width: width)
        }
        return lines
    }

    // MARK: - detect

    static let detect = Command(
        "detect", usage: "detect [previous|duplicate|induction|first] [prompt]",
        summary: "score every head for previous-token, duplicate-token, induction and first-token (sink) attention",
        help: """
            Alone: scores every head of the current prompt for all four behaviours and draws one layer × head \
            table whose cells name each head's strongest behaviour (P previous, D duplicate, I induction, \
            S sink) when it scores at least 0.4. With a behaviour: a table of that score for every head, on a \
            prompt of 40 random tokens repeated twice (seeded; BOS first if the tokenizer adds one), so \
            induction and duplicate heads have something to find; add 'prompt' to use the current prompt instead. \
            A score is the fraction of the head's attention that falls where the behaviour says, over the query \
            positions where it can (TransformerLens's detect_head 'mul' measure; its own number divides by every \
            position and is given below the table). * marks heads scoring 0.4 or more. 'set view heatmap' draws a heatmap.
            """,
        examples: ["detect", "detect induction", "detect previous prompt", "detect first"]
    ) { session, context, rest in
        try session.refuseEncoderDecoder("detect", "the head detectors are defined on one sequence; 'heads encoder 0', 'heads decoder 0' and 'heads cross 0' show every head's pattern")
        let model = try session.requireModel()
        let info = model.info
        let words = try Arguments.split(rest)
        guard words.count <= 2 else { throw StepwiseError.usage("usage: detect [previous|duplicate|induction|first] [prompt]") }
        if words.isEmpty {
            let trace = try currentFullTrace(&session, model)
            return try summary(trace, info: info, session: session, width: StepRenderer.options(session, context).width)
        }
        guard let kind = HeadDetector.Kind(name: words[0]) else {
            throw StepwiseError.usage("unknown behaviour '\(words[0])': previous, duplicate, induction or first")
        }
        if words.count == 2 && words[1] != "prompt" {
            throw StepwiseError.usage("unexpected '\(words[1])': 'detect \(kind.rawValue) prompt' scores the current prompt")
        }
        let trace: Trace
        var lines: [String] = []
        let width = StepRenderer.options(session, context).width
        if words.count == 2 {
            trace = try currentFullTrace(&session, model)
            lines += Prose.wrap("\(kind.rawValue) score on the current prompt (\(trace.tokenIDs.count) tokens): \(kind.explanation)", width: width)
        } else {
            let bos = model.tokenizer.specialTokens.addBOS && model.tokenizer.specialTokens.bos != nil ? 1 : 0
            let length = min(40, ((info.contextLength ?? 81) - bos) / 2)
            guard length >= 2 else { throw StepwiseError(.model, "the model's context is too short for a repeated prompt") }
            let ids = HeadDetector.repeatedRandomPrompt(vocabularySize: info.vocabularySize, specials: model.tokenizer.specialTokens,
                                                        length: length)
            trace = try model.trace(ids, options: session.forwardOptions(context: context))
            lines += Prose.wrap("\(kind.rawValue) score on \(length) random tokens repeated twice\(bos == 1 ? " after BOS" : "") (\(ids.count) tokens, seed 0): \(kind.explanation)", width: width)
        }
        if let note = ablationNote(session) { lines += Prose.wrap("(with \(note))", width: width) }
        let scores = try HeadDetector.scores(kind, trace: trace, layers: info.layers)
        lines += table(scores, session: session, context: context)
        let flat = scores.enumerated().flatMap { l, row in row.enumerated().map { (l, $0, $1) } }
        let best = flat.sorted { $0.2.value > $1.2.value }.prefix(5)
        lines += Prose.wrap("best: " + best.map { "\($0.0).\($0.1) \(p($0.2.value))" }.joined(separator: ", "), width: width)
        if let s = flat.first?.2, s.rows != s.allRows {
            lines += Prose.wrap("scored over the \(s.rows) of \(s.allRows) query positions where the pattern applies; "
                                + "TransformerLens's detect_head divides by all \(s.allRows): best head \(p(best.first!.2.transformerLens))", width: width)
        }
        return lines
    }

    /// The session's trace if it is a full recorded pass over the prompt, else a fresh one.
    static func currentFullTrace(_ session: inout Session, _ model: any LanguageModel) throws -> Trace {
        let trace = try session.requireTrace()
        if trace.tokenIDs == session.ids, trace[HookName.pattern(layer: 0).name] != nil { return trace }
        return try model.trace(session.ids, options: session.forwardOptions())
    }

    /// A layer × head table of scores, `*` on those ≥ 0.4 (or a heatmap with `set view heatmap`).
    static func table(_ scores: [[HeadDetector.Score]], session: Session, context: CommandContext) -> [String] {
        let heads = scores.first?.count ?? 0
        if session.settings.view == .heatmap {
            let t = Tensor(shape: [scores.count, heads], data: scores.flatMap { $0.map(\.value) })
            return HeatmapView.render(t, axes: [Axis("layer"), Axis("head")], options: StepRenderer.options(session, context), range: 0...1)
        }
        let lw = max(5, String(scores.count - 1).count)
        var lines = ["layer".padding(toLength: lw, withPad: " ", startingAt: 0) + (0..<heads).map { "h\($0)".leftPadded(7) }.joined()]
        for (l, row) in scores.enumerated() {
            lines.append(String(l).leftPadded(lw) + row.map { s in
                (p(s.value) + (s.value >= 0.4 ? "*" : " ")).leftPadded(7)
            }.joined())
        }
        return lines
    }

    /// One table over all behaviours: each cell names the head's strongest behaviour (≥ 0.4).
    static func summary(_ trace: Trace, info: ModelInfo, session: Session, width: Int) throws -> [String] {
        let kinds = HeadDetector.Kind.allCases
        let all = try kinds.map { try HeadDetector.scores($0, trace: trace, layers: info.layers) }
        var lines = Prose.wrap("Head behaviours on the current prompt (\(trace.tokenIDs.count) tokens): each cell is the strongest score "
                               + "≥ 0.4 — P previous token, D duplicate token, I induction, S first token (sink); · none", width: width)
        if let note = ablationNote(session) { lines += Prose.wrap("(with \(note))", width: width) }
        let lw = 5
        lines.append("layer" + (0..<info.heads).map { "h\($0)".leftPadded(7) }.joined())
        for l in 0..<info.layers {
            var row = String(l).leftPadded(lw)
            for h in 0..<info.heads {
                let best = kinds.indices.max { all[$0][l][h].value < all[$1][l][h].value }!
                let v = all[best][l][h].value
                row += (v >= 0.4 ? kinds[best].letter + String(format: "%.2f", v) : "·").leftPadded(7)
            }
            lines.append(row)
        }
        for (i, kind) in kinds.enumerated() {
            let flat = all[i].enumerated().flatMap { l, row in row.enumerated().map { (l, $0, $1.value) } }
            let rows = all[i].first?.first?.rows ?? 0
            guard rows > 0 else {
                lines += Prose.wrap("\(kind.rawValue): nothing to find in this prompt (no repeated tokens); try 'detect \(kind.rawValue)'", width: width)
                continue
            }
            let best = flat.sorted { $0.2 > $1.2 }.prefix(3)
            lines.append("\(kind.rawValue): " + best.map { "\($0.0).\($0.1) \(p($0.2))" }.joined(separator: ", "))
        }
        return lines
    }

    // MARK: - ablate / restore

    static let ablate = Command(
        "ablate", usage: "ablate LAYER HEAD [LAYER HEAD ...] [zero|mean]",
        summary: "switch heads off (output z replaced by 0 or its mean over positions), re-run, show what changed",
        help: """
            Heads are LAYER HEAD pairs or LAYER.HEAD. zero (the default) replaces the head's z with zeros, mean \
            with its mean over the prompt's positions; either way before W_O. The ablation stays for every later \
            'prompt' until 'restore'. Shows the top predictions before and after, and how the originally most \
            likely token's logit and probability moved.
            """,
        examples: ["ablate 0 1", "ablate 0 1 0 3", "ablate 0.1 0.3 mean"],
        completion: .headPairs(extra: ["zero", "mean"])
    ) { session, context, rest in
        try session.refuseEncoderDecoder("ablate", "head ablation is wired to decoder-only and encoder models; 'patch'-style edits of its steps are not supported yet")
        let model = try session.requireModel()
        var words = try Arguments.split(rest)
        var mode = AblationMode.zero
        if let last = words.last, last.contains(where: \.isLetter) {
            guard let m = AblationMode(rawValue: last.lowercased()) else {
                throw StepwiseError.usage("unknown ablation mode '\(last)': zero or mean")
            }
            mode = m
            words.removeLast()
        }
        let pairs = try heads(words, model.info)
        var new = session.interventions
        for (l, h) in pairs {
            new.removeAll { if case let .ablateHead(l2, h2, _) = $0 { return l2 == l && h2 == h }; return false }
            new.append(.ablateHead(layer: l, head: h, mode: mode))
        }
        let what = "ablated " + pairs.map { "\($0.0).\($0.1)" }.joined(separator: ", ") + " (\(mode.rawValue))"
        return try rerun(&session, model, interventions: new, what: what, context: context)
    }

    static let restore = Command(
        "restore", usage: "restore [LAYER HEAD ... | steer]",
        summary: "undo ablations and steering: all of them, the heads named, or every steer; re-runs and shows what changed",
        examples: ["restore", "restore 0 1", "restore 0.3", "restore steer"],
        completion: .headPairs(extra: ["steer"])
    ) { session, context, rest in
        let model = try session.requireModel()
        let words = try Arguments.split(rest)
        guard !session.interventions.isEmpty else { return ["nothing to restore: no head is ablated"] }
        var new = session.interventions
        let what: String
        let hadSteers = session.interventions.contains(where: \.isSteer)
        if words.isEmpty {
            new = []
            what = hadSteers ? (session.interventions.allSatisfy(\.isSteer) ? "removed every steering vector"
                                : "restored every head and removed every steering vector") : "restored every head"
        } else if words == ["steer"] {
            guard hadSteers else { throw StepwiseError.usage("nothing is steered (\(ablationNote(session)!))") }
            new.removeAll(where: \.isSteer)
            what = "removed every steering vector"
        } else {
            let pairs = try heads(words, model.info)
            for (l, h) in pairs {
                guard new.ablation(layer: l, head: h) != nil else {
                    throw StepwiseError.usage("head \(l).\(h) is not ablated (\(ablationNote(session)!))")
                }
                new.removeAll { if case let .ablateHead(l2, h2, _) = $0 { return l2 == l && h2 == h }; return false }
            }
            what = "restored " + pairs.map { "\($0.0).\($0.1)" }.joined(separator: ", ")
        }
        return try rerun(&session, model, interventions: new, what: what, context: context)
    }

    /// Sets the interventions, re-runs the prompt (when there is one) and compares the predictions.
    static func rerun(_ session: inout Session, _ model: any LanguageModel, interventions: [Intervention], what: String,
                      context: CommandContext) throws -> [String] {
        guard !session.ids.isEmpty, session.trace != nil else {
            session.interventions = interventions
            return [what + "; no prompt yet, so nothing re-ran ('prompt TEXT' will use it)"]
        }
        let tok = model.tokenizer
        let before = try model.trace(session.ids, options: session.forwardOptions(record: false, context: context))
        let after = try model.trace(session.ids, options: session.forwardOptions(interventions: interventions, context: context))
        let removedSteer = session.interventions.contains(where: \.isSteer) && !interventions.contains(where: \.isSteer)
        session.interventions = interventions
        session.trace = after
        session.history = []
        session.future = []
        session.cursor = min(session.cursor, after.steps.count - 1)
        let width = StepRenderer.options(session, context).width
        var lines = Prose.wrap(what + "; re-ran the prompt (\(session.ids.count) tokens)", width: width)
        lines += Prose.wrap(ablationNote(session) ?? (removedSteer ? "nothing is steered or ablated now" : "no head is ablated now"), width: width)
        guard let lb = before.logitsRow(), let la = after.logitsRow() else {
            lines.append("an encoder has no next-token prediction: 'show' the steps to see what changed")
            return lines
        }
        let k = 5
        let tb = Predictions.top(before, tokenizer: tok, k: k), ta = Predictions.top(after, tokenizer: tok, k: k)
        let lw = max(8, (tb + ta).map { TextWidth.of($0.label) }.max() ?? 0)
        func cell(_ x: Predictions.Prediction) -> String { TextWidth.padRight(x.label, lw) + " " + p(x.probability) }
        lines.append("rank  " + TextWidth.padRight("before", lw + 6) + "   after")
        for i in 0..<min(tb.count, ta.count) {
            lines.append(String(i + 1).leftPadded(4) + "  " + cell(tb[i]) + "   " + cell(ta[i]))
        }
        let top = tb[0].id
        let vb = lb.data[top], va = la.data[top]
        let pa = la.softmax().data[top]
        lines += Prose.wrap("\(tb[0].label): logit \(p(vb)) → \(p(va)) (Δ \(String(format: "%+.3f", va - vb))), p \(p(tb[0].probability)) → \(p(pa))"
                            + (ta[0].id == top ? "; still the top prediction" : "; the top prediction is now \(ta[0].label)"), width: width)
        return lines
    }

    // MARK: - lens

    static let lens = Command(
        "lens", usage: "lens [POS]",
        summary: "logit lens: the top next-token guess read from the residual stream after every layer",
        help: """
            Applies the model's final norm and unembedding to the residual stream at the embedding \
            (blocks.0.hook_resid_pre) and after each block (blocks.L.hook_resid_post): what the model would \
            predict if it stopped there. The last row is the model's own prediction. Without POS: a table of \
            rows (embed, layer 0 …) by positions (the last ones that fit), each cell the top token and its \
            probability. With POS (negative counts from the end): the top 5 at every layer for that position.
            """,
        examples: ["lens", "lens -1", "lens 3"]
    ) { session, context, rest in
        try session.refuseEncoderDecoder("lens", "the logit lens reads one stack's residual stream; 'show decoder.0.hook_resid_post' shows the decoder's")
        let model = try session.requireModel()
        guard let u = model as? any Unembedding else {
            throw StepwiseError(.model, "\(model.info.name) is an encoder (\(model.info.family)) with no unembedding: it has no logits, so there is no logit lens")
        }
        let trace = try session.requireTrace()
        let t = trace.tokenIDs.count
        let words = try Arguments.split(rest)
        guard words.count <= 1 else { throw StepwiseError.usage("usage: lens [POS]") }
        var pos: Int?
        if let w = words.first {
            guard let n = Int(w) else { throw StepwiseError.usage("position must be a whole number, got '\(w)'") }
            guard n >= -t && n < t else { throw StepwiseError(.model, "position \(n) is out of range (0–\(t - 1), or −1 for the last)") }
            pos = n < 0 ? t + n : n
        }
        let rows = try LogitLens.read(trace, model: u, k: pos == nil ? 1 : 5)
        let labels = trace.positionLabels
        let width = StepRenderer.options(session, context).width
        let headW = rows.map { $0.label.count }.max()! + 1
        if let pos {
            var lines = Prose.wrap("Logit lens at position \(pos) \(labels[pos]): top 5 read from the residual stream (final norm + unembedding)", width: width)
            for r in rows {
                // As many whole cells as fit the width (the first always).
                var line = r.label.padding(toLength: headW, withPad: " ", startingAt: 0)
                for (i, x) in r.top[pos].enumerated() {
                    let cell = (i == 0 ? " " : "  ") + "\(x.label) \(p(x.probability))"
                    if i > 0 && TextWidth.of(line + cell) > width { break }
                    line += cell
                }
                lines.append(line)
            }
            return lines
        }
        let cellW = 14
        let fit = max(1, (width - headW - 2) / (cellW + 1))
        let shown = Array(max(0, t - fit)..<t)
        var lines = Prose.wrap("Logit lens: top next-token guess (probability) from the residual stream at each layer; last row = the model's output", width: width)
        if shown.count < t { lines += Prose.wrap("positions 0–\(shown[0] - 1) left out to fit; 'lens POS' shows one position", width: width) }
        func cell(_ s: String) -> String { TextWidth.padRight(TextWidth.truncate(s, to: cellW, ellipsis: "…"), cellW) }
        lines.append(String(repeating: " ", count: headW) + " " + shown.map { cell("\($0) \(labels[$0])") }.joined(separator: " "))
        for r in rows {
            let cells = shown.map { i -> String in
                let best = r.top[i][0]
                let prob = String(format: "%.2f", best.probability)
                let label = TextWidth.truncate(best.label, to: cellW - prob.count - 1, ellipsis: "…")
                return cell(label + " " + prob)
            }
            lines.append(TextWidth.trimTrailing(r.label.padding(toLength: headW, withPad: " ", startingAt: 0) + " " + cells.joined(separator: " ")))
        }
        return lines
    }

    // MARK: - attribute

    static let attribute = Command(
        "attribute", usage: "attribute \"A\" [\"B\"]",
        summary: "direct logit attribution: what each head, MLP, embedding and bias adds to token A's logit (or A − B) at the last position",
        help: """
            Splits the logit of token A at the last position of the current prompt (or the difference A − B) into \
            TransformerLens's get_full_resid_decomposition terms: L{l}H{h} for each head's result, {l}_mlp_out for \
            each MLP, embed, pos_embed (where the model has one) and bias (the attention output biases plus the \
            final norm's bias). Each term is the component's output at the last position, centred (LayerNorm models) \
            and divided by the final norm's scale from this run, times the final norm's weight, dotted with \
            W_U[:, A] − W_U[:, B]; the terms add up to the logit (difference). A and B are quoted text that is \
            exactly one token, leading space included (" Woodhouse"). The result is the step 'attribution' \
            (axis component), drawn as a bar table sorted by value, which 'show' and 'export' read like any step.
            """,
        examples: ["attribute \" Bennet\"", "attribute \" Bennet\" \" Darcy\""]
    ) { session, context, rest in
        try session.refuseEncoderDecoder("attribute", "direct logit attribution decomposes one stack's residual stream; compare 'top' across prompts instead")
        let model = try session.requireModel()
        guard let m = model as? any LogitAttributing else {
            throw StepwiseError(.model, "\(model.info.name) is an encoder (\(model.info.family)) with no unembedding: it has no logits to attribute")
        }
        let words = try Arguments.split(rest)
        guard (1...2).contains(words.count) else {
            throw StepwiseError.usage("usage: attribute \"A\" [\"B\"], each one token, e.g. attribute \" Bennet\" \" Darcy\"")
        }
        let tok = model.tokenizer
        let a = try singleToken(words[0], tok)
        let b = try words.count == 2 ? singleToken(words[1], tok) : nil
        var trace = try currentFullTrace(&session, model)
        // A fresh pass (the session's trace was not a full one over the prompt) replaces the trace.
        let fresh = session.trace.map { $0.tokenIDs != trace.tokenIDs || $0.steps.count != trace.steps.count } ?? true
        let r = try Attribution.decompose(trace, model: m, a: a, b: b)
        let what = "logit(\(tok.label(for: a)))" + (b.map { " − logit(\(tok.label(for: $0)))" } ?? "")
        trace.record(Attribution.step(r, what: what))
        if fresh {
            session.history = []
            session.future = []
        }
        session.trace = trace
        session.cursor = min(session.cursor, trace.steps.count - 1)
        let last = trace.tokenIDs.count - 1
        let width = StepRenderer.options(session, context).width
        var lines = Prose.wrap("Direct logit attribution of \(what) at the last position, \(last) \(trace.positionLabels[last]): "
                               + "each component's output through the final norm (this run's scale) and W_U", width: width)
        if let note = ablationNote(session) { lines += Prose.wrap("(with \(note))", width: width) }
        let items = r.terms.sorted { $0.value > $1.value }
        lines += signedBars(items.map { ($0.label, $0.value) }, options: StepRenderer.options(session, context))
        let diff = abs(r.sum - r.logit)
        lines += Prose.wrap("the \(r.terms.count) terms sum to \(String(format: "%.4f", r.sum)); the model's \(b == nil ? "logit" : "logit difference") is "
                            + "\(String(format: "%.4f", r.logit))" + (diff <= 1e-4 * max(1, abs(r.logit)) ? " (equal to float precision)"
                                : " — they differ by \(String(format: "%.2g", diff)): a patch changes the stream outside these components")
                            + "; recorded as step 'attribution' ('show attribution', 'export attribution FILE')", width: width)
        return lines
    }

    /// The id of `text` when it is exactly one token, else an error showing how it tokenizes.
    static func singleToken(_ text: String, _ tok: any Tokenizer) throws -> Int {
        let ids = try tok.encode(text)
        guard ids.count == 1 else {
            let pieces = ids.map { tok.label(for: $0) }.joined(separator: " ")
            throw StepwiseError.usage("\(text.debugDescription) is \(ids.count) tokens (\(pieces.isEmpty ? "none" : pieces)); "
                                      + "give text that is exactly one token, leading space included, e.g. \" Woodhouse\"")
        }
        return ids[0]
    }

    /// Signed bars around one axis: negative values to the left of `│`, positive to the right, scaled to the largest |value|.
    static func signedBars(_ items: [(label: String, value: Float)], options o: ViewOptions) -> [String] {
        let labelW = items.map { TextWidth.of($0.label) }.max() ?? 0
        let texts = items.map { String(format: "%+.4f", $0.value) }
        let valueW = texts.map(\.count).max() ?? 0
        let half = max(2, (min(o.width, Prose.readableWidth) - TableView.margin.count - labelW - valueW - 5) / 2)
        let top = items.map { abs($0.value) }.filter(\.isFinite).max() ?? 0
        let axis = o.unicode ? "│" : "|"
        return zip(items, texts).map { item, text in
            let units = top > 0 && item.value.isFinite ? abs(item.value) / top * Float(half) : 0
            let bar = BarView.bar(units, unicode: o.unicode)
            let left = item.value < 0 ? TextWidth.padLeft(bar, half) : String(repeating: " ", count: half)
            let right = item.value < 0 ? String(repeating: " ", count: half) : TextWidth.padRight(bar, half)
            return TableView.fit(TextWidth.trimTrailing(TableView.margin + TextWidth.padRight(item.label, labelW) + "  " + left + axis + right
                                                        + "  " + TextWidth.padLeft(text, valueW)), o)
        }
    }

    // MARK: - patch

    static let patch = Command(
        "patch", usage: "patch resid_pre|attn_out|mlp_out|z|pattern \"CLEAN\" \"CORRUPTED\" \"A\" \"B\"",
        summary: "activation patching: copy one clean activation into the corrupted run and see how much of logit(A) − logit(B) comes back",
        help: """
            TransformerLens's denoising convention: runs the corrupted prompt with one activation of the clean \
            prompt copied in, for every layer and position (resid_pre, attn_out, mlp_out) or every layer and head \
            (z, pattern: all positions of that head), and scores m = logit(A) − logit(B) at the last position as \
            (m − m_corrupted) / (m_clean − m_corrupted): 1 restores the clean prediction, 0 does nothing. The two \
            prompts must have the same number of tokens; A and B are quoted text of exactly one token each. The \
            result is the step 'patching', drawn as a heatmap; 'show patching' and 'export patching FILE' read it. \
            Ctrl-C stops a long sweep.
            """,
        examples: ["patch resid_pre \"Mr. Darcy bowed to Miss Bennet, and Mr. Darcy bowed to Miss\" \"Mr. Darcy bowed to Miss Lucas, and Mr. Darcy bowed to Miss\" \" Bennet\" \" Lucas\""]
    ) { session, context, rest in
        try session.refuseEncoderDecoder("patch", "activation patching needs clean and corrupted runs of one sequence; change the source with 'source' and compare 'top'")
        let model = try session.requireModel()
        let words = try Arguments.split(rest)
        guard words.count == 5 else {
            throw StepwiseError.usage("usage: patch KIND \"CLEAN\" \"CORRUPTED\" \"A\" \"B\" (KIND: resid_pre, attn_out, mlp_out, z or pattern)")
        }
        guard let kind = ActivationPatching.Kind(rawValue: words[0]) else {
            throw StepwiseError.usage("unknown kind '\(words[0])': resid_pre, attn_out, mlp_out, z or pattern")
        }
        guard model.info.isCausal, model is any Unembedding else {
            throw StepwiseError(.model, "\(model.info.name) is an encoder (\(model.info.family)) with no logits: there is no logit difference to patch")
        }
        let tok = model.tokenizer
        let clean = try tok.encodeForModel(words[1]), corrupted = try tok.encodeForModel(words[2])
        let a = try singleToken(words[3], tok), b = try singleToken(words[4], tok)
        if clean.count != corrupted.count {
            let show = { (ids: [Int]) in ids.map { tok.label(for: $0) }.joined(separator: " ") }
            throw StepwiseError.usage("the clean prompt is \(clean.count) tokens (\(show(clean))) and the corrupted one \(corrupted.count) (\(show(corrupted))): patching needs the same number")
        }
        let total = model.info.layers * (kind.byHead ? model.info.heads : clean.count)
        let step = max(1, total / 10)
        let r = try ActivationPatching.run(model: model, clean: clean, corrupted: corrupted, a: a, b: b, kind: kind,
                                           options: session.forwardOptions(record: false, context: context)) { done, all in
            if context.interactive && all >= 50 && (done % step == 0) && done < all { context.emit("patching: \(done)/\(all) runs") }
        }
        let layerAxis = Axis("layer")
        let second = kind.byHead ? Axis("head") : Axis("pos", labels: zip(clean, corrupted).map { c, k in
            c == k ? tok.label(for: c) : tok.label(for: c) + "/" + tok.label(for: k)
        })
        let what = "(m − m_corrupted) / (m_clean − m_corrupted), m = logit(\(tok.label(for: a))) − logit(\(tok.label(for: b)))"
        let result = Step(name: "patching", title: "Activation patching (\(kind.rawValue))",
                          formula: what,
                          explanation: "How much of the clean prompt's logit difference comes back when one clean \(kind.byHead ? "head's" : "position's") \(kind.rawValue) is copied into the corrupted run (1: all of it, 0: none).",
                          tensor: r.values, axes: [layerAxis, second])
        var trace = session.trace ?? Trace(tokenIDs: clean, positionLabels: clean.map { tok.label(for: $0) })
        trace.record(result)
        session.trace = trace
        let width = StepRenderer.options(session, context).width
        var lines = Prose.wrap("Activation patching of \(kind.rawValue) (\(kind.byHead ? "layer × head, every position of the head" : "layer × position")): "
                               + "each cell is (m − m_corrupted) / (m_clean − m_corrupted)", width: width)
        lines += Prose.wrap("m = logit(\(tok.label(for: a))) − logit(\(tok.label(for: b))) at the last position: "
                            + "\(String(format: "%.3f", r.cleanMetric)) clean, \(String(format: "%.3f", r.corruptedMetric)) corrupted", width: width)
        if let note = ablationNote(session) { lines += Prose.wrap("(with \(note))", width: width) }
        lines += HeatmapView.render(r.values, axes: [layerAxis, second], options: StepRenderer.options(session, context))
        let cells = r.values.data.enumerated().sorted { $0.element > $1.element }.prefix(3).map { i, v in
            "layer \(i / r.values.shape[1]) \(kind.byHead ? "head" : "pos") \(i % r.values.shape[1]) \(p(v))"
        }
        lines += Prose.wrap("largest: " + cells.joined(separator: ", "), width: width)
        lines += Prose.wrap("recorded as step 'patching' ('show patching', 'export patching FILE')", width: width)
        return lines
    }
}
