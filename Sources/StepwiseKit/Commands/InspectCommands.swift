import Foundation

/// Looking at tensors: `show`, `attn`, `heads`, `embed`, `ffn`, `logits`, `top`.
enum InspectCommands {
    static let show = Command(
        "show", usage: "show NAME[slices]",
        summary: "print a step's tensor, whole or sliced (show blocks.0.attn.hook_q[:, 2, :8], show pattern 0 head 3)",
        help: """
            NAME is a hook name (see 'steps') or a short form with a layer: embed, pos_embed, resid_pre L, \
            q L, k L, v L, scores L, pattern L, z L, result L, attn_out L, resid_mid L, pre L, post L, \
            mlp_out L, resid_post L, ln1 L, ln_final, logits. Slices are NumPy-style, one per axis: \
            [:, 2, :8], [-1], [1:4]. 'head H' after a layer picks one head; a slice after it picks that \
            head's query and key positions. Sliced rows keep their position numbers.
            """,
        examples: ["show blocks.0.attn.hook_q[:, 2, :8]", "show pattern 0 head 3", "show pattern 1 head 2[-4:, :8]",
                   "show resid_post 1[-1]", "show logits[-1, :10]"],
        completion: .steps
    ) { session, context, rest in
        let trace = try session.requireTrace()
        let q = try StepQuery.parse(rest, in: trace)
        let step = trace[q.name]!
        let index = trace.position(of: q.name)!
        return StepRenderer.render(step, index: index, of: trace.steps.count, selections: q.selections,
                                   session: session, context: context)
    }

    static func layerAndHead(_ rest: String, _ session: Session, needHead: Bool) throws -> (Int, Int?) {
        let model = try session.requireModel()
        let words = try Arguments.split(rest)
        guard !words.isEmpty else { throw StepwiseError.usage(needHead ? "give a layer and a head: 'attn 0 3'" : "give a layer: 'ffn 0'") }
        let L = try Arguments.int(words[0], "layer", range: 0...(model.info.layers - 1))
        var H: Int?
        if words.count >= 2 {
            H = try Arguments.int(words[1], "head", range: 0...(model.info.heads - 1))
        } else if needHead {
            throw StepwiseError.usage("give a head too: 'attn \(L) 0' (heads 0–\(model.info.heads - 1))")
        }
        guard words.count <= 2 else { throw StepwiseError.usage("unexpected '\(words[2...].joined(separator: " "))'") }
        return (L, H)
    }

    static let attn = Command(
        "attn", usage: "attn LAYER HEAD [STAGE|all]",
        summary: "one head's computation: a summary of its stages (Q, K, V, scores, mask, pattern, weighted sum), one stage, or all",
        help: """
            Alone it prints a summary that fits one screen: each stage's formula and shape, and where the last \
            position looks. 'attn L H N' shows stage N in full (the head's slice of that step), with the command \
            for the next one; 'attn L H all' prints every stage one after the other.
            """,
        examples: ["attn 0 1", "attn 0 1 3", "attn 1 3 all"],
        completion: .layerHead(then: ["all"])
    ) { session, context, rest in
        let trace = try session.requireTrace()
        var words = try Arguments.split(rest)
        var which: String?
        if words.count == 3 { which = words.removeLast() }
        let (L, H) = try layerAndHead(words.joined(separator: " "), session, needHead: true)
        let h = H!
        let info = session.model!.info
        let group = info.heads / max(info.kvHeads, 1)
        let kvh = h / group
        let headSel: (String) -> [AxisSelection] = { name in
            guard let s = trace[name] else { return [] }
            let isKV = s.axes.contains { $0.name == "kv_head" }
            if let ax = s.axes.firstIndex(where: { $0.name == "head" || $0.name == "kv_head" }) {
                var sel = [AxisSelection](repeating: .all, count: ax + 1)
                sel[ax] = .index(isKV ? kvh : h)
                return sel
            }
            return []
        }
        let o = StepRenderer.options(session, context)
        var lines = Prose.wrap("Attention head \(L).\(h)" + (group > 1 ? " (reads key/value head \(kvh), shared by query heads \(kvh * group)–\(kvh * group + group - 1))" : "")
                               + " — \(info.isCausal ? "causal" : "bidirectional"), d_head \(info.dHead), scale 1/√\(info.dHead) = \(String(format: "%.4f", 1 / Float(info.dHead).squareRoot()))",
                               width: o.width)
        let order: [HookName] = [.q(layer: L), .rotQ(layer: L), .k(layer: L), .rotK(layer: L), .v(layer: L),
                                 .attnScoresUnmasked(layer: L), .attnScores(layer: L), .pattern(layer: L), .z(layer: L)]
        let stages = order.map(\.name).compactMap { trace[$0] }
        func full(_ n: Int) -> [String] {
            let step = stages[n - 1]
            return ["", "\(n). " + step.title]
                + StepRenderer.render(step, index: trace.position(of: step.name)!, of: trace.steps.count,
                                      selections: headSel(step.name), session: session, context: context, compactHeader: true)
        }
        switch which {
        case "all"?:
            for n in 1...stages.count { lines += full(n) }
            return lines
        case let w?:
            let n = try Arguments.int(w, "stage (or 'all')", range: 1...stages.count)
            lines += full(n)
            lines.append("")
            lines += Prose.wrap(n < stages.count ? "stage \(n) of \(stages.count); next: 'attn \(L) \(h) \(n + 1)'"
                                : "stage \(n) of \(stages.count), the last; 'attn \(L) \(h)' sums them up", width: o.width)
            return lines
        case nil:
            break
        }
        // The summary: one line per stage, then where the last position looks.
        let shapes = stages.map { StepRenderer.slice($0, headSel($0.name)).0.shape }
        let shapeTexts = shapes.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }
        let shapeW = shapeTexts.map(\.count).max() ?? 0
        let formulaW = max(10, o.width - 2 - 3 - 2 - shapeW)
        lines.append("")
        for (i, step) in stages.enumerated() {
            let formula = TextWidth.truncate(step.formula, to: formulaW, ellipsis: o.truncationMark)
            lines.append(TextWidth.trimTrailing("  " + String(i + 1).leftPadded(2) + ". " + TextWidth.padRight(formula, formulaW) + " " + shapeTexts[i]))
        }
        if let p = trace[HookName.pattern(layer: L).name] {
            let row = StepRenderer.slice(p, headSel(p.name)).0
            let q = row.shape[0] - 1
            let keys = row.shape[1]
            let weights = (0..<keys).map { row.data[q * keys + $0] }
            let order = weights.indices.sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }.prefix(5)
            let labels = p.axes.last?.labels ?? []
            lines.append("")
            lines += Prose.wrap("Where the last position, \(q) \(trace.positionLabels[q]), looks (its row of the pattern, "
                                + "the \(order.count) largest of \(keys) weights):", width: o.width)
            let kw = String(keys - 1).count
            var barOptions = o
            barOptions.width = min(o.width, 60)
            lines += BarView.render(items: order.map { (label: String($0).leftPadded(kw) + " " + (labels.indices.contains($0) ? labels[$0] : ""),
                                                        value: weights[$0]) },
                                    options: barOptions, maxValue: 1)
        }
        lines.append("")
        lines += Prose.wrap("'attn \(L) \(h) N' shows stage N whole (start with 'attn \(L) \(h) 1'); 'attn \(L) \(h) all' prints every stage.",
                            width: o.width)
        return lines
    }

    static let heads = Command(
        "heads", usage: "heads [LAYER]",
        summary: "every head's attention pattern side by side (default: the current step's layer, else 0)",
        examples: ["heads", "heads 1"],
        completion: .layer
    ) { session, context, rest in
        let trace = try session.requireTrace()
        let model = try session.requireModel()
        let L: Int
        if rest.isEmpty {
            L = session.currentStep?.layer ?? 0
        } else {
            L = try Arguments.int(rest, "layer", range: 0...(model.info.layers - 1))
        }
        guard let step = trace[HookName.pattern(layer: L).name] else { throw StepwiseError(.model, "no attention pattern for layer \(L)") }
        return StepRenderer.headGrid(step, layer: L, session: session, context: context)
    }

    static let embed = Command(
        "embed", usage: "embed",
        summary: "the embedding steps: token embedding, position embedding and their sum",
        examples: ["embed"]
    ) { session, context, _ in
        let trace = try session.requireTrace()
        var lines: [String] = []
        for name in ([.embed, .posEmbed, .tokenTypeEmbed, .embedSum, .residPre(layer: 0)] as [HookName]).map(\.name) {
            guard let s = trace[name] else { continue }
            if !lines.isEmpty { lines.append("") }
            lines += StepRenderer.render(s, index: trace.position(of: name)!, of: trace.steps.count, session: session, context: context)
        }
        return lines
    }

    static let ffn = Command(
        "ffn", aliases: ["mlp"], usage: "ffn LAYER",
        summary: "the feed-forward (MLP) block of a layer: norm, up-projection, activation, down-projection, residual",
        examples: ["ffn 0"],
        completion: .layer
    ) { session, context, rest in
        let trace = try session.requireTrace()
        let (L, _) = try layerAndHead(rest, session, needHead: false)
        var lines: [String] = []
        let hooks: [HookName] = [.normOut(.ln2(layer: L)), .mlpPre(layer: L), .mlpPreLinear(layer: L), .mlpPost(layer: L),
                                 .mlpOut(layer: L), .residPost(layer: L)]
        for name in hooks.map(\.name) {
            guard let s = trace[name] else { continue }
            if !lines.isEmpty { lines.append("") }
            lines += StepRenderer.render(s, index: trace.position(of: name)!, of: trace.steps.count, session: session, context: context)
        }
        if let pre = trace[HookName.mlpPost(layer: L).name] {
            let active = pre.tensor.data.filter { $0 > 0 }.count
            lines.append("")
            lines.append("\(active) of \(pre.tensor.count) neuron activations are positive (\(String(format: "%.1f", 100 * Double(active) / Double(max(pre.tensor.count, 1))))%)")
        }
        return lines
    }

    static let logits = Command(
        "logits", usage: "logits",
        summary: "the logits at the last position: the top tokens by score, and the softmax over the vocabulary",
        examples: ["logits"]
    ) { session, context, _ in
        let trace = try session.requireTrace()
        guard let step = trace["logits"] else { throw StepwiseError(.model, "this model computes no logits (an encoder): see 'steps'") }
        var lines = StepRenderer.header(step, index: trace.position(of: "logits")!, of: trace.steps.count, session: session, context: context)
        lines.append("")
        lines += try topLines(session, context, k: 10)
        return lines
    }

    static func topLines(_ session: Session, _ context: CommandContext, k: Int) throws -> [String] {
        let trace = try session.requireTrace()
        guard trace.logits != nil, let tok = session.tokenizer else {
            throw StepwiseError(.model, "this model computes no logits (an encoder): see 'steps'")
        }
        let preds = Predictions.top(trace, tokenizer: tok, k: k)
        let last = trace.positionLabels.last ?? ""
        var lines = ["after \(last) (position \(trace.positionLabels.count - 1)), the model predicts:"]
        lines += StepRenderer.bars(preds.map { (label: $0.label, value: $0.probability, note: String(format: "logit %.3f", $0.logit)) },
                                   session: session, context: context)
        return lines
    }

    static let top = Command(
        "top", usage: "top [K]",
        summary: "the K most likely next tokens with their probabilities (default 10)",
        examples: ["top", "top 5"]
    ) { session, context, rest in
        let k = rest.isEmpty ? 10 : try Arguments.int(rest, "K", range: 1...1000)
        return try topLines(session, context, k: k)
    }
}
