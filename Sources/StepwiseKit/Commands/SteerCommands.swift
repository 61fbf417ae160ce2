import Foundation

/// Changing what the model computes and seeing how two inputs differ: `steer`, `compare prompts`.
enum SteerCommands {
    // MARK: - steer

    static let steer = Command(
        "steer", usage: "steer HOOK \"A\" \"B\" SCALE | steer HOOK FILE.npy SCALE",
        summary: "add SCALE × (activation(A) − activation(B)) at a hook point, at every position of every later pass",
        help: """
            Activation addition: runs prompts A and B on the unmodified model, takes each one's activation at HOOK \
            averaged over its positions, and adds SCALE × (mean A − mean B) to HOOK at every position of every later \
            forward pass — the current prompt (re-run now, with the top predictions before and after), later \
            'prompt's, and 'generate', KV-cached tokens included — until 'restore' (or 'restore steer'). HOOK is \
            named as 'show' names steps: 'resid_pre 1', 'blocks.1.hook_resid_pre', 'mlp_out 0', 'z 1' (any step \
            whose first axis is pos). With FILE.npy the direction is read from a file instead: float32 ('<f4'), \
            C order, shape [d] with d the hook's last axis (768 for a d_model hook), broadcast over the other axes; \
            inside a lesson the file must lie in the lesson's folder. Steers stack: each 'steer' adds one more. \
            'info' and the prompt summary list what is active.
            """,
        examples: ["steer resid_pre 1 \" love\" \" hate\" 4", "steer blocks.1.hook_resid_pre \"Love\" \"Hate\" 8",
                   "steer resid_post 0 direction.npy 2", "restore steer"],
        completion: .steps(thenFile: true)
    ) { session, context, rest in
        try session.refuseEncoderDecoder("steer", "steering vectors are built from one sequence's activations")
        let model = try session.requireModel()
        let words = try Arguments.split(rest)
        let usage = "usage: steer HOOK \"A\" \"B\" SCALE or steer HOOK FILE.npy SCALE, e.g. steer resid_pre 1 \" love\" \" hate\" 4"
        guard words.count >= 3 else { throw StepwiseError.usage(usage) }
        let (hook, used) = try Steering.parseHook(words, layers: model.info.layers)
        let args = Array(words[used...])
        guard args.count == 2 || args.count == 3 else { throw StepwiseError.usage(usage) }
        guard let scale = Float(args.last!), scale.isFinite else {
            throw StepwiseError.usage("the scale must be a number, got '\(args.last!)'; " + usage)
        }
        // The direction comes from the unmodified model (no ablation or earlier steer), with the session's mask.
        let base = ForwardOptions(record: true, causal: session.settings.causalMask, isCancelled: context.isCancelled)
        let direction: Tensor, source: String
        if args.count == 3 {
            let tok = model.tokenizer
            let a = try tok.encodeForModel(args[0]), b = try tok.encodeForModel(args[1])
            try model.validate(a)
            try model.validate(b)
            direction = try Steering.direction(model: model, a: a, b: b, hook: hook, options: base)
            source = "(\(quoted(args[0])) − \(quoted(args[1])))"
        } else {
            let typed = args[0]
            let path = context.resolve(typed)
            try Files.requireRegularFile(path, shownAs: typed, what: ".npy file")
            let real = try context.sandbox?.readable(path, shownAs: typed, what: ".npy file") ?? path
            let d = try Steering.lastAxis(model: model, hook: hook, options: base)
            direction = try Steering.readNPY(path: real, shownAs: typed, count: d)
            source = TerminalText.visible((typed as NSString).lastPathComponent)
        }
        let v = Steering.Vector(hook: hook, direction: direction, scale: scale, source: source)
        var new = session.interventions
        new.append(.steer(v))
        let what = "steering \(v.summary) (|vector| \(String(format: "%.3f", v.norm)), shape [\(direction.shape.map(String.init).joined(separator: ", "))], every position)"
        return try AnalysisCommands.rerun(&session, model, interventions: new, what: what, context: context)
    }

    /// A prompt as a short quoted string for summaries.
    static func quoted(_ text: String) -> String {
        "\"" + TextWidth.truncate(TerminalText.visible(text), to: 24) + "\""
    }

    // MARK: - compare prompts

    /// `compare prompts "A" "B"`: tokens, top predictions, and the heads and layers where the two differ most.
    static func comparePrompts(_ session: Session, _ context: CommandContext, _ words: [String]) throws -> [String] {
        try session.refuseEncoderDecoder("compare prompts", "it compares two single-sequence runs; give each source with 'source' and compare 'top'")
        let model = try session.requireModel()
        guard words.count == 2 else {
            throw StepwiseError.usage("usage: compare prompts \"A\" \"B\", e.g. compare prompts \"The cat sat\" \"The dog sat\"")
        }
        let tok = model.tokenizer
        let a = try tok.encodeForModel(words[0]), b = try tok.encodeForModel(words[1])
        try model.validate(a)
        try model.validate(b)
        let options = session.forwardOptions(record: true, context: context)
        let ta = try model.trace(a, options: options), tb = try model.trace(b, options: options)
        let o = StepRenderer.options(session, context)
        let width = o.width
        func fit(_ s: String) -> String { TextWidth.truncate(TextWidth.trimTrailing(s), to: width) }
        func label(_ id: Int, _ w: Int) -> String { TextWidth.truncate(tok.label(for: id), to: w) }

        var lines: [String] = []
        // The tokens wrap under themselves; a token is never split.
        lines += Prose.wrapItems(a.map { tok.label(for: $0) }, width: width, first: "A: \(a.count) tokens: ", rest: "   ", cap: false)
        lines += Prose.wrapItems(b.map { tok.label(for: $0) }, width: width, first: "B: \(b.count) tokens: ", rest: "   ", cap: false)
        if let note = AnalysisCommands.ablationNote(session) { lines += Prose.wrap("(with \(note))", width: width) }

        // Top predictions side by side.
        let pa = Predictions.top(ta, tokenizer: tok, k: 5), pb = Predictions.top(tb, tokenizer: tok, k: 5)
        if pa.isEmpty || pb.isEmpty {
            lines += Prose.wrap("an encoder has no next-token prediction; the differences below are what it computed", width: width)
        } else {
            let lw = min(16, max(8, (pa + pb).map { TextWidth.of($0.label) }.max() ?? 0))
            func cell(_ x: Predictions.Prediction) -> String {
                TextWidth.padRight(TextWidth.truncate(x.label, to: lw), lw) + " " + AnalysisCommands.p(x.probability)
            }
            lines.append("")
            lines.append("next token after the last position:")
            lines.append("rank  " + TextWidth.padRight("A", lw + 6) + "   B")
            for i in 0..<min(pa.count, pb.count) {
                lines.append(fit(String(i + 1).leftPadded(4) + "  " + cell(pa[i]) + "   " + cell(pb[i])))
            }
        }
        let m = min(a.count, b.count)

        // Attention patterns: total variation between each query's rows (keys past a prompt's end count as 0).
        struct HeadDiff { var layer: Int; var head: Int; var mean: Float; var worstQuery: Int; var worst: Float }
        var heads: [HeadDiff] = []
        for l in 0..<model.info.layers {
            let name = HookName.pattern(layer: l).name
            guard let sa = ta[name]?.tensor, let sb = tb[name]?.tensor, sa.rank == 3, sb.rank == 3, sa.shape[0] == sb.shape[0] else { continue }
            let (ka, kb) = (sa.shape[2], sb.shape[2])
            for h in 0..<sa.shape[0] {
                var total: Float = 0, worst: Float = -1, worstQ = 0
                for q in 0..<m {
                    var tv: Float = 0
                    for k in 0..<max(ka, kb) {
                        let x = k < ka ? sa.data[(h * sa.shape[1] + q) * ka + k] : 0
                        let y = k < kb ? sb.data[(h * sb.shape[1] + q) * kb + k] : 0
                        tv += abs(x - y)
                    }
                    tv /= 2
                    total += tv
                    if tv > worst { worst = tv; worstQ = q }
                }
                heads.append(HeadDiff(layer: l, head: h, mean: total / Float(max(1, m)), worstQuery: worstQ, worst: worst))
            }
        }
        let lw = 12
        func pair(_ p: Int) -> String {
            let x = label(a[p], lw), y = label(b[p], lw)
            return a[p] == b[p] ? x : x + "/" + y
        }
        if !heads.isEmpty {
            lines.append("")
            lines += Prose.wrap("Heads whose patterns differ most: TV = ½ Σ_key |A − B| of a query's row "
                                + "(0 same, 1 disjoint), mean over the first \(m) query positions (aligned from 0)", width: width)
            lines.append("  head   mean TV   largest at query position (TV)")
            for d in heads.sorted(by: { $0.mean > $1.mean }).prefix(5) {
                lines.append(fit("  " + TextWidth.padRight("\(d.layer).\(d.head)", 5) + "  " + AnalysisCommands.p(d.mean).leftPadded(7)
                                 + "   \(d.worstQuery) \(pair(d.worstQuery)) (\(AnalysisCommands.p(d.worst)))"))
            }
        }

        // Residual stream after each block: cosine distance at each aligned position.
        struct ResidDiff { var layer: Int; var pos: Int; var distance: Float }
        var resid: [ResidDiff] = []
        for l in 0..<model.info.layers {
            let name = HookName.residPost(layer: l).name
            guard let ra = ta[name]?.tensor, let rb = tb[name]?.tensor, ra.rank == 2, rb.rank == 2, ra.shape[1] == rb.shape[1] else { continue }
            let d = ra.shape[1]
            for p in 0..<m {
                var dot: Float = 0, na: Float = 0, nb: Float = 0
                for i in 0..<d {
                    let x = ra.data[p * d + i], y = rb.data[p * d + i]
                    dot += x * y; na += x * x; nb += y * y
                }
                let cos = na > 0 && nb > 0 ? dot / (na.squareRoot() * nb.squareRoot()) : (na == nb ? 1 : 0)
                resid.append(ResidDiff(layer: l, pos: p, distance: 1 - cos))
            }
        }
        if !resid.isEmpty {
            lines.append("")
            lines += Prose.wrap("Residual stream (hook_resid_post) where it differs most: 1 − cos(A, B) at one "
                                + "position (0 same direction, 1 orthogonal, 2 opposite)", width: width)
            lines.append("  layer  pos  token A/B" + String(repeating: " ", count: 2 * lw + 1 - 9) + "   1 − cos")
            for r in resid.sorted(by: { $0.distance > $1.distance }).prefix(5) {
                lines.append(fit("  " + String(r.layer).leftPadded(5) + "  " + String(r.pos).leftPadded(3) + "  "
                                 + TextWidth.padRight(pair(r.pos), 2 * lw + 1) + "   " + AnalysisCommands.p(r.distance)))
            }
        }
        if a.count != b.count {
            lines += Prose.wrap("(the prompts have \(a.count) and \(b.count) tokens: only the first \(m) positions are compared)", width: width)
        }
        return lines
    }
}
