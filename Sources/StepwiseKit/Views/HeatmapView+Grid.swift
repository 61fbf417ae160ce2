// MARK: - Small multiples

extension HeatmapView {
    /// Renders several same-shaped matrices side by side (one panel per attention head), wrapping
    /// into rows of panels that fit the width, all on one shared scale with one legend.
    ///
    /// Each row of panels is led by the row labels; each panel has its title above its box. Cells
    /// are two columns wide when a panel fits that way, else one; a matrix too wide even for one
    /// panel at one column per cell has its middle columns elided.
    ///
    /// - Parameters:
    ///   - matrices: `(title, tensor)` pairs, each tensor `[rows, cols]` of the same shape.
    ///   - labels: one label per row (token pieces for query positions), or nil for indices only.
    ///   - positions: the rows' numbers on the full axis when they are a slice of it (nil: 0, 1, …).
    ///   - options: width, row/column limits, colour, ASCII fallback.
    ///   - mask: cells to draw as masked besides `-inf` ones, the same for every panel.
    ///   - range: the values of the lightest and darkest shade; default the unmasked finite range of
    ///     all panels together, so panels compare directly.
    /// - Returns: the lines, every one at most `options.width` columns wide.
    public static func renderGrid(matrices: [(title: String, tensor: Tensor)], labels: [String]?, positions: [Int]? = nil,
                                  options: ViewOptions = ViewOptions(), mask: ViewMask = .none,
                                  range: ClosedRange<Float>? = nil) -> [String] {
        gridLayout(matrices: matrices, labels: labels, positions: positions, options: options, mask: mask, range: range).lines
    }

    static func gridLayout(matrices: [(title: String, tensor: Tensor)], labels: [String]?, positions: [Int]? = nil,
                           options o: ViewOptions, mask: ViewMask, range: ClosedRange<Float>?) -> Rendering {
        guard let first = matrices.first?.tensor else {
            return Rendering(lines: [], elidedRows: false, elidedCols: false)
        }
        precondition(first.rank == 2, "HeatmapView.renderGrid needs rank-2 matrices, got shape \(first.shape)")
        precondition(matrices.allSatisfy { $0.tensor.shape == first.shape },
                     "HeatmapView.renderGrid: matrices differ in shape")
        let (R, C) = (first.dim(0), first.dim(1))
        let heads = RowHeads(count: R, labels: labels?.count == R ? labels : nil, positions: positions, options: o)
        let scale = makeScale(matrices.map(\.tensor), mask: mask, range: range, options: o)
        let avail = o.width - TableView.margin.count
        var gap = 2

        // One panel is 2 frame columns plus its cells; prefer two-column cells, then one, then elide.
        let room = avail - heads.width - 1 - 2
        let cellW = C * 2 <= room || scale.needsTwoColumns ? 2 : 1
        let cols = pickColumns(C, cellWidth: cellW, room: room, options: o)
        let frame = Frame(cols: cols, cellWidth: cellW, options: o)
        let panelW = frame.innerWidth + 2
        var perRow = max(1, (avail - heads.width - 1 + gap) / (panelW + gap))
        // One column between panels when that puts one more panel on each row (four heads of a
        // seven-token prompt side by side at 80 columns).
        let tight = max(1, (avail - heads.width - 1 + 1) / (panelW + 1))
        if perRow < matrices.count, tight > perRow {
            gap = 1
            perRow = tight
        }
        let rows = Elision.pick(count: R, limit: o.rowLimit)
        let pad = String(repeating: " ", count: heads.width + 1)
        let spacer = String(repeating: " ", count: gap)
        func g(_ s: String) -> String { ANSI.style(s, ANSI.fg(ANSI.dimGrey), o.colored) }

        var out: [String] = []
        for start in stride(from: 0, to: matrices.count, by: perRow) {
            let group = Array(matrices[start..<min(matrices.count, start + perRow)])
            if start > 0 { out.append("") }
            out.append(pad + group.map {
                ANSI.style(TextWidth.center(TextWidth.truncate($0.title, to: panelW, ellipsis: o.truncationMark), panelW),
                           ANSI.bold, o.colored)
            }.joined(separator: spacer))
            out.append(g(pad + group.map { _ in frame.top }.joined(separator: spacer)))
            for r in rows {
                guard let r else {
                    out.append(g(TextWidth.padRight(heads.elided, heads.width + 1))
                               + group.map { _ in frame.elidedRow() }.joined(separator: spacer))
                    continue
                }
                let panels = group.map { item -> String in
                    frame.row(cols.map { c -> String in
                        guard let c else { return frame.markCell }
                        return scale.cell(item.tensor.data[r * C + c],
                                          masked: mask.isMasked(row: r, col: c, rows: R, cols: C), width: cellW)
                    })
                }
                out.append(g(TextWidth.padRight(heads.head(r), heads.width + 1)) + panels.joined(separator: spacer))
            }
            out.append(g(pad + group.map { _ in frame.bottom }.joined(separator: spacer)))
        }
        let note = maskNote(mask, values: matrices.flatMap(\.tensor.data))
        out += scale.legend(cellWidth: cellW, maskNote: note)
        return Rendering(lines: out.map { TableView.fit(TableView.margin + $0, o) },
                         elidedRows: rows.contains(nil), elidedCols: cols.contains(nil))
    }
}
