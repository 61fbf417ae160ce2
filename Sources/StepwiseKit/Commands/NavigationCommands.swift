/// Walking the trace like a debugger: `step`, `next`, `back`, `goto`, `where`, `steps`.
enum NavigationCommands {
    static func show(_ session: Session, _ context: CommandContext) throws -> [String] {
        let trace = try session.requireTrace()
        let step = trace.steps[session.cursor]
        return StepRenderer.render(step, index: session.cursor, of: trace.steps.count, session: session, context: context)
    }

    static let step = Command(
        "step", aliases: ["s"], usage: "step",
        summary: "show the current step: what happened, the formula, the tensor",
        examples: ["step"]
    ) { session, context, _ in
        try show(session, context)
    }

    static let next = Command(
        "next", aliases: ["n"], usage: "next [N]",
        summary: "move forward N steps (default 1) and show the step",
        examples: ["next", "next 5"]
    ) { session, context, rest in
        let trace = try session.requireTrace()
        let n = rest.isEmpty ? 1 : try Arguments.int(rest, "the number of steps", range: 1...1_000_000)
        if session.cursor == trace.steps.count - 1, let later = session.future.popLast() {
            // Walk out of an earlier token's pass into the next one.
            session.history.append(trace)
            session.trace = later
            session.cursor = 0
            return try show(session, context)
        }
        guard session.cursor < trace.steps.count - 1 else {
            throw StepwiseError.usage("already at the last step (\(trace.steps.last!.name)); 'back' goes back, 'goto NAME' jumps")
        }
        session.cursor = min(trace.steps.count - 1, session.cursor + n)
        return try show(session, context)
    }

    static let back = Command(
        "back", aliases: ["b"], usage: "back [N]",
        summary: "move back N steps (default 1), into the previous token's pass after generation",
        examples: ["back", "back 3"]
    ) { session, context, rest in
        _ = try session.requireTrace()
        var n = rest.isEmpty ? 1 : try Arguments.int(rest, "the number of steps", range: 1...1_000_000)
        while n > 0 {
            if session.cursor > 0 {
                let d = min(n, session.cursor)
                session.cursor -= d
                n -= d
            } else if let previous = session.history.popLast() {
                // Walk into the pass of the token before: its last step.
                session.future.append(session.trace!)
                session.trace = previous
                session.cursor = previous.steps.count - 1
                n -= 1
            } else {
                if n > 0 && session.cursor == 0 {
                    throw StepwiseError.usage("already at the first step (\(session.trace!.steps[0].name))")
                }
                break
            }
        }
        return try show(session, context)
    }

    static let goto = Command(
        "goto", aliases: ["g"], usage: "goto NAME|N",
        summary: "jump to a step by name or short form (goto pattern 0), or to step N of the outline ('steps')",
        examples: ["goto blocks.0.attn.hook_pattern", "goto resid_post 1", "goto logits", "goto 12"],
        completion: .steps
    ) { session, context, rest in
        let trace = try session.requireTrace()
        if let n = Int(rest) {
            // The numbers 'steps' and the step headers show: 1 to the step count.
            guard (1...trace.steps.count).contains(n) else {
                throw StepwiseError(.model, "step \(n) does not exist: the trace has steps 1–\(trace.steps.count)")
            }
            session.cursor = n - 1
            return try show(session, context)
        }
        let q = try StepQuery.parse(rest, in: trace)
        session.cursor = trace.position(of: q.name)!
        return try show(session, context)
    }

    static let whereCmd = Command(
        "where", usage: "where",
        summary: "where the cursor is: step number, name and what comes next",
        examples: ["where"]
    ) { session, _, _ in
        let trace = try session.requireTrace()
        let s = trace.steps[session.cursor]
        var lines = ["step \(session.cursor + 1) of \(trace.steps.count): \(s.name) — \(s.title)"]
        if session.cursor + 1 < trace.steps.count { lines.append("next: \(trace.steps[session.cursor + 1].name)") }
        if let note = AnalysisCommands.ablationNote(session) { lines.append(note) }
        if !session.history.isEmpty { lines.append("(\(session.history.count) earlier token pass(es) behind: 'back' walks into them)") }
        return lines
    }

    static let steps = Command(
        "steps", usage: "steps [[encoder|decoder] LAYER|all]",
        summary: "an outline of every step, the cursor marked; layers folded except the current one",
        help: "Alone it shows the part of the outline around the cursor that fits the screen, with how many steps lie above and below; 'steps L' lists layer L's steps, 'steps all' every step. An encoder-decoder model folds its encoder and decoder layers separately: 'steps encoder 1', 'steps decoder 0'.",
        examples: ["steps", "steps 1", "steps all"],
        completion: .layer
    ) { session, context, rest in
        let trace = try session.requireTrace()
        // Layers are folded per stack: an encoder-decoder model's `encoder.1` and `decoder.1` are two blocks.
        struct Block: Hashable { var stack: HookName.Stack?; var layer: Int }
        func block(_ s: Step) -> Block? { s.layer.map { Block(stack: s.stack, layer: $0) } }
        let current = block(trace.steps[session.cursor])
        var words = rest.split(separator: " ").map(String.init)
        var onlyStack: HookName.Stack?
        if words.count == 2, let p = StepQuery.StackPlace(rawValue: words[0]) {
            onlyStack = p == .encoder || p == .enc ? .encoder : .decoder
            words.removeFirst()
        }
        let arg = words.joined(separator: " ")
        let showLayer: Int?? = arg == "all" ? .some(nil) : (arg.isEmpty ? nil : .some(try Arguments.int(arg, "the layer")))
        if case .some(.some(let l)) = showLayer {
            let last = trace.steps.filter { onlyStack == nil || $0.stack == onlyStack }.compactMap(\.layer).max() ?? -1
            guard (0...last).contains(l) else {
                throw StepwiseError(.model, "layer \(l) does not exist: the model has layers 0–\(last)")
            }
        }
        // Each outline line, with the number of steps it stands for and whether the cursor is on it.
        var entries: [(text: String, steps: Int, cursor: Bool)] = []
        var folded: Set<Block> = []
        let pointer = session.settings.unicode ? "▶" : ">"
        for (i, s) in trace.steps.enumerated() {
            let expand: Bool
            if let b = block(s) {
                switch showLayer {
                case .some(.none): expand = true
                case .some(.some(let l)): expand = l == b.layer && (onlyStack == nil || onlyStack == b.stack)
                case .none: expand = b == current
                }
            } else {
                expand = true
            }
            if !expand {
                let b = block(s)!
                if !folded.contains(b) {
                    folded.insert(b)
                    let n = trace.steps.filter { block($0) == b }.count
                    let dots = session.settings.unicode ? "…" : "..."
                    let prefix = b.stack?.rawValue ?? "blocks"
                    let expandCommand = b.stack.map { "steps \($0.rawValue) \(b.layer)" } ?? "steps \(b.layer)"
                    entries.append(("    \(prefix).\(b.layer).\(dots)  (\(n) steps; '\(expandCommand)' expands)", n, false))
                }
                continue
            }
            let mark = i == session.cursor ? pointer : " "
            entries.append(("\(mark) \(String(i + 1).leftPadded(3))  \(s.name)  \(s.shapeDescription)", 1, i == session.cursor))
        }
        var lines = entries.map(\.text)
        // The plain outline keeps the cursor on screen: a window around it, with what lies outside counted.
        let budget = max(5, context.height - 3)
        if showLayer == nil, entries.count > budget, let at = entries.firstIndex(where: \.cursor) {
            let room = budget - 2
            var lo = max(0, at - room / 2)
            let hi = min(entries.count, lo + room)
            lo = max(0, hi - room)
            let above = entries[..<lo].reduce(0) { $0 + $1.steps }
            let below = entries[hi...].reduce(0) { $0 + $1.steps }
            let dots = session.settings.unicode ? "…" : "..."
            lines = (lo > 0 ? ["  \(dots) \(above) step\(above == 1 ? "" : "s") above ('steps all' lists every step)"] : [])
                + entries[lo..<hi].map(\.text)
                + (hi < entries.count ? ["  \(dots) \(below) step\(below == 1 ? "" : "s") below"] : [])
        }
        return lines.map { TableView.fit($0, StepRenderer.options(session, context)) }
    }
}
