/// Lays out one or more matrices as grids of coloured cells, the picture behind heatmaps, tables and
/// the side-by-side heads: token labels on both axes, a colour bar with its scale, the mask's legend,
/// a title.
///
/// ```
///  Title
///  subtitle lines
///                key_pos →                 (column labels, rotated, above each grid)
///  query_pos ↓   panel title
///   0 'The'      ■ ▨ ▨ ▨                   █ 1.00
///   1 ' cat'     ■ ■ ▨ ▨                   █
///   …                                      █ 0.00   ▨ masked
/// ```
struct MatrixPicture {
    /// One grid of cells: a matrix, or a head of a layer.
    struct Panel {
        var title: String = ""
        /// The value of a cell, or nil for no cell (the padding after a packed vector's last value).
        var value: (Int, Int) -> Float?
        /// Whether the mask hid a cell (drawn hatched, whatever its stored value).
        var masked: (Int, Int) -> Bool = { _, _ in false }
        /// Hover text of a cell: its labels and exact value.
        var hover: (Int, Int) -> String
    }

    var title: String
    var subtitle: [String] = []
    /// Axis names: `query_pos`, `key_pos`; empty for none.
    var rowName: String
    var colName: String
    /// Label of each row and column index (of the whole axis), e.g. `3 ' truth'`.
    var rowLabel: (Int) -> String
    var colLabel: (Int) -> String
    /// The indices drawn, `nil` where the middle was left out.
    var rows: [Int?]
    var cols: [Int?]
    var cellWidth: Int
    var cellHeight: Int
    /// When set, each cell also shows its value as text (a table).
    var number: ((Float) -> String)?
    var scale: ColorScale
    /// Background, text and mask colours.
    var colors: PictureColors
    /// Precision of the colour bar's tick labels.
    var precision: Int = 3
    /// What the hatched cells mean, e.g. `causal: key after query`; nil when nothing is masked.
    var maskNote: String?
    var footer: [String] = []
    /// Panels per row of the picture.
    var perRow: Int = 1
    /// Whether each panel gets its own column labels (else only the first row of panels).
    var labelEveryPanel = true

    static let margin = 24
    static let panelGap = 28
    static let body = Picture.FontSize.body

    /// A left-out row or column: a narrow gap with `…`.
    var gapWidth: Int { max(10, cellWidth / 2) }
    var gapHeight: Int { max(10, cellHeight / 2) }
    var gridWidth: Int { cols.reduce(0) { $0 + ($1 == nil ? gapWidth : cellWidth) } }
    var gridHeight: Int { rows.reduce(0) { $0 + ($1 == nil ? gapHeight : cellHeight) } }

    /// Every how many columns a rotated label fits (a label is as thick as a line of text).
    var colLabelStride: Int {
        let thick = Self.body.capHeight + 8
        return max(1, (thick + cellWidth - 1) / max(1, cellWidth))
    }

    func draw(_ panels: [Panel]) -> Picture {
        let m = Self.margin, body = Self.body
        var p = Picture(width: 0, height: 0, colors: colors)
        p.label = ([title] + subtitle).joined(separator: " — ")

        // Header.
        var (y, widest) = p.header(title, subtitle, margin: m)
        y += 16

        // Sizes of the parts around each grid.
        let shownRows = rows.compactMap { $0 }, shownCols = cols.compactMap { $0 }
        let rowLabelW = (shownRows.map { Picture.width(rowLabel($0)) }.max() ?? 0) + 10
        let colLabelH = horizontalColumnLabels ? body.capHeight + 10
            : (shownCols.map { Picture.width(colLabel($0)) }.max() ?? 0) + 8
        let axisLine = colName.isEmpty && rowName.isEmpty ? 0 : body.lineHeight
        let panelTitleH = panels.contains { !$0.title.isEmpty } ? body.lineHeight : 0
        let left = m + max(rowLabelW, Picture.width(rowName + " ↓") + 4)
        let gridW = gridWidth, gridH = gridHeight
        let perRow = max(1, min(self.perRow, panels.count))
        let panelRows = (panels.count + perRow - 1) / perRow

        // Panels, row by row; the first row of panels (or every row) carries the column labels.
        var rowTop = y
        var firstGridTop = y
        for pr in 0..<panelRows {
            let withLabels = pr == 0 || labelEveryPanel
            let bandH = withLabels ? axisLine + colLabelH : 0
            let gy = rowTop + bandH + panelTitleH
            if pr == 0 { firstGridTop = gy }
            for pc in 0..<perRow {
                let k = pr * perRow + pc
                guard k < panels.count else { break }
                let gx = left + pc * (gridW + Self.panelGap)
                if withLabels {
                    if axisLine > 0 && !colName.isEmpty {
                        p.text(colName + " →", x: gx, y: rowTop + body.capHeight, color: .muted)
                    }
                    drawColumnLabels(&p, gx: gx, bottom: rowTop + bandH - 6)
                }
                if !panels[k].title.isEmpty {
                    p.text(panels[k].title, x: gx, y: gy - 8, bold: true)
                }
                if pc == 0 {
                    if withLabels && !rowName.isEmpty {
                        p.text(rowName + " ↓", x: gx - 10, y: gy - 8, anchor: .end, color: .muted)
                    }
                    drawRowLabels(&p, gx: gx, gy: gy)
                }
                drawCells(&p, panels[k], gx: gx, gy: gy)
                widest = max(widest, gx + gridW)
            }
            rowTop = gy + gridH + Self.panelGap
        }
        y = rowTop - Self.panelGap

        // Colour bar and mask legend, right of the panels, level with the first grid.
        let barX = left + perRow * gridW + (perRow - 1) * Self.panelGap + 36
        y = max(y, drawColorBar(&p, x: barX, y: firstGridTop, widest: &widest))

        // Footer.
        y += 8
        for line in footer {
            y += body.lineHeight
            p.text(line, x: m, y: y, color: .muted)
            widest = max(widest, m + Picture.width(line))
        }
        p.width = widest + m
        p.height = y + m
        return p
    }

    // MARK: - Parts

    /// Column labels short enough to sit level above their columns (indices); else they are rotated.
    var horizontalColumnLabels: Bool {
        cols.compactMap { $0 }.allSatisfy { Picture.width(colLabel($0)) <= cellWidth - 6 }
    }

    func drawColumnLabels(_ p: inout Picture, gx: Int, bottom: Int) {
        var x = gx
        let flat = horizontalColumnLabels
        let stride = flat ? 1 : colLabelStride
        for (k, c) in cols.enumerated() {
            guard let c else {
                p.text("…", x: x + gapWidth / 2, y: bottom, anchor: .middle, color: .muted)
                x += gapWidth
                continue
            }
            if k % stride == 0 || stride == 1 {
                if flat {
                    p.text(colLabel(c), x: x + cellWidth / 2, y: bottom, anchor: .middle)
                } else {
                    // Rotated: the glyphs' height runs along x, centred on the column.
                    p.text(colLabel(c), x: x + (cellWidth + Self.body.capHeight) / 2, y: bottom, vertical: true)
                }
            }
            x += cellWidth
        }
    }

    func drawRowLabels(_ p: inout Picture, gx: Int, gy: Int) {
        var y = gy
        for r in rows {
            guard let r else {
                p.text("…", x: gx - 10, y: y + (gapHeight + Self.body.capHeight) / 2, anchor: .end, color: .muted)
                y += gapHeight
                continue
            }
            if cellHeight >= Self.body.capHeight + 2 {
                p.text(rowLabel(r), x: gx - 10, y: y + (cellHeight + Self.body.capHeight) / 2, anchor: .end)
            }
            y += cellHeight
        }
    }

    func drawCells(_ p: inout Picture, _ panel: Panel, gx: Int, gy: Int) {
        let inset = cellWidth >= 12 && cellHeight >= 12 ? 1 : 0
        var y = gy
        for r in rows {
            guard let r else { y += gapHeight; continue }
            var x = gx
            for c in cols {
                guard let c else { x += gapWidth; continue }
                defer { x += cellWidth }
                guard let v = panel.value(r, c) else { continue }
                let (w, h) = (cellWidth - inset, cellHeight - inset)
                if panel.masked(r, c) || v == -.infinity || v.isNaN {
                    p.rect(x, y, w, h, fill: colors.masked, hover: panel.hover(r, c), role: .masked, cell: (r, c))
                    if w >= 6 { p.line(x + 1, y + h - 2, x + w - 2, y + 1, color: .hatch) }
                    continue
                }
                let fill = scale.color(v)
                p.rect(x, y, w, h, fill: fill, hover: panel.hover(r, c), role: .cell, cell: (r, c))
                if let number {
                    p.text(number(v), x: x + w / 2, y: y + (h + Self.body.capHeight) / 2, anchor: .middle,
                           color: .custom(fill.contrastingText))
                }
            }
            y += cellHeight
        }
    }

    /// The colour bar (64 slices, high at the top), its ticks, and below it the mask's swatch and note.
    /// - Returns: the lowest y drawn.
    func drawColorBar(_ p: inout Picture, x: Int, y: Int, widest: inout Int) -> Int {
        let body = Self.body
        let slices = 64
        let sliceH = max(2, min(5, gridHeight / slices))
        let barH = slices * sliceH, barW = 22
        for i in 0..<slices {
            let t = Float(slices - 1 - i) / Float(slices - 1)
            let v = scale.lo + (scale.hi - scale.lo) * t
            p.rect(x, y + i * sliceH, barW, sliceH, fill: scale.color(v), role: .swatch)
        }
        p.line(x - 1, y - 1, x + barW, y - 1)
        p.line(x - 1, y + barH, x + barW, y + barH)
        p.line(x - 1, y - 1, x - 1, y + barH)
        p.line(x + barW, y - 1, x + barW, y + barH)
        let p3 = max(0, min(precision, 3))
        for v in scale.ticks {
            let ty = y + Int((1 - scale.position(v)) * Double(barH - 1))
            p.line(x + barW, ty, x + barW + 5, ty, color: .muted)
            let label = NumberFormat.format(v, p3)
            p.text(label, x: x + barW + 9, y: ty + body.capHeight / 2, color: .muted)
            widest = max(widest, x + barW + 9 + Picture.width(label))
        }
        var bottom = y + barH
        guard let maskNote else { return bottom }
        bottom += 20
        p.rect(x, bottom, barW, barW, fill: colors.masked, role: .swatch)
        p.line(x + 1, bottom + barW - 2, x + barW - 2, bottom + 1, color: .hatch)
        p.text("masked", x: x + barW + 9, y: bottom + (barW + body.capHeight) / 2, color: .muted)
        widest = max(widest, x + barW + 9 + Picture.width("masked"))
        bottom += barW
        for line in NarrationWrapper.wrap(["(" + maskNote + ")"], width: 22) {
            bottom += body.lineHeight
            p.text(line, x: x, y: bottom, color: .muted)
            widest = max(widest, x + Picture.width(line))
        }
        return bottom
    }
}
