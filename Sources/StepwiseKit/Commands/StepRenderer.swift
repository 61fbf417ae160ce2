import Foundation

/// Chooses and calls the view for a step: header, then a table or a heatmap of the (sliced) tensor.
enum StepRenderer {
    /// View options from the session's settings and the terminal.
    static func options(_ session: Session, _ context: CommandContext) -> ViewOptions {
        let s = session.settings
        var o = ViewOptions(width: s.width ?? context.width, precision: s.precision, maxRows: s.maxRows, maxCols: s.maxCols,
                            color: s.color && context.color ? .ansi256 : .never, unicode: s.unicode)
        o.theme = s.theme
        return o
    }

    /// The tensor and axes after applying selections; an `.index` selection drops its axis.
    static func slice(_ step: Step, _ selections: [AxisSelection]) -> (Tensor, [Axis]) {
        guard !selections.isEmpty else { return (step.tensor, step.axes) }
        let t = step.sliced(selections)
        var axes: [Axis] = []
        for (d, axis) in step.axes.enumerated() {
            let sel = d < selections.count ? selections[d] : .all
            switch sel {
            case .index: continue
            case .all: axes.append(axis)
            case .range(let lo, let hi, let st):
                let kept = Array(stride(from: lo, to: hi, by: st))
                axes.append(Axis(axis.name, labels: axis.labels.map { l in kept.map { l[$0] } }, positions: kept.map(axis.position)))
            case .indices(let list):
                // An explicit list is usually an order (the top tokens by score): rows are numbered by it.
                axes.append(Axis(axis.name, labels: axis.labels.map { l in list.map { l[$0] } }))
            }
        }
        return (t, axes)
    }

    /// The header lines of a step.
    static func header(_ step: Step, index: Int, of total: Int, session: Session, context: CommandContext) -> [String] {
        StepHeader.render(step: step, index: index, total: total, options: options(session, context), compact: session.settings.shortHeaders)
    }

    /// The cells of an attention pattern that the mask hid: those whose score was −∞ in the same
    /// layer's masked scores. (Masked scores themselves are −∞ and show as masked anyway.)
    static func mask(for step: Step, in trace: Trace?) -> ViewMask {
        guard step.name.hasSuffix("hook_pattern"),
              let scores = trace?[step.name.replacingOccurrences(of: "hook_pattern", with: "hook_attn_scores")],
              scores.shape.count == 3, scores.headAxis == 0, scores.shape[0] > 0 else { return .none }
        // The mask is the same for every head: head 0's masked scores show it.
        let t = scores.tensor(heads: 0..<1)
        guard t.data.contains(-.infinity) else { return .none }
        // A sliding window shows in the last query's row: its first visible key is not key 0.
        let (tq, tk) = (t.shape[1], t.shape[2])
        let last = (tq - 1) * tk
        if let first = (0..<tk).first(where: { t.data[last + $0] != -.infinity }), first > 0 {
            return .causalWindow(tk - first)
        }
        return .causal
    }

    /// Header and tensor of a step.
    static func render(_ step: Step, index: Int, of total: Int, selections: [AxisSelection] = [],
                       session: Session, context: CommandContext, compactHeader: Bool = false) -> [String] {
        let o = options(session, context)
        var lines: [String]
        if compactHeader {
            // The formula and the step's name on one line when they fit, else the name under it.
            let one = "   \(step.formula)    \(step.name)"
            lines = TextWidth.of(one) <= o.width ? [one]
                : Prose.wrap(step.formula, width: o.width, first: "   ", cap: false) + Prose.wrap(step.name, width: o.width, first: "   ", cap: false)
        } else {
            lines = StepHeader.render(step: step, index: index, total: total, options: o, compact: session.settings.shortHeaders)
        }
        let rank = selections.isEmpty ? step.shape.count : -1
        if step.value.isRecipe && step.headAxis == 0 && rank == 3 && usesHeatmap(step, rank: 3, view: session.settings.view) {
            // Every head's panel computed on its own: the whole value is never built next to its slices.
            let axes = step.axes
            let panels = (0..<step.shape[0]).map { h in (title: "\(axes[0].name) \(axes[0].position(h))", tensor: step.sliced([.index(h)])) }
            let mask = viewMask(step, tensor: panels[0].tensor, axes: Array(axes.dropFirst()), session: session)
            return lines + HeatmapView.renderGrid(matrices: panels, labels: axes[1].labels, positions: axes[1].positions, options: o,
                                                  mask: mask, range: step.name.hasSuffix("hook_pattern") ? 0...1 : nil)
        }
        let (t, axes) = slice(step, selections)
        let mask = viewMask(step, tensor: t, axes: axes, session: session)
        let useHeatmap = usesHeatmap(step, rank: t.rank, view: session.settings.view)
        if !selections.isEmpty { lines.append("   selected \(t.shape)") }
        if useHeatmap {
            let range: ClosedRange<Float>? = step.name.hasSuffix("hook_pattern") ? 0...1 : nil
            lines += HeatmapView.render(t, axes: axes, options: o, mask: mask, range: range)
        } else {
            lines += TableView.render(t, axes: axes, options: o, mask: mask, name: step.name)
        }
        return lines
    }

    /// Whether `show` draws a step, sliced to `rank` dimensions, as a heatmap: a pattern's one or more
    /// matrices under `set view auto`, any matrix (and a layer's scores or pattern) under `set view heatmap`.
    /// The pictures make the same choice.
    static func usesHeatmap(_ step: Step, rank: Int, view: Settings.ViewKind) -> Bool {
        let isPattern = step.name.hasSuffix("hook_pattern")
        let isMatrix = isPattern || step.name.hasSuffix("hook_attn_scores") || step.name.hasSuffix("hook_attn_scores_unmasked")
        switch view {
        case .heatmap: return rank == 2 || (rank == 3 && isMatrix)
        case .table: return false
        case .auto: return isPattern && (rank == 2 || rank == 3)
        }
    }

    /// The mask to draw for a (sliced) step: the causal mask, and for a slice of a pattern by the cells'
    /// positions on the full axes, not their places in the slice. `show` and the pictures share it.
    static func viewMask(_ step: Step, tensor t: Tensor, axes: [Axis], session: Session) -> ViewMask {
        var mask = mask(for: step, in: session.trace)
        if mask == .causal || mask.window != nil, let q = axes.firstIndex(where: { $0.name == "query_pos" }),
           let k = axes.firstIndex(where: { $0.name == "key_pos" }), axes[q].positions != nil || axes[k].positions != nil {
            let full = step.axes
            let offset = (full.firstIndex { $0.name == "key_pos" }.map { step.shape[$0] } ?? 0)
                - (full.firstIndex { $0.name == "query_pos" }.map { step.shape[$0] } ?? 0)
            mask = .causalPositions(queries: (0..<t.shape[q]).map(axes[q].position),
                                    keys: (0..<t.shape[k]).map(axes[k].position), offset: offset, window: mask.window)
        }
        return mask
    }

    /// All heads' patterns of one layer side by side.
    static func headGrid(_ step: Step, layer: Int, session: Session, context: CommandContext) -> [String] {
        let heads = step.shape[0]
        let panels = (0..<heads).map { h in (title: "head \(layer).\(h)", tensor: step.sliced([.index(h)])) }
        let mask = mask(for: step, in: session.trace)
        let what = step.name.contains("cross_attn") ? "Cross-attention patterns, decoder layer \(layer): rows = target position, columns = source position"
            : step.stack.map { "Attention patterns, \($0.rawValue) layer \(layer): rows = query position, columns = key position" }
            ?? "Attention patterns, layer \(layer): rows = query position, columns = key position"
        var lines = Prose.wrap(what, width: options(session, context).width)
        lines += HeatmapView.renderGrid(matrices: panels, labels: step.axes[1].labels, options: options(session, context),
                                        mask: mask, range: 0...1)
        // Cross-attention's columns are the source's tokens, which the row labels do not name.
        if let keys = step.axes[2].labels, keys != step.axes[1].labels {
            lines += Prose.wrapItems(keys.enumerated().map { "\($0.offset) \($0.element)" }, width: options(session, context).width,
                                     first: "columns (key_pos, the source): ", rest: "  ", cap: false)
        }
        return lines
    }

    /// Probability bars with a note per row.
    static func bars(_ items: [(label: String, value: Float, note: String)], session: Session, context: CommandContext) -> [String] {
        var o = options(session, context)
        let noteWidth = (items.map(\.note.count).max() ?? 0) + 2
        o.width = max(30, o.width - noteWidth)
        let lines = BarView.render(items: items.map { ($0.label, $0.value) }, options: o, maxValue: 1)
        return zip(lines, items).map { $0 + "  " + $1.note }
    }
}
