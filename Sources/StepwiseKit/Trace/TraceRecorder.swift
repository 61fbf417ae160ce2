/// The hook points of a forward pass: records each named step when recording is on and applies the
/// patches the pass was given, returning the tensor the pass continues with.
///
/// Models call ``hook(_:_:title:formula:explanation:axes:inputs:always:)`` at every named step. Its
/// descriptions are autoclosures, so with recording off and no patch it returns its tensor untouched
/// without building a string; a tensor that exists only to be shown (a per-head split) is built only
/// when ``wants(_:)`` says someone reads or patches it.
public struct TraceRecorder {
    public private(set) var trace: Trace
    /// False on the fast path: nothing but the logits is kept.
    public let enabled: Bool
    /// Labels of the new positions (queries).
    public let queryLabels: [String]
    /// Labels of every position a query can see (cached + new): the key axis.
    public let keyLabels: [String]
    /// Absolute position of the first new token (the cached length).
    public var start: Int { keyLabels.count - queryLabels.count }
    /// The patches of this pass, by hook.
    let patches: [HookName: [Patch]]
    /// Hooks a patch was applied at, and the first patch that failed.
    private var reached: Set<HookName> = []
    private var failure: StepwiseError?

    public init(tokenIDs: [Int], queryLabels: [String], keyLabels: [String], enabled: Bool, patches: [Patch] = []) {
        trace = Trace(tokenIDs: tokenIDs, positionLabels: queryLabels)
        self.enabled = enabled
        self.queryLabels = queryLabels
        self.keyLabels = keyLabels
        self.patches = Dictionary(grouping: patches, by: \.hook)
    }

    /// Whether anything reads or changes `name`'s tensor (recording is on, or a patch names it).
    @inline(__always)
    public func wants(_ name: HookName) -> Bool {
        enabled || (!patches.isEmpty && patches[name] != nil)
    }

    /// The hook point `name`: applies its patches to `tensor`, records the result when recording is on
    /// (or `always`), and returns it.
    ///
    /// - Parameters:
    ///   - axes: the tensor's axes; also tell a patch where positions and heads are.
    ///   - inputs: the steps it was computed from.
    ///   - always: record even on the fast path (the logits).
    /// - Returns: the tensor the pass continues with: `tensor` itself when nothing patches it.
    @inline(__always)
    public mutating func hook(_ name: HookName, _ tensor: Tensor, title: @autoclosure () -> String,
                              formula: @autoclosure () -> String, explanation: @autoclosure () -> String,
                              axes: @autoclosure () -> [Axis], inputs: @autoclosure () -> [HookName] = [],
                              always: Bool = false) -> Tensor {
        guard enabled || always || !patches.isEmpty else { return tensor }
        return hookSlowPath(name, tensor, title: title, formula: formula, explanation: explanation, axes: axes,
                            inputs: inputs, always: always)
    }

    private mutating func hookSlowPath(_ name: HookName, _ tensor: Tensor, title: () -> String, formula: () -> String,
                                       explanation: () -> String, axes: () -> [Axis], inputs: () -> [HookName],
                                       always: Bool) -> Tensor {
        var t = tensor
        var note: String?
        if !patches.isEmpty, let ps = patches[name] {
            (t, note) = apply(ps, to: tensor, name: name, axes: axes().map(\.name))
        }
        if enabled || always {
            var text = explanation()
            if let note {
                if text.hasSuffix(".") { text.removeLast() }
                text += "; " + note + "."
            }
            trace.record(Step(name: name.name, title: title(), formula: formula(), explanation: text,
                              tensor: t, axes: axes(), inputs: inputs().map(\.name), layer: name.layer))
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
        if let missed = patches.keys.first(where: { !reached.contains($0) }) {
            throw StepwiseError(.model, "this model has no hook point '\(missed.name)' to patch; 'steps' lists them")
        }
        return trace
    }

    /// Records a step whatever the mode, with no patching (analysis results).
    public mutating func recordAlways(_ step: Step) {
        trace.record(step)
    }

    // MARK: Axis helpers

    /// The position axis of the new tokens.
    public var pos: Axis { Axis("pos", labels: queryLabels) }
    public var queryPos: Axis { Axis("query_pos", labels: queryLabels) }
    public var keyPos: Axis { Axis("key_pos", labels: keyLabels) }
    public static let head = Axis("head")
    public static let kvHead = Axis("kv_head")
    public static let dHead = Axis("d_head")
    public static let dModel = Axis("d_model")
    public static let dMLP = Axis("d_mlp")
    public static let one = Axis("one")
}
