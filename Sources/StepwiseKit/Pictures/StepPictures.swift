import Foundation

/// Pictures of what `show`, `heads`, `top` and `logits` print, made from the session's trace with the
/// same choices the terminal views make: an attention pattern (or any matrix under `set view heatmap`)
/// is a heatmap on `0…1` with the causal mask hatched; other tensors are tables whose cells are
/// coloured by value (blue–white–red when the values have both signs); predictions are bar charts.
///
/// Colours follow the session (``PictureStyle``): the theme's background and text, the palette's scale
/// in the theme's direction.
///
/// Pictures show more than a terminal can: up to ``heatmapLimit`` rows and columns of a heatmap and
/// ``tableRowLimit`` × ``tableColumnLimit`` of a table before the middle is left out (`set rows` and
/// `set cols` still cap them when set).
public enum StepPictures {
    static let heatmapLimit = 64
    static let tableRowLimit = 24
    static let tableColumnLimit = 16
    /// Values a packed vector (rank 1 without labels) puts on one row of its table.
    static let packedPerRow = 8

    // MARK: - Steps

    /// The picture of a step, sliced as `show NAME[slices]` slices it.
    /// - Parameters:
    ///   - typed: the step as the user wrote it (`pattern 0 head 2`), shown under the title.
    ///   - palette: instead of the session's (`set palette`).
    public static func step(_ step: Step, selections: [AxisSelection] = [], typed: String? = nil, session: Session,
                            palette: ColorScale.Palette? = nil) -> Picture {
        let style = PictureStyle(session.settings, palette: palette)
        let (t, axes) = StepRenderer.slice(step, selections)
        let mask = viewMask(step, tensor: t, axes: axes, session: session)
        let isPattern = step.name.hasSuffix("hook_pattern")
        let heatmap = StepRenderer.usesHeatmap(step, rank: t.rank, view: session.settings.view)
        var title = step.name + sliceText(selections)
        var subtitle = [step.title + pickedText(step.axes, selections)]
        if let typed, typed != step.name, !typed.isEmpty { title += "   (" + typed + ")" }
        subtitle += context(session)
        let precision = session.settings.precision

        // Rank 0: the number, large.
        if t.rank == 0 {
            var p = Picture(width: 0, height: 0, colors: style.colors)
            let value = NumberFormat.format(t.data[0], precision)
            p.text(title, x: 24, y: 45, size: .title, bold: true)
            for (i, line) in subtitle.enumerated() { p.text(line, x: 24, y: 80 + i * 28, color: .muted) }
            let y = 80 + subtitle.count * 28 + 40
            p.text(value, x: 24, y: y, size: .title)
            p.width = 48 + max(([title].map { Picture.width($0, .title) } + subtitle.map { Picture.width($0) }).max() ?? 0, 200)
            p.height = y + 40
            p.label = title
            return p
        }

        // Rank 3 and more outside a heatmap: the [0, …, 0, :, :] slice, as the table view shows.
        var m = t, ax = axes
        if !heatmap && t.rank >= 3 {
            let lead = t.rank - 2
            m = t.sliced([AxisSelection](repeating: .index(0), count: lead))
            ax = Array(axes.suffix(2))
            let which = "[" + Array(repeating: "0", count: lead).joined(separator: ", ") + ", :, :]"
            subtitle.append("showing \(which) of \(t.shape.prefix(lead).map(String.init).joined(separator: "×")): slice with export \(step.name)[i] FILE")
        }
        if heatmap && m.rank == 3 {
            let panels = (0..<m.dim(0)).map { i in
                (title: "\(ax[0].name) \(ax[0].position(i))", tensor: m.sliced([.index(i)]))
            }
            return grid(panels: panels, rowAxis: ax[1], colAxis: ax[2], mask: mask, pattern: isPattern, title: title,
                        subtitle: subtitle, session: session, style: style, name: step.name)
        }
        if m.rank == 1 {
            return vector(m, axis: ax[0], title: title, subtitle: subtitle, session: session, style: style, name: step.name)
        }
        return matrix(m, rowAxis: ax[0], colAxis: ax[1], mask: mask, heatmap: heatmap, pattern: isPattern, title: title,
                      subtitle: subtitle, session: session, style: style, name: step.name)
    }

    /// Every head's attention pattern of a layer side by side, on one `0…1` scale (what `heads L` shows).
    /// - Throws: when the trace has no pattern for that layer.
    /// - Parameters:
    ///   - place: which attention of an encoder-decoder model (`encoder`, `decoder`, `cross`); nil for
    ///     the only one of other models.
    ///   - palette: instead of the session's (`set palette`).
    static func heads(layer: Int, place: AttentionPlace? = nil, session: Session, palette: ColorScale.Palette? = nil) throws -> Picture {
        let trace = try session.requireTrace()
        let name = (place?.name(.pattern(layer: layer)) ?? .pattern(layer: layer)).name
        guard let step = trace[name], step.tensor.rank == 3 else {
            throw StepwiseError(.model, "no attention pattern for layer \(layer)")
        }
        let panels = (0..<step.tensor.dim(0)).map { h in (title: "head \(layer).\(h)", tensor: step.tensor.sliced([.index(h)])) }
        let mask = StepRenderer.mask(for: step, in: trace)
        let cross = place?.isCross == true
        let title = cross ? "Cross-attention patterns, decoder layer \(layer)"
            : place?.stack.map { "Attention patterns, \($0.rawValue) layer \(layer)" } ?? "Attention patterns, layer \(layer)"
        let style = PictureStyle(session.settings, palette: palette)
        let reading = (style.reversed ? "darker" : "brighter") + " = more attention"
        return grid(panels: panels, rowAxis: step.axes[1], colAxis: step.axes[2], mask: mask, pattern: true,
                    title: title,
                    subtitle: [cross ? "rows: target position, columns: source position; " + reading
                                 : "rows: query position, columns: key position; " + reading] + context(session),
                    session: session, style: style, name: step.name, compact: true)
    }

    // MARK: - Layouts

    static func matrix(_ m: Tensor, rowAxis: Axis, colAxis: Axis, mask: ViewMask, heatmap: Bool, pattern: Bool,
                       title: String, subtitle: [String], session: Session, style: PictureStyle,
                       name: String) -> Picture {
        let (R, C) = (m.dim(0), m.dim(1))
        let s = session.settings
        let rows = Elision.pick(count: R, limit: s.maxRows > 0 ? s.maxRows : (heatmap ? heatmapLimit : tableRowLimit))
        let cols = Elision.pick(count: C, limit: s.maxCols > 0 ? s.maxCols : (heatmap ? heatmapLimit : tableColumnLimit))
        let isMasked = { (r: Int, c: Int) in mask.isMasked(row: r, col: c, rows: R, cols: C) }
        let scale = scaleFor([m], mask: mask, pattern: pattern, style: style)
        var layout = MatrixPicture(title: title, subtitle: subtitle, rowName: rowAxis.name, colName: colAxis.name,
                                   rowLabel: { label(rowAxis, $0) }, colLabel: { label(colAxis, $0) },
                                   rows: rows, cols: cols, cellWidth: 0, cellHeight: 0, scale: scale, colors: style.colors,
                                   precision: s.precision, maskNote: note(mask, m))
        if heatmap {
            let n = max(rows.count, cols.count)
            let cell = max(8, min(44, 640 / max(1, n)))
            layout.cellWidth = cell
            layout.cellHeight = cell
        } else {
            let numbers = numberStyle(m, rows: rows, cols: cols, precision: s.precision)
            layout.number = { NumberFormat.format($0, s.precision, numbers) }
            let widest = rows.compactMap { $0 }.flatMap { r in cols.compactMap { $0 }.map { m.data[r * C + $0] } }
                .map { Picture.width(NumberFormat.format($0, s.precision, numbers)) }.max() ?? 0
            layout.cellWidth = max(widest + 20, 48)
            layout.cellHeight = 30
        }
        layout.footer = [footer(m.shape, rowAxis, colAxis, rows: rows, cols: cols)]
        let panel = MatrixPicture.Panel(
            value: { r, c in m.data[r * C + c] }, masked: isMasked,
            hover: { r, c in hover(name, rowAxis, r, colAxis, c, m.data[r * C + c], masked: isMasked(r, c), note: note(mask, m)) })
        return layout.draw([panel])
    }

    /// A rank-1 tensor: one column when its axis has labels (a value per position), else packed rows of
    /// ``packedPerRow`` values, each row led by the index of its first value.
    static func vector(_ v: Tensor, axis: Axis, title: String, subtitle: [String], session: Session,
                       style: PictureStyle, name: String) -> Picture {
        let s = session.settings
        let n = v.count
        let labelled = axis.labels?.count == n
        let perRow = labelled ? 1 : packedPerRow
        let R = (n + perRow - 1) / perRow
        let rows = Elision.pick(count: R, limit: s.maxRows > 0 ? s.maxRows : tableRowLimit)
        let cols = Array(0..<perRow).map(Optional.some)
        let numbers = numberStyle(v.reshaped([1, n]), rows: [0], cols: Array(0..<n).map(Optional.some), precision: s.precision)
        let widest = v.data.map { Picture.width(NumberFormat.format($0, s.precision, numbers)) }.max() ?? 0
        let index = { (r: Int, c: Int) -> Int? in let i = r * perRow + c; return i < n ? i : nil }
        var layout = MatrixPicture(
            title: title, subtitle: subtitle, rowName: labelled ? axis.name : "", colName: labelled ? "" : axis.name,
            rowLabel: { labelled ? label(axis, $0) : String(axis.position($0 * perRow)) },
            colLabel: { labelled ? "" : "+\($0)" },
            rows: rows, cols: cols, cellWidth: max(widest + 20, 48), cellHeight: 30,
            scale: scaleFor([v], mask: .none, pattern: false, style: style), colors: style.colors, precision: s.precision,
            maskNote: nil)
        layout.number = { NumberFormat.format($0, s.precision, numbers) }
        layout.footer = ["shape [\(axis.name) \(n)]"]
        let panel = MatrixPicture.Panel(
            value: { r, c in index(r, c).map { v.data[$0] } },
            hover: { r, c in
                let i = index(r, c) ?? 0
                let where_ = labelled ? "\(axis.name) \(label(axis, i))" : "\(axis.name) \(axis.position(i))"
                return "\(name) · \(where_): \(exact(v.data[i]))"
            })
        return layout.draw([panel])
    }

    /// Several same-shaped matrices side by side on one scale.
    static func grid(panels: [(title: String, tensor: Tensor)], rowAxis: Axis, colAxis: Axis, mask: ViewMask, pattern: Bool,
                     title: String, subtitle: [String], session: Session, style: PictureStyle, name: String,
                     compact: Bool = false) -> Picture {
        guard let first = panels.first?.tensor else { return Picture(width: 1, height: 1, colors: style.colors) }
        let (R, C) = (first.dim(0), first.dim(1))
        let s = session.settings
        let rows = Elision.pick(count: R, limit: s.maxRows > 0 ? s.maxRows : heatmapLimit)
        let cols = Elision.pick(count: C, limit: s.maxCols > 0 ? s.maxCols : heatmapLimit)
        let n = panels.count
        let perRow = n <= 6 ? n : (n + (n + 5) / 6 - 1) / ((n + 5) / 6)
        let cell = max(4, min(compact ? 24 : 32, (compact ? 300 : 340) / max(1, max(rows.count, cols.count))))
        let scale = scaleFor(panels.map(\.tensor), mask: mask, pattern: pattern, style: style)
        var layout = MatrixPicture(title: title, subtitle: subtitle, rowName: rowAxis.name, colName: colAxis.name,
                                   rowLabel: { label(rowAxis, $0) }, colLabel: { label(colAxis, $0) },
                                   rows: rows, cols: cols, cellWidth: cell, cellHeight: cell, scale: scale, colors: style.colors,
                                   precision: s.precision, maskNote: note(mask, first))
        layout.perRow = perRow
        layout.labelEveryPanel = false
        layout.footer = [footer([n, R, C], rowAxis, colAxis, rows: rows, cols: cols, panels: n)]
        let isMasked = { (r: Int, c: Int) in mask.isMasked(row: r, col: c, rows: R, cols: C) }
        return layout.draw(panels.map { panel in
            let t = panel.tensor
            return MatrixPicture.Panel(
                title: panel.title, value: { r, c in t.data[r * C + c] }, masked: isMasked,
                hover: { r, c in
                    hover(name + " " + panel.title, rowAxis, r, colAxis, c, t.data[r * C + c], masked: isMasked(r, c),
                          note: note(mask, t))
                })
        })
    }

    // MARK: - Pieces

    /// The mask `show` would draw for this (sliced) step.
    static func viewMask(_ step: Step, tensor t: Tensor, axes: [Axis], session: Session) -> ViewMask {
        StepRenderer.viewMask(step, tensor: t, axes: axes, session: session)
    }

    /// Attention weights on `0…1`; anything else fitted to its unmasked finite values.
    static func scaleFor(_ ms: [Tensor], mask: ViewMask, pattern: Bool, style: PictureStyle) -> ColorScale {
        if pattern { return style.sequential(0, 1) }
        var values: [Float] = []
        for m in ms {
            if m.rank == 2 {
                let (R, C) = (m.dim(0), m.dim(1))
                for r in 0..<R { for c in 0..<C where !mask.isMasked(row: r, col: c, rows: R, cols: C) { values.append(m.data[r * C + c]) } }
            } else {
                values += m.data
            }
        }
        return style.fitting(values)
    }

    static func numberStyle(_ m: Tensor, rows: [Int?], cols: [Int?], precision: Int) -> NumberFormat.Style {
        let C = m.dim(1)
        var maxAbs: Float = 0
        for r in rows.compactMap({ $0 }) { for c in cols.compactMap({ $0 }) where m.data[r * C + c].isFinite {
            maxAbs = max(maxAbs, abs(m.data[r * C + c]))
        } }
        return NumberFormat.style(maxAbs: maxAbs, precision: precision)
    }

    static func note(_ mask: ViewMask, _ m: Tensor) -> String? {
        HeatmapView.maskNote(mask, values: m.data).map { n in
            n.hasPrefix("masked (") ? String(n.dropFirst("masked (".count).dropLast()) : n
        }
    }

    /// `3 ' truth'`, or `3` for an axis without labels.
    static func label(_ axis: Axis, _ i: Int) -> String {
        let pos = String(axis.position(i))
        guard let labels = axis.labels, labels.indices.contains(i) else { return pos }
        return pos + " " + TextWidth.truncate(labels[i], to: 16)
    }

    /// `blocks.0.attn.hook_pattern · query_pos 3 ' truth' → key_pos 1 ' is': 0.2345`.
    static func hover(_ name: String, _ rowAxis: Axis, _ r: Int, _ colAxis: Axis, _ c: Int, _ v: Float, masked: Bool,
                      note: String?) -> String {
        let cell = "\(rowAxis.name) \(fullLabel(rowAxis, r)) → \(colAxis.name) \(fullLabel(colAxis, c))"
        if masked || v == -.infinity { return "\(name) · \(cell): masked (\(note ?? "-inf"))" }
        return "\(name) · \(cell): \(exact(v))"
    }

    static func fullLabel(_ axis: Axis, _ i: Int) -> String {
        let pos = String(axis.position(i))
        guard let labels = axis.labels, labels.indices.contains(i) else { return pos }
        return pos + " " + labels[i]
    }

    /// A float as it reads back exactly (Swift's shortest round-trip form).
    static func exact(_ v: Float) -> String { v.isFinite ? "\(v)" : (v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf")) }

    /// `[1:4]`, `[2, :, :8]`: the selections as typed in NumPy form; empty when there are none.
    static func sliceText(_ selections: [AxisSelection]) -> String {
        guard !selections.isEmpty else { return "" }
        return "[" + selections.map { s -> String in
            switch s {
            case .all: return ":"
            case .index(let i): return String(i)
            case .range(let lo, let hi, let st): return st == 1 ? "\(lo):\(hi)" : "\(lo):\(hi):\(st)"
            case .indices(let l): return "[" + l.map(String.init).joined(separator: ",") + "]"
            }
        }.joined(separator: ", ") + "]"
    }

    /// `, head 2` for each axis a selection picked one index of.
    static func pickedText(_ axes: [Axis], _ selections: [AxisSelection]) -> String {
        zip(axes, selections).compactMap { axis, sel -> String? in
            if case .index(let i) = sel { return "\(axis.name) \(i)" }
            return nil
        }.map { ", " + $0 }.joined()
    }

    /// `model builtin · prompt: "It is a truth…"`.
    static func context(_ session: Session) -> [String] {
        var parts: [String] = []
        if let m = session.model { parts.append("model \(m.info.name)") }
        if let source = session.sourceText, session.isEncoderDecoder {
            parts.append("source: \"" + TextWidth.truncate(TerminalText.visible(source), to: 48) + "\"")
            parts.append("target: \"" + TextWidth.truncate(TerminalText.visible(session.promptText ?? ""), to: 48) + "\"")
        } else if let prompt = session.promptText {
            parts.append("prompt: \"" + TextWidth.truncate(TerminalText.visible(prompt), to: 72) + "\"")
        }
        return parts.isEmpty ? [] : [parts.joined(separator: " · ")]
    }

    static func footer(_ shape: [Int], _ rowAxis: Axis, _ colAxis: Axis, rows: [Int?], cols: [Int?], panels: Int? = nil) -> String {
        var s = "shape [" + shape.map(String.init).joined(separator: ", ") + "]"
        if rows.contains(nil) || cols.contains(nil) {
            s += " · showing \(rows.compactMap { $0 }.count) of \(shape[shape.count - 2]) \(rowAxis.name), "
                + "\(cols.compactMap { $0 }.count) of \(shape[shape.count - 1]) \(colAxis.name) (… marks the rest)"
        }
        return s
    }
}
