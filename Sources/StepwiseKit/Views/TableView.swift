/// Draws a tensor as a table of numbers: rows labelled by position and token, columns by index or
/// key token, values right-aligned at a fixed precision, long or wide tensors elided in the middle.
///
/// Every line fits ``ViewOptions/width`` (measured with ``TextWidth``); nothing wraps. Below the
/// table a footer gives the shape with axis names and the finite min, max and mean.
///
/// ```
///            d_model →
///   pos            0       1       2  …      62      63
///     0 'The'  0.125  -0.500   1.000  …  -2.250   0.000
/// ```
public enum TableView {
    /// Renders a tensor of any rank as lines.
    ///
    /// - Rank 0: the value. Rank 1 with position labels: one row per position. Rank 1 without
    ///   labels: values packed several per line, each line led by the index of its first value.
    /// - Rank 2 `[rows, cols]`: a table.
    /// - Rank 3 and more: the `[0, …, 0, :, :]` slice, with a note saying how to pick another.
    ///
    /// - Parameters:
    ///   - tensor: the values.
    ///   - axes: one ``Axis`` per dimension (names and optional labels); must match `tensor.rank`.
    ///   - options: width, precision, limits, colour, ASCII fallback.
    ///   - mask: cells to draw as `·` (`.` in ASCII) instead of their value, e.g. ``ViewMask/causal``
    ///     for an attention pattern. `-inf` values always print as `-inf`.
    ///   - name: the step name used in the slicing hint for rank 3 and more (`NAME` when nil).
    /// - Returns: the lines, without newlines.
    public static func render(_ tensor: Tensor, axes: [Axis], options: ViewOptions = ViewOptions(),
                              mask: ViewMask = .none, name: String? = nil) -> [String] {
        let r = layout(tensor, axes: axes, options: options, mask: mask, name: name)
        return r.table + r.footer
    }

    /// The parts of a rendering, kept apart for tests.
    struct Rendering {
        var table: [String]
        var footer: [String]
        var elidedRows = false
        var elidedCols = false
    }

    static func layout(_ tensor: Tensor, axes: [Axis], options: ViewOptions,
                       mask: ViewMask, name: String?) -> Rendering {
        precondition(axes.count == tensor.rank, "TableView: \(axes.count) axes for shape \(tensor.shape)")
        let summary = ValueSummary(tensor.data)
        let footer = footerLines(tensor, axes: axes, summary: summary, options: options,
                                 maskNote: mask != .none && tensor.rank >= 2)
        var r: Rendering
        switch tensor.rank {
        case 0:
            r = Rendering(table: [margin + NumberFormat.format(tensor.data[0], options.precision)], footer: [])
        case 1 where axes[0].labels?.count == tensor.count:
            r = matrix(tensor.reshaped([tensor.count, 1]), rowAxis: axes[0], colAxis: nil,
                       summary: summary, options: options, mask: .none)
        case 1:
            r = packed(tensor, axis: axes[0], summary: summary, options: options)
        case 2:
            r = matrix(tensor, rowAxis: axes[0], colAxis: axes[1], summary: summary, options: options, mask: mask)
        default:
            let lead = tensor.rank - 2
            let slice = tensor.sliced([AxisSelection](repeating: .index(0), count: lead))
            r = matrix(slice, rowAxis: axes[lead], colAxis: axes[lead + 1], summary: summary,
                       options: options, mask: mask)
            let which = "[" + Array(repeating: "0", count: lead).joined(separator: ", ") + ", :, :]"
            let of = tensor.shape[0..<lead].map(String.init).joined(separator: options.unicode ? "×" : "x")
            let dash = options.unicode ? "—" : "-"
            let note = "\(which) of \(of) \(dash) slice with show \(name ?? "NAME")[i]"
            r.table.insert(fit(margin + ANSI.style(note, ANSI.fg(ANSI.dimGrey), options.colored), options), at: 0)
        }
        r.footer = footer
        return r
    }

    // MARK: - Rank 2

    /// A `[rows, cols]` table; `colAxis == nil` draws one unlabelled value column (rank-1 labelled).
    static func matrix(_ t: Tensor, rowAxis: Axis, colAxis: Axis?, summary: ValueSummary,
                       options o: ViewOptions, mask: ViewMask) -> Rendering {
        let (R, C) = (t.dim(0), t.dim(1))
        let grey = ANSI.fg(ANSI.dimGrey)
        let style = NumberFormat.style(maxAbs: summary.maxAbs, precision: o.precision)
        let maskMark = o.unicode ? "·" : "."
        let mark = o.elisionMark
        let sep = "  "
        let avail = o.width - margin.count

        // Row heads: index, then the label when the axis has one per row.
        let idxW = String(max(rowAxis.positions?.max() ?? (R - 1), 0)).count
        let rowLabels = rowAxis.labels?.count == R ? rowAxis.labels : nil
        func rowHead(_ i: Int) -> String {
            let idx = TextWidth.padLeft(String(rowAxis.position(i)), idxW)
            guard let l = rowLabels else { return idx }
            return idx + " " + TextWidth.truncate(l[i], to: 14, ellipsis: o.truncationMark)
        }
        var headW = (0..<R).reduce(idxW) { max($0, TextWidth.of(rowHead($1))) }
        headW = max(headW, min(TextWidth.of(rowAxis.name), 12))
        headW = min(headW, max(4, avail / 3))

        // Column width: the widest value, index or (capped) label, the same for every column.
        let colLabels = colAxis?.labels?.count == C ? colAxis?.labels : nil
        var colW = summary.cellWidth(o.precision, style)
        if let colAxis { colW = max(colW, String(max(colAxis.positions?.max() ?? (C - 1), 0)).count) }
        if let ls = colLabels { colW = max(colW, min(ls.map(TextWidth.of).max() ?? 0, 10)) }
        let markW = TextWidth.of(mark)

        // Which columns and rows fit.
        let full = headW + C * (2 + colW)
        var colLimit = full <= avail ? C : (avail - headW - 2 - markW) / (2 + colW)
        if o.maxCols > 0 { colLimit = min(colLimit, o.maxCols) }
        let cols = Elision.pick(count: C, limit: colLimit)
        let rows = Elision.pick(count: R, limit: o.rowLimit)

        func line(_ head: String, _ cells: [String]) -> String {
            var s = TextWidth.padRight(head, headW)
            for (c, cell) in zip(cols, cells) {
                s += sep + TextWidth.padLeft(cell, c == nil ? markW : colW)
            }
            return s
        }
        func g(_ s: String) -> String { ANSI.style(s, grey, o.colored) }

        var out: [String] = []
        if let colAxis {
            if !colAxis.name.isEmpty {
                out.append(String(repeating: " ", count: headW) + sep + g(colAxis.name + (o.unicode ? " →" : " ->")))
            }
            let corner = g(TextWidth.truncate(rowAxis.name, to: headW, ellipsis: o.truncationMark))
            out.append(line(corner, cols.map { g($0.map { String(colAxis.position($0)) } ?? mark) }))
            if let ls = colLabels {
                out.append(line("", cols.map { c in
                    g(c.map { TextWidth.truncate(ls[$0], to: colW, ellipsis: o.truncationMark) } ?? "")
                }))
            }
        } else if !rowAxis.name.isEmpty {
            out.append(g(TextWidth.truncate(rowAxis.name, to: headW, ellipsis: o.truncationMark)))
        }
        for r in rows {
            guard let r else {
                out.append(line(g(TextWidth.padLeft(mark, idxW)), cols.map { _ in g(mark) }))
                continue
            }
            let head = TextWidth.truncate(rowHead(r), to: headW, ellipsis: o.truncationMark)
            out.append(line(g(head), cols.map { c in
                guard let c else { return g(mark) }
                let v = t.data[r * C + c]
                if v == -.infinity { return g("-inf") }
                if mask.isMasked(row: r, col: c, rows: R, cols: C) { return g(maskMark) }
                return NumberFormat.format(v, o.precision, style)
            }))
        }
        return Rendering(table: out.map { fit(margin + $0, o) }, footer: [],
                         elidedRows: rows.contains(nil), elidedCols: cols.contains(nil))
    }

    // MARK: - Rank 1

    /// A vector without labels: values packed a power of two per line, each line led by the index
    /// of its first value; lines beyond the row budget are elided in the middle.
    static func packed(_ t: Tensor, axis: Axis, summary: ValueSummary, options o: ViewOptions) -> Rendering {
        let n = t.count
        let style = NumberFormat.style(maxAbs: summary.maxAbs, precision: o.precision)
        let valueW = max(summary.cellWidth(o.precision, style), 2 + String(max(n - 1, 0)).count)
        let idxW = String(max(axis.positions?.max() ?? (n - 1), 0)).count
        let bar = o.unicode ? "│" : "|"
        let headW = idxW + 2
        let fitCount = max(1, (o.width - margin.count - headW) / (2 + valueW))
        var perLine = 1
        while perLine * 2 <= fitCount { perLine *= 2 }
        if o.maxCols > 0 { perLine = min(perLine, o.maxCols) }
        let lineCount = (n + perLine - 1) / perLine
        let lines = Elision.pick(count: lineCount, limit: o.rowLimit)
        let grey = ANSI.fg(ANSI.dimGrey)
        func g(_ s: String) -> String { ANSI.style(s, grey, o.colored) }

        var out: [String] = []
        if !axis.name.isEmpty { out.append(g(axis.name)) }
        let offsets = (0..<min(perLine, n)).map { "  " + TextWidth.padLeft("+\($0)", valueW) }.joined()
        out.append(g(String(repeating: " ", count: headW) + offsets))
        for l in lines {
            guard let l else {
                out.append(g(TextWidth.padLeft(o.elisionMark, idxW)))
                continue
            }
            var s = g(TextWidth.padLeft(String(axis.position(l * perLine)), idxW) + " " + bar)
            for i in (l * perLine)..<min(n, (l + 1) * perLine) {
                s += "  " + TextWidth.padLeft(NumberFormat.format(t.data[i], o.precision, style), valueW)
            }
            out.append(s)
        }
        return Rendering(table: out.map { fit(margin + $0, o) }, footer: [], elidedRows: lines.contains(nil),
                         elidedCols: false)
    }

    // MARK: - Footer

    /// `[pos 12, d_model 64]`-style shape text.
    static func shapeText(_ shape: [Int], _ axes: [Axis]) -> String {
        "[" + zip(axes, shape).map { $0.name.isEmpty ? "\($1)" : "\($0.name) \($1)" }.joined(separator: ", ") + "]"
    }

    /// The shape line and the stats line (joined when they fit on one line).
    static func footerLines(_ t: Tensor, axes: [Axis], summary s: ValueSummary, options o: ViewOptions,
                            maskNote: Bool) -> [String] {
        let p = o.precision
        let shape = "shape " + shapeText(t.shape, axes)
        var stats: [String] = []
        if s.finiteCount > 0 {
            stats.append("min \(NumberFormat.format(s.min, p))")
            stats.append("max \(NumberFormat.format(s.max, p))")
            stats.append("mean \(NumberFormat.format(s.mean, p))")
        } else if t.count == 0 {
            stats.append("(empty)")
        }
        let times = o.unicode ? "×" : "x"
        if s.negInf > 0 { stats.append("-inf \(times)\(s.negInf) (masked)") }
        if s.posInf > 0 { stats.append("inf \(times)\(s.posInf)") }
        if s.nan > 0 { stats.append("nan \(times)\(s.nan)") }
        if maskNote { stats.append("\(o.unicode ? "·" : ".") = masked") }
        if t.rank > 2 { stats.append("(whole tensor)") }
        let statsLine = stats.joined(separator: "   ")
        let one = margin + shape + "    " + statsLine
        let lines = TextWidth.of(one) <= o.width ? [one] : [margin + shape, margin + statsLine]
        let grey = ANSI.fg(ANSI.dimGrey)
        return lines.map { fit(ANSI.style($0, grey, o.colored), o) }
    }

    /// Every line starts with this indent.
    static let margin = "  "

    /// Trailing spaces dropped and the line cut to the width (a last guard; layouts already fit).
    static func fit(_ s: String, _ o: ViewOptions) -> String {
        TextWidth.trimTrailing(TextWidth.cut(s, to: o.width))
    }
}
