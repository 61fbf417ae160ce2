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
            head's query and key positions. Sliced rows keep their position numbers. \
            In a terminal that draws pictures ('set images'), a heatmap is also drawn as the picture \
            'export NAME FILE.png' writes, below the text.
            """,
        examples: ["show blocks.0.attn.hook_q[:, 2, :8]", "show pattern 0 head 3", "show pattern 1 head 2[-4:, :8]",
                   "show resid_post 1[-1]", "show logits[-1, :10]"],
        completion: .steps
    ) { session, context, rest in
        let trace = try session.requireTrace()
        let q = try StepQuery.parse(rest, in: trace)
        let step = trace[q.name]!
        let index = trace.position(of: q.name)!
        let lines = StepRenderer.render(step, index: index, of: trace.steps.count, selections: q.selections,
                                        session: session, context: context)
        // Where the terminal draws pictures, a heatmap also comes as the picture 'export' would write.
        if let images = context.images, images.wanted(session.settings.images),
           StepRenderer.usesHeatmap(step, rank: StepRenderer.slice(step, q.selections).0.rank, view: session.settings.view) {
            images.show({ StepPictures.step(step, selections: q.selections, typed: rest, session: session) },
                        mode: session.settings.images)
        }
        return lines
    }

    static func layerAndHead(_ rest: String, _ session: Session, needHead: Bool, layers: Int? = nil) throws -> (Int, Int?) {
        let model = try session.requireModel()
        let words = try Arguments.split(rest)
        guard !words.isEmpty else { throw StepwiseError.usage(needHead ? "give a layer and a head: 'attn 0 3'" : "give a layer: 'ffn 0'") }
        let L = try Arguments.int(words[0], "layer", range: 0...((layers ?? model.info.layers) - 1))
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
        "attn", usage: "attn [encoder|decoder|cross] LAYER HEAD [STAGE|all]",
        summary: "one head's computation: a summary of its stages (Q, K, V, scores, mask, pattern, weighted sum), one stage, or all",
        help: """
            Alone it prints a summary that fits one screen: each stage's formula and shape, and where the last \
            position looks. 'attn L H N' shows stage N in full (the head's slice of that step), with the command \
            for the next one; 'attn L H all' prints every stage one after the other. On an encoder-decoder model \
            say which attention: 'attn encoder 0 1', 'attn decoder 0 1' or 'attn cross 0 1' (alone: the current step's).
            """,
        examples: ["attn 0 1", "attn 0 1 3", "attn 1 3 all"],
        completion: .layerHead(then: ["all"])
    ) { session, context, rest in
        let trace = try session.requireTrace()
        var words = try Arguments.split(rest)
        let place = try AttentionPlace.take(&words, session)
        var which: String?
        if words.count == 3 { which = words.removeLast() }
        let (L, H) = try layerAndHead(words.joined(separator: " "), session, needHead: true, layers: place.layers)
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
        var lines = Prose.wrap(place.title + " \(L).\(h)" + (group > 1 ? " (reads key/value head \(kvh), shared by query heads \(kvh * group)–\(kvh * group + group - 1))" : "")
                               + " — \(place.mask ?? (info.isCausal ? "causal" : "bidirectional")), d_head \(info.dHead), scale 1/√\(info.dHead) = \(String(format: "%.4f", 1 / Float(info.dHead).squareRoot()))",
                               width: o.width)
        let order: [HookName] = [.q(layer: L), .rotQ(layer: L), .k(layer: L), .rotK(layer: L), .v(layer: L),
                                 .attnScoresUnmasked(layer: L), .attnScores(layer: L), .pattern(layer: L), .z(layer: L)]
        let stages = order.map { place.name($0).name }.compactMap { trace[$0] }
        if let why = trace.absence(of: place.name(.pattern(layer: L)).name) { throw StepwiseError(.model, why) }
        guard !stages.isEmpty else { throw StepwiseError(.model, "no attention steps for layer \(L) in this trace") }
        let cmd = "attn " + place.typed + "\(L) \(h)"
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
            lines += Prose.wrap(n < stages.count ? "stage \(n) of \(stages.count); next: '\(cmd) \(n + 1)'"
                                : "stage \(n) of \(stages.count), the last; '\(cmd)' sums them up", width: o.width)
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
        if let p = trace[place.name(.pattern(layer: L)).name] {
            let row = StepRenderer.slice(p, headSel(p.name)).0
            let q = row.shape[0] - 1
            let keys = row.shape[1]
            let weights = (0..<keys).map { row.data[q * keys + $0] }
            let order = weights.indices.sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }.prefix(5)
            let labels = p.axes.last?.labels ?? []
            lines.append("")
            let queryLabels = p.axes[1].labels ?? trace.positionLabels
            lines += Prose.wrap("Where the last position, \(q) \(queryLabels.indices.contains(q) ? queryLabels[q] : ""), looks (its row of the pattern, "
                                + "the \(order.count) largest of \(keys) weights" + (place.isCross ? ", over the source" : "") + "):", width: o.width)
            let kw = String(keys - 1).count
            var barOptions = o
            barOptions.width = min(o.width, 60)
            lines += BarView.render(items: order.map { (label: String($0).leftPadded(kw) + " " + (labels.indices.contains($0) ? labels[$0] : ""),
                                                        value: weights[$0]) },
                                    options: barOptions, maxValue: 1)
        }
        lines.append("")
        lines += Prose.wrap("'\(cmd) N' shows stage N whole (start with '\(cmd) 1'); '\(cmd) all' prints every stage.",
                            width: o.width)
        return lines
    }

    static let heads = Command(
        "heads", usage: "heads [encoder|decoder|cross] [LAYER]",
        summary: "every head's attention pattern side by side (default: the current step's layer, else 0)",
        help: "On an encoder-decoder model name the attention: 'heads encoder 0' (the source attending to itself), 'heads decoder 0' (the target, causal) or 'heads cross 0' (target rows, source columns); alone it takes the current step's. In a terminal that draws pictures ('set images'), the heads are also drawn as 'export heads L FILE.png' draws them.",
        examples: ["heads", "heads 1", "heads cross 0"],
        completion: .layer
    ) { session, context, rest in
        let trace = try session.requireTrace()
        _ = try session.requireModel()
        var words = try Arguments.split(rest)
        let place = try AttentionPlace.take(&words, session)
        let L: Int
        if words.isEmpty {
            L = session.currentStep?.layer ?? 0
        } else {
            L = try Arguments.int(words.joined(separator: " "), "layer", range: 0...(place.layers - 1))
        }
        let name = place.name(.pattern(layer: L)).name
        guard let step = trace[name] else {
            throw StepwiseError(.model, trace.absence(of: name) ?? "no attention pattern for layer \(L)")
        }
        let lines = StepRenderer.headGrid(step, layer: L, session: session, context: context)
        try context.images?.show({ try StepPictures.heads(layer: L, place: place, session: session) }, mode: session.settings.images)
        return lines
    }

    static let embed = Command(
        "embed", usage: "embed",
        summary: "the embedding steps: token embedding, position embedding and their sum",
        examples: ["embed"]
    ) { session, context, _ in
        let trace = try session.requireTrace()
        var lines: [String] = []
        let hooks: [HookName] = [.embed, .posEmbed, .tokenTypeEmbed, .embedSum, .normOut(.embed), .residPre(layer: 0)]
        // An encoder-decoder model embeds the source and the target, each in its stack.
        let stacks: [HookName.Stack?] = session.isEncoderDecoder ? [.encoder, .decoder] : [nil]
        for name in stacks.flatMap({ s in hooks.map { h in s.map { .stack($0, h) } ?? h } }).map(\.name) {
            guard let s = trace[name] else { continue }
            if !lines.isEmpty { lines.append("") }
            lines += StepRenderer.render(s, index: trace.position(of: name)!, of: trace.steps.count, session: session, context: context)
        }
        return lines
    }

    static let ffn = Command(
        "ffn", aliases: ["mlp"], usage: "ffn [encoder|decoder] LAYER",
        summary: "the feed-forward (MLP) block of a layer: norm, up-projection, activation, down-projection, residual",
        examples: ["ffn 0"],
        completion: .layer
    ) { session, context, rest in
        let trace = try session.requireTrace()
        var words = try Arguments.split(rest)
        var place = try AttentionPlace.take(&words, session)
        place.isCross = false
        let (L, _) = try layerAndHead(words.joined(separator: " "), session, needHead: false, layers: place.layers)
        var lines: [String] = []
        let hooks: [HookName] = [.normOut(.ln2(layer: L)), .mlpPre(layer: L), .mlpPreLinear(layer: L), .mlpPost(layer: L),
                                 .mlpOut(layer: L), .residPost(layer: L)]
        var absent: [String] = []
        for name in hooks.map({ place.name($0).name }) {
            guard let s = trace[name] else {
                if trace.absence(of: name) != nil { absent.append(name) }
                continue
            }
            if !lines.isEmpty { lines.append("") }
            lines += StepRenderer.render(s, index: trace.position(of: name)!, of: trace.steps.count, session: session, context: context)
        }
        if let pre = trace[place.name(.mlpPost(layer: L)).name] {
            let post = pre.tensor
            let active = post.data.filter { $0 > 0 }.count
            lines.append("")
            lines.append("\(active) of \(post.count) neuron activations are positive (\(String(format: "%.1f", 100 * Double(active) / Double(max(post.count, 1))))%)")
        }
        if let budget = trace.budget {
            // One line per group the budget left out.
            for g in TraceBudget.Group.allCases {
                guard let why = budget.absence(of: absent.filter { budget.group(of: $0) == g }) else { continue }
                lines.append("")
                lines += Prose.wrap(why, width: StepRenderer.options(session, context).width)
            }
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
        guard trace.hasLogits, let tok = session.tokenizer else {
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

/// Which attention a command means on an encoder-decoder model (`encoder`, `decoder` or `cross` before the
/// layer): how its hook names are spelt, and how many layers that stack has. Other models have one.
struct AttentionPlace {
    var stack: HookName.Stack?
    var isCross = false
    /// Layers of that stack.
    var layers: Int
    /// What the user typed before the layer, with its space (`cross `), for the hints a command prints.
    var typed = ""

    /// The hook name of `hook` (a `blocks.L` attention hook) in this place.
    func name(_ hook: HookName) -> HookName {
        guard let stack else { return hook }
        return .stack(stack, isCross ? .cross(hook) : hook)
    }

    /// "Attention head", "Encoder self-attention head", "Cross-attention head".
    var title: String {
        switch (stack, isCross) {
        case (nil, _): return "Attention head"
        case (_, true): return "Cross-attention head (target queries, source keys)"
        case (.encoder?, _): return "Encoder self-attention head"
        case (.decoder?, _): return "Decoder self-attention head"
        }
    }

    /// The mask it has, when that is not the model's own.
    var mask: String? {
        switch (stack, isCross) {
        case (nil, _): return nil
        case (_, true): return "no mask, every source token"
        case (.encoder?, _): return "bidirectional"
        case (.decoder?, _): return "causal"
        }
    }

    /// Reads an optional `encoder` / `decoder` / `cross` word off the front of `words`; without one on an
    /// encoder-decoder model, the current step's stack (cross-attention if the cursor is on it).
    static func take(_ words: inout [String], _ session: Session) throws -> AttentionPlace {
        let model = try session.requireModel()
        let info = model.info
        if let first = words.first, let p = StepQuery.StackPlace(rawValue: first) {
            guard let encoderLayers = info.encoderLayers else {
                throw StepwiseError.usage("'\(first)' is for encoder-decoder models; \(info.name) has one stack: leave it out")
            }
            words.removeFirst()
            switch p {
            case .encoder, .enc: return AttentionPlace(stack: .encoder, layers: encoderLayers, typed: "encoder ")
            case .decoder, .dec: return AttentionPlace(stack: .decoder, layers: info.layers, typed: "decoder ")
            case .cross: return AttentionPlace(stack: .decoder, isCross: true, layers: info.layers, typed: "cross ")
            }
        }
        guard let encoderLayers = info.encoderLayers else { return AttentionPlace(layers: info.layers) }
        let step = session.currentStep
        let hook = step.flatMap { HookName($0.name) }
        if hook?.isCross == true { return AttentionPlace(stack: .decoder, isCross: true, layers: info.layers, typed: "cross ") }
        if step?.stack == .encoder { return AttentionPlace(stack: .encoder, layers: encoderLayers, typed: "encoder ") }
        return AttentionPlace(stack: .decoder, layers: info.layers, typed: "decoder ")
    }
}
