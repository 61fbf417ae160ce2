/// The hook points of a forward pass: records each named step when recording is on and applies the
/// patches the pass was given, returning the tensor the pass continues with.
///
/// Models call ``hook(_:_:title:formula:explanation:axes:inputs:always:)`` at every named step. Its
/// descriptions are autoclosures, so with recording off and no patch it returns its tensor untouched
/// without building a string; a tensor that exists only to be shown (a per-head split) is built only
/// when ``wants(_:)`` says someone reads or patches it.
public struct TraceRecorder {
    public internal(set) var trace: Trace
    /// False on the fast path: nothing but the logits is kept.
    public let enabled: Bool
    /// Labels of the new positions (queries).
    public private(set) var queryLabels: [String]
    /// Labels of every position a query can see (cached + new): the key axis.
    public private(set) var keyLabels: [String]
    /// Absolute position of the first new token (the cached length).
    public private(set) var start: Int
    /// The stack of an encoder-decoder model the hooks now belong to (``enter(_:queryLabels:keyLabels:)``):
    /// `hook(.pattern(layer: 0), …)` then records `encoder.0.attn.hook_pattern`. Nil for other models.
    public private(set) var stack: HookName.Stack?
    /// Inside ``crossAttention(sourceLabels:_:)``: attention hooks are the cross-attention ones.
    public private(set) var inCrossAttention = false
    /// The patches of this pass, by hook.
    let patches: [HookName: [Patch]]
    /// Hooks a patch was applied at, and the first patch that failed.
    private var reached: Set<HookName> = []
    private var failure: StepwiseError?

    /// The first recorded value that is NaN or ±infinity (−infinity is allowed where a mask puts it):
    /// the step, the flat index and the value.
    public private(set) var firstNonFinite: (step: String, index: Int, value: Float)?

    public init(tokenIDs: [Int], queryLabels: [String], keyLabels: [String], enabled: Bool, patches: [Patch] = []) {
        trace = Trace(tokenIDs: tokenIDs, positionLabels: queryLabels)
        self.enabled = enabled
        self.queryLabels = queryLabels
        self.keyLabels = keyLabels
        start = keyLabels.count - queryLabels.count
        self.patches = Dictionary(grouping: patches, by: \.hook)
    }

    /// Whether anything reads or changes `name`'s tensor (recording is on, a patch names it, or it is kept).
    @inline(__always)
    public func wants(_ name: HookName) -> Bool {
        enabled || ((!patches.isEmpty || !kept.isEmpty) && (patches[scoped(name)] != nil || kept.contains(scoped(name))))
    }

    /// Steps recorded even on the fast path (``ForwardOptions/keep``).
    public var kept: Set<HookName> = []

    /// The trace budget of a recorded pass and what it decided so far; nil keeps every step.
    var budget: BudgetState?

    /// Applies `options`' trace budget (``ForwardOptions/traceBudget``) to this recorded pass: after the
    /// first block of each stack, groups of steps that would not fit are left out (see ``TraceBudget``).
    /// Also keeps `options.keep`. Models call it once, right after making the recorder.
    /// - Parameter model: the model's sizes: how many layers each stack has.
    public mutating func applyBudget(of options: ForwardOptions, model: ModelInfo) {
        kept.formUnion(options.keep)
        guard enabled, let bytes = options.traceBudget else { return }
        let T = trace.tokenIDs.count
        var layers: [HookName.Stack?: Int] = [nil: model.layers]
        var tokens: [HookName.Stack?: Int] = [nil: T]
        if let enc = model.encoderLayers {
            layers = [.encoder: enc, .decoder: model.layers]
            tokens = [.encoder: options.source?.count ?? 0, .decoder: T]
        }
        // A decoder-only model holds its last position's logits and, for the recipe of the others, the final
        // norm's output; an encoder-decoder every position's logits (the last only, past the logit budget).
        let V = model.vocabularySize
        let logitFloats = model.encoderLayers == nil ? V + T * model.dModel : (T * V > options.logitBudget ? 1 : T) * V
        budget = BudgetState(bytes: bytes, layers: layers, tokens: tokens, logitBytes: logitFloats * MemoryLayout<Float>.stride,
                             dModel: model.dModel)
    }

    // MARK: Encoder-decoder stacks

    /// Notes the source an encoder-decoder pass read in its trace (``Trace/sourceIDs``).
    public mutating func setSource(ids: [Int], labels: [String]) {
        trace.sourceIDs = ids
        trace.sourceLabels = labels
    }

    /// The full name of a hook called inside the current stack (and cross-attention): a name that
    /// already names its stack, and `logits` (the model's one output), are left alone.
    @inline(__always)
    func scoped(_ name: HookName) -> HookName {
        guard stack != nil || inCrossAttention, name.stack == nil, name != .logits else { return name }
        var n = name
        if inCrossAttention {
            if n.isAttentionInner { n = .cross(n) } else if case .attnOut(let l) = n { n = .crossAttnOut(layer: l) }
        }
        return stack.map { .stack($0, n) } ?? n
    }

    /// Starts recording one stack of an encoder-decoder model: the hooks that follow are named
    /// `encoder.…` or `decoder.…`, with these labels on their position axes.
    /// - Parameters:
    ///   - start: absolute position of the first query (the decoder's cached length; 0 for the encoder).
    public mutating func enter(_ stack: HookName.Stack, queryLabels: [String], keyLabels: [String], start: Int) {
        self.stack = stack
        self.queryLabels = queryLabels
        self.keyLabels = keyLabels
        self.start = start
    }

    /// Runs `body` as cross-attention: its attention hooks become `cross_attn.*` and `hook_attn_out`
    /// becomes `hook_cross_attn_out`, and the key axis is labelled with the source's tokens.
    public mutating func crossAttention<R>(sourceLabels: [String], _ body: (inout TraceRecorder) throws -> R) rethrows -> R {
        let keys = keyLabels
        keyLabels = sourceLabels
        inCrossAttention = true
        defer {
            keyLabels = keys
            inCrossAttention = false
        }
        return try body(&self)
    }

    /// The hook point `name`: applies its patches to `tensor`, records the result when recording is on
    /// (or `always`), and returns it.
    ///
    /// - Parameters:
    ///   - axes: the tensor's axes; also tell a patch where positions and heads are.
    ///   - inputs: the steps it was computed from.
    ///   - always: record even on the fast path (the logits).
    ///   - recipe: how to compute `tensor` again from tensors the trace holds (``StepRecipe``): when no
    ///     patch changed it, the step keeps the recipe instead of the tensor.
    /// - Returns: the tensor the pass continues with: `tensor` itself when nothing patches it.
    @inline(__always)
    public mutating func hook(_ name: HookName, _ tensor: Tensor, title: @autoclosure () -> String,
                              formula: @autoclosure () -> String, explanation: @autoclosure () -> String,
                              axes: @autoclosure () -> [Axis], inputs: @autoclosure () -> [HookName] = [],
                              always: Bool = false, recipe: (() -> StepRecipe)? = nil) -> Tensor {
        guard enabled || always || !patches.isEmpty || !kept.isEmpty else { return tensor }
        return hookSlowPath(scoped(name), tensor, title: title, formula: formula, explanation: explanation, axes: axes,
                            inputs: inputs, always: always, recipe: recipe)
    }

    private mutating func hookSlowPath(_ name: HookName, _ tensor: Tensor, title: () -> String, formula: () -> String,
                                       explanation: () -> String, axes: () -> [Axis], inputs: () -> [HookName],
                                       always: Bool, recipe: (() -> StepRecipe)?) -> Tensor {
        var t = tensor
        var note: String?
        if !patches.isEmpty, let ps = patches[name] {
            (t, note) = apply(ps, to: tensor, name: name, axes: axes().map(\.name))
        }
        if enabled || always || kept.contains(name) {
            noteNonFinite(name.name, t.data)
            guard always || kept.contains(name) || !leavesOut(name) else { return t }
            var text = explanation()
            if let note {
                if text.hasSuffix(".") { text.removeLast() }
                text += "; " + note + "."
            }
            let value: StepValue = note == nil ? recipe.map { .recipe($0()) } ?? .dense(t) : .dense(t)
            trace.record(Step(name: name.name, title: stackTitle(title()), formula: formula(), explanation: text,
                              value: value, axes: axes(), inputs: inputs().map { scoped($0).name }, layer: name.layer,
                              stack: name.stack))
        }
        return t
    }

    /// Records a step the pass never held whole (the attention scores and pattern, computed a head at a
    /// time): its recipe, under the same rules as ``hook(_:_:title:formula:explanation:axes:inputs:always:recipe:)``.
    /// The caller checked that no patch names it and noted non-finite values itself (``noteNonFinite(_:_:offset:maskable:)``).
    mutating func record(_ name: HookName, recipe: @autoclosure () -> StepRecipe, title: @autoclosure () -> String,
                         formula: @autoclosure () -> String, explanation: @autoclosure () -> String,
                         axes: @autoclosure () -> [Axis], inputs: @autoclosure () -> [HookName]) {
        let name = scoped(name)
        precondition(patches[name] == nil, "TraceRecorder.record: \(name.name) is patched; hook its tensor instead")
        guard enabled || kept.contains(name) else { return }
        guard kept.contains(name) || !leavesOut(name) else { return }
        trace.record(Step(name: name.name, title: stackTitle(title()), formula: formula(), explanation: explanation(),
                          value: .recipe(recipe()), axes: axes(), inputs: inputs().map { scoped($0).name }, layer: name.layer,
                          stack: name.stack))
    }

    /// Whether a patch of this pass names `name` (in the current stack).
    func isPatched(_ name: HookName) -> Bool {
        !patches.isEmpty && patches[scoped(name)] != nil
    }

    /// Whether `name`'s value is recorded (recording is on, or ``kept`` names it), the budget aside.
    func records(_ name: HookName) -> Bool {
        enabled || (!kept.isEmpty && kept.contains(scoped(name)))
    }

    /// A block step's title inside a stack: "Attention pattern (layer 2)" → "Cross-attention pattern (decoder layer 2)".
    private func stackTitle(_ title: String) -> String {
        guard let stack else { return title }
        var t = title.replacingOccurrences(of: "(layer ", with: "(\(stack.rawValue) layer ")
        if inCrossAttention {
            t = t.replacingOccurrences(of: "Attention ", with: "")
            t = "Cross-attention: " + (t.first.map { String($0).lowercased() + t.dropFirst() } ?? t)
        }
        return t
    }

    /// Applies `ps` in order; a failure is kept for ``finished()`` and leaves the tensor as it was.
    private mutating func apply(_ ps: [Patch], to tensor: Tensor, name: HookName, axes: [String]) -> (Tensor, String) {
        reached.insert(name)
        var t = tensor
        do {
            for p in ps { t = try p.apply(to: t, axes: axes, start: start) }
        } catch let e as StepwiseError {
            failure = failure ?? e
            return (tensor, "patch failed")
        } catch {
            preconditionFailure("Patch.apply threw \(error)")
        }
        // Head ablations read as they always have: "ablated heads: 1 (zero), 3 (mean)".
        let ablations = ps.compactMap { p -> (Int, String)? in
            guard case .z = name, p.positions == nil, let hs = p.heads, hs.count == 1 else { return nil }
            switch p.action {
            case .zero: return (hs[0], "zero")
            case .mean: return (hs[0], "mean")
            default: return nil
            }
        }
        if ablations.count == ps.count {
            return (t, "ablated heads: " + ablations.sorted { $0.0 < $1.0 }.map { "\($0.0) (\($0.1))" }.joined(separator: ", "))
        }
        return (t, "patched: " + ps.map(\.summary).joined(separator: "; "))
    }

    /// The trace, once the pass is over.
    /// - Throws: ``StepwiseError`` if a patch did not fit its step or names a hook this pass never reached.
    public func finished() throws -> Trace {
        if let failure { throw failure }
        try checkFinite()
        if let missed = patches.keys.first(where: { !reached.contains($0) }) {
            throw StepwiseError(.model, "this model has no hook point '\(missed.name)' to patch; 'steps' lists them")
        }
        guard budget != nil else { return trace }
        var done = self
        done.decideOpenStacks(except: nil)
        done.reportBudget()
        return done.trace
    }

    /// Notes the first NaN or ±infinity of `values`, a step's value from flat index `offset` on
    /// (−infinity is allowed in the masked scores, where the mask puts it).
    mutating func noteNonFinite(_ name: String, _ values: [Float], offset: Int = 0) {
        guard firstNonFinite == nil else { return }
        values.withUnsafeBufferPointer { noteNonFinite(name, $0, offset: offset, maskable: name.hasSuffix("hook_attn_scores")) }
    }

    mutating func noteNonFinite(_ name: String, _ v: UnsafeBufferPointer<Float>, offset: Int, maskable: Bool) {
        guard firstNonFinite == nil else { return }
        // A fast scan first: x * 0 is NaN exactly when x is NaN or infinite, and NaN survives the sum.
        let n = v.count
        let raw = UnsafeRawBufferPointer(v)
        // Four independent sums, so the adds do not wait on each other.
        var acc = (SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0))
        var i = 0
        while i + 64 <= n {
            acc.0 += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * 0
            acc.1 += raw.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD16<Float>.self) * 0
            acc.2 += raw.loadUnaligned(fromByteOffset: 4 * i + 128, as: SIMD16<Float>.self) * 0
            acc.3 += raw.loadUnaligned(fromByteOffset: 4 * i + 192, as: SIMD16<Float>.self) * 0
            i += 64
        }
        var any = ((acc.0 + acc.1) + (acc.2 + acc.3)).sum()
        while i < n { any += v[i] * 0; i += 1 }
        guard any.isNaN else { return }
        for (i, x) in v.enumerated() where !x.isFinite && !(maskable && x == -.infinity) {
            firstNonFinite = (name, offset + i, x)
            return
        }
    }

    /// Throws if any recorded value went non-finite, naming the first step (in the order computed)
    /// and where in it. Models call it once the logits are recorded, before touching a cache.
    /// - Throws: ``StepwiseError`` (`.model`): `the forward pass went non-finite at step
    ///   blocks.0.mlp.hook_pre (inf at position 1 ' cat', flat index 70) ...`.
    public func checkFinite() throws {
        guard let (name, index, value) = firstNonFinite else { return }
        var at = "flat index \(index)"
        if let step = trace[name], let first = step.axes.first, let labels = first.labels, step.shape.count >= 1,
           step.shape[0] == labels.count, step.shape.reduce(1, *) > 0 {
            let row = index / (step.shape.reduce(1, *) / step.shape[0])
            at = "\(first.name) \(row) \(labels[row]), flat index \(index)"
        }
        let where_ = enabled ? "at step \(name)" : "in the \(name)"
        throw StepwiseError(.model, "the forward pass went non-finite \(where_) (\(value) at \(at)): the weights' products overflow float32 for this input; nothing was changed")
    }

    /// Records a step whatever the mode, with no patching (analysis results).
    public mutating func recordAlways(_ step: Step) {
        if case .dense(let t) = step.value { noteNonFinite(step.name, t.data) }
        trace.record(step)
    }

    // MARK: Axis helpers

    /// The position axis of the new tokens.
    public var pos: Axis { Axis("pos", labels: queryLabels) }

    /// The logits step of a decoder, `unembed(normed)` `[pos, vocab]`, recorded whatever the mode.
    ///
    /// `unembed` runs on one row at a time, so each position's logits are what a pass computing that
    /// position alone gives (the next-token row of a cached generation step too). On a pass of more than
    /// one token only the last position's row is computed now: the next token needs it. The step keeps
    /// a recipe that computes any other row when something reads it. It holds the tensor itself when a
    /// patch names `logits` (every row, then the patch), and the last row only (its axis says position
    /// T−1) when ``ForwardOptions/lastLogitsOnly`` asks for that on a pass that records nothing, or when
    /// every row's logits would exceed ``ForwardOptions/logitBudget``.
    ///
    /// - Parameters:
    ///   - unembed: `[1, d_model]` → `[1, vocab]`: the head and whatever follows it (Gemma's soft-cap).
    ///   - formula: the step's formula.
    mutating func hookLogits(_ normed: Tensor, options: ForwardOptions, vocab: Int, formula: String,
                             unembed: @escaping @Sendable (Tensor) -> Tensor) {
        let T = normed.dim(0)
        let why = "A score for every vocabulary entry as the next token; softmax turns them into probabilities."
        let byRow: @Sendable (Tensor, Range<Int>) -> Tensor = { x, rows in
            Tensor.concatenateRows(rows.map { unembed(x.rows($0, $0 + 1)) })
        }
        let (rows, axis, note) = logitRows(normed, options, vocab: vocab)
        if T <= 1 || rows.dim(0) < T || isPatched(.logits) {
            _ = hook(.logits, byRow(rows, 0..<rows.dim(0)), title: "Logits", formula: formula,
                     explanation: why + note, axes: [axis, Axis("vocab")], inputs: [.normOut(.final)], always: true)
            return
        }
        let last = byRow(normed, (T - 1)..<T)
        noteNonFinite(HookName.logits.name, last.data, offset: (T - 1) * vocab)
        let recipe = StepRecipe(shape: [T, vocab], partAxis: 0, inputs: [normed, last]) { inputs, part in
            Tensor.concatenateRows(part.map { $0 == T - 1 ? inputs[1] : byRow(inputs[0], $0..<($0 + 1)) })
        }
        trace.record(Step(name: HookName.logits.name, title: "Logits", formula: formula,
                          explanation: why + " The last position's are computed with the pass; another position's when something reads them.",
                          value: .recipe(recipe), axes: [pos, Axis("vocab")], inputs: [HookName.normOut(.final).name]))
    }

    /// The rows the logits are computed for, with the matching position axis and a note for the step's
    /// explanation: all of `normed`, or only its last row when `options` asks for
    /// ``ForwardOptions/lastLogitsOnly`` on a pass that records nothing, or when every row's logits would
    /// exceed ``ForwardOptions/logitBudget`` (`vocab` entries a row). Encoder-decoders multiply these rows
    /// at once; ``hookLogits(_:options:vocab:formula:unembed:)`` a row at a time.
    func logitRows(_ normed: Tensor, _ options: ForwardOptions, vocab: Int) -> (rows: Tensor, axis: Axis, note: String) {
        let T = normed.dim(0)
        let overBudget = T * vocab > options.logitBudget
        guard T > 1, (options.lastLogitsOnly && !options.record) || overBudget else { return (normed, pos, "") }
        let note = overBudget
            ? String(format: " Kept for the last position only: all %d positions would take %.0f MB (ln_final.hook_out holds every position).",
                     T, Double(T * vocab) * 4 / 1_048_576)
            : ""
        return (normed.row(T - 1).reshaped([1, normed.dim(1)]), Axis("pos", labels: queryLabels.suffix(1), positions: [T - 1]), note)
    }

    public var queryPos: Axis { Axis("query_pos", labels: queryLabels) }
    public var keyPos: Axis { Axis("key_pos", labels: keyLabels) }
    public static let head = Axis("head")
    public static let kvHead = Axis("kv_head")
    public static let dHead = Axis("d_head")
    public static let dModel = Axis("d_model")
    public static let dMLP = Axis("d_mlp")
    public static let one = Axis("one")
}
