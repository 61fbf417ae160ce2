/// The trace budget inside the recorder: what one block of each stack holds, measured on its first block,
/// and which groups of steps the remaining blocks keep (see ``TraceBudget``).
struct BudgetState {
    /// The budget, bytes.
    let bytes: Int
    /// Layers per stack (the `nil` stack for decoder-only and encoder-only models).
    let layers: [HookName.Stack?: Int]
    /// Positions per stack.
    let tokens: [HookName.Stack?: Int]
    /// What the logits will hold.
    let logitBytes: Int
    /// The model's width, for the steps after the blocks (an encoder-decoder model's decoder embedding).
    let dModel: Int
    /// Stacks whose first block is being recorded (nothing decided yet).
    var open: Set<HookName.Stack?> = []
    /// What each stack decided, once its first block was recorded.
    var decided: [HookName.Stack?: TraceBudget.StackReport] = [:]
    /// Steps left out, and the bytes they would have held (projected from the first block).
    var dropped: Set<String> = []
    var droppedBytes = 0

    init(bytes: Int, layers: [HookName.Stack?: Int], tokens: [HookName.Stack?: Int], logitBytes: Int, dModel: Int) {
        self.bytes = bytes
        self.layers = layers
        self.tokens = tokens
        self.logitBytes = logitBytes
        self.dModel = dModel
    }

    /// Whether a decided stack leaves `name` out.
    func leavesOut(_ name: HookName) -> Bool {
        guard let l = name.layer, let plan = decided[name.stack],
              let g = TraceBudget.group(of: name, rotated: plan.rotated) else { return false }
        return l >= plan.kept[g] ?? plan.layers
    }
}

extension TraceRecorder {
    /// Whether the budget leaves `name` (a scoped name) out; a step of a new stack's first block opens
    /// that stack, and any other step closes the first blocks before it (their decision is made then).
    mutating func leavesOut(_ name: HookName) -> Bool {
        guard budget != nil else { return false }
        let s = name.stack, l = name.layer
        if !budget!.open.isEmpty, budget!.open.contains(where: { !($0 == s && l == 0) }) {
            let except: HookName.Stack?? = l == 0 ? .some(s) : .none
            decideOpenStacks(except: except)
        }
        if l == 0, budget!.decided[s] == nil { budget!.open.insert(s) }
        guard budget!.leavesOut(name) else { return false }
        budget!.dropped.insert(name.name)
        return true
    }

    /// Decides every stack whose first block has been recorded (but `except`, whose first block goes on).
    mutating func decideOpenStacks(except: HookName.Stack??) {
        guard let b = budget else { return }
        for s in b.open where except.map({ $0 != s }) ?? true {
            decide(s)
        }
    }

    /// Measures stack `s`'s first block group by group, projects it over the stack's layers, chooses
    /// how many layers keep each group, and removes the first block's steps of the groups no layer keeps.
    private mutating func decide(_ s: HookName.Stack?) {
        guard var b = budget else { return }
        budget = nil  // `b` is the only copy while it changes
        b.open.remove(s)
        let n = b.layers[s] ?? 1
        let first = trace.steps.filter { $0.stack == s && $0.layer == 0 }
        let firstNames = Set(first.map(\.name))
        let hooks = first.map { HookName($0.name) }
        let rotated = hooks.contains { h in
            if case .rotQ? = h?.unstacked { return true }
            return false
        }
        // What the trace held before this block, then each group's own allocations beyond it, in the order kept.
        var seen = Set<UInt>()
        let before = Trace.bytes(of: trace.steps.lazy.filter { !firstNames.contains($0.name) }.flatMap(\.value.heldTensors),
                                 adding: &seen)
        let groups = hooks.map { $0.flatMap { TraceBudget.group(of: $0, rotated: rotated) } }
        func held(_ g: TraceBudget.Group?) -> Int {
            Trace.bytes(of: zip(first, groups).lazy.filter { $0.1 == g }.flatMap(\.0.value.heldTensors), adding: &seen)
        }
        let always = held(nil)
        var cost: [TraceBudget.Group: Int] = [:]
        for g in TraceBudget.Group.allCases { cost[g] = held(g) }
        let perLayer = always + cost.values.reduce(0, +)
        // What comes after these blocks: the final norm's scale, the logits, and after an encoder the
        // decoder (its embeddings, and its blocks as this stack's scaled by positions).
        let floatSize = MemoryLayout<Float>.stride
        var after = b.logitBytes + (b.tokens[s] ?? 0) * floatSize
        if s == .encoder, let dec = b.layers[.decoder], let enc = b.tokens[.encoder], enc > 0 {
            let target = b.tokens[.decoder] ?? 0
            after += dec * perLayer * target / enc + 2 * target * b.dModel * floatSize
        }
        var left = b.bytes - before - n * always - after
        var keep: [TraceBudget.Group: Int] = [:]
        var full = false
        for g in TraceBudget.Group.allCases {
            let c = cost[g]!
            if c == 0 || (!full && n * c <= left) {
                keep[g] = n
                left -= n * c
            } else {
                let m = full ? 0 : min(n, max(0, left / c))
                keep[g] = m
                left -= m * c
                full = true
                b.droppedBytes += (n - m) * c
            }
        }
        b.decided[s] = TraceBudget.StackReport(stack: s, layers: n, kept: keep, bytesPerLayer: cost, rotated: rotated)
        var removed = Set(zip(zip(first, hooks), groups).compactMap { pair, g -> String? in
            guard let g, keep[g] == 0, let h = pair.1, !kept.contains(h) else { return nil }
            return pair.0.name
        })
        // Over the budget even without this stack's groups: an earlier stack (the encoder) gives up its
        // groups too, the last kept first, from its top layer down.
        var deficit = -left
        for other in b.decided.keys where other != s && deficit > 0 {
            var report = b.decided[other]!
            for g in TraceBudget.Group.allCases.reversed() where deficit > 0 {
                let c = report.bytesPerLayer[g] ?? 0
                guard c > 0 else { continue }
                while deficit > 0, let m = report.kept[g], m > 0 {
                    report.kept[g] = m - 1
                    deficit -= c
                    b.droppedBytes += c
                    for step in trace.steps where step.stack == other && step.layer == m - 1 {
                        guard let h = HookName(step.name), TraceBudget.group(of: h, rotated: report.rotated) == g,
                              !kept.contains(h) else { continue }
                        removed.insert(step.name)
                    }
                }
            }
            b.decided[other] = report
        }
        b.dropped.formUnion(removed)
        budget = b
        trace.remove(removed)
    }

    /// Puts the budget's report in the trace when something was left out or the trace holds more than the budget.
    mutating func reportBudget() {
        guard let b = budget else { return }
        let held = trace.heldBytes
        guard !b.dropped.isEmpty || held > b.bytes else { return }
        let order: [HookName.Stack?] = [nil, .encoder, .decoder]
        var r = TraceBudget.Report(budget: b.bytes, tokens: trace.tokenIDs.count)
        r.held = held
        r.everything = held + b.droppedBytes
        r.stacks = order.compactMap { b.decided[$0] }
        r.dropped = b.dropped
        trace.budget = r
    }
}
