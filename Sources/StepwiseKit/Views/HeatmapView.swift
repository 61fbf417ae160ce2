/// Draws a 2-D matrix as a grid of shaded cells, labelled by tokens: the way to look at an
/// attention pattern `[query_pos, key_pos]`.
///
/// Cells are one or two columns of a bar of eight heights (`▁▂▃▄▅▆▇█`, ASCII `.:-=+*#%@`; signed data
/// gets its sign too), or a 256-colour background in ``ViewOptions/ColorMode/ansi256`` (viridis, or
/// blue–white–red for signed data); ``HeatScale`` says which. Masked
/// cells (`-inf`, or inside the ``ViewMask``) show `×` (`x`), never a blank that could read as zero.
/// Rows are labelled `pos 'piece'`; columns get an index ruler, and a key of their tokens when
/// they differ from the rows'. A legend gives the value range and the mask mark.
///
/// ```
///                key_pos →
///   query_pos    0 1 2 3 4
///               ┌──────────┐
///     0 'The'   │██ × × × ×│
///     1 ' cat'  │░░▓▓ × × ×│
/// ```
public enum HeatmapView {
    /// Renders a matrix as lines; a rank-3 tensor `[head, q, k]` is drawn as a grid of panels (see
    /// ``renderGrid(matrices:labels:options:mask:range:)``), titled `head 0`, `head 1`, ….
    ///
    /// - Parameters:
    ///   - matrix: `[rows, cols]`, e.g. `[query_pos, key_pos]`.
    ///   - axes: one ``Axis`` per dimension; labels (when present) name rows and columns.
    ///   - options: width, row/column limits, colour, ASCII fallback.
    ///   - mask: cells to draw as masked besides `-inf` ones, e.g. ``ViewMask/causal`` for a pattern.
    ///   - range: the values mapped to the lightest and darkest shade; default the min and max of the
    ///     unmasked finite values (pass `0...1` for probabilities).
    /// - Returns: the lines, every one at most `options.width` columns wide.
    public static func render(_ matrix: Tensor, axes: [Axis], options: ViewOptions = ViewOptions(),
                              mask: ViewMask = .none, range: ClosedRange<Float>? = nil) -> [String] {
        precondition(axes.count == matrix.rank, "HeatmapView: \(axes.count) axes for shape \(matrix.shape)")
        if matrix.rank == 3 {
            let panels = (0..<matrix.dim(0)).map { i in
                (title: "\(axes[0].name) \(axes[0].position(i))", tensor: matrix.sliced([.index(i)]))
            }
            return renderGrid(matrices: panels, labels: axes[1].labels, positions: axes[1].positions, options: options,
                              mask: mask, range: range)
        }
        precondition(matrix.rank == 2, "HeatmapView.render needs rank 2 or 3, got shape \(matrix.shape)")
        return layout(matrix, axes: axes, options: options, mask: mask, range: range).lines
    }

    struct Rendering {
        var lines: [String]
        var elidedRows: Bool
        var elidedCols: Bool
    }

    static func layout(_ m: Tensor, axes: [Axis], options o: ViewOptions, mask: ViewMask,
                       range: ClosedRange<Float>?) -> Rendering {
        let (R, C) = (m.dim(0), m.dim(1))
        let rowLabels = axes[0].labels?.count == R ? axes[0].labels : nil
        let colLabels = axes[1].labels?.count == C ? axes[1].labels : nil
        let scale = makeScale([m], mask: mask, range: range, options: o)
        let heads = RowHeads(count: R, labels: rowLabels, positions: axes[0].positions, name: axes[0].name, options: o)
        let avail = o.width - TableView.margin.count

        // Cell width 2 when the whole matrix fits that way, else 1; then elide columns if needed.
        let room = avail - heads.width - 1 - 2
        let cellW = C * 2 <= room || scale.needsTwoColumns ? 2 : 1
        let cols = pickColumns(C, cellWidth: cellW, room: room, options: o)
        let rows = Elision.pick(count: R, limit: o.rowLimit)
        let frame = Frame(cols: cols, cellWidth: cellW, options: o, positions: axes[1].positions)
        let pad = String(repeating: " ", count: heads.width + 1)
        func g(_ s: String) -> String { ANSI.style(s, ANSI.fg(ANSI.dimGrey), o.colored) }

        var out: [String] = []
        if !axes[1].name.isEmpty { out.append(pad + " " + g(axes[1].name + (o.unicode ? " →" : " ->"))) }
        let ruler = frame.ruler()
        for (i, line) in ruler.enumerated() {
            let corner = i == ruler.count - 1 ? TextWidth.truncate(axes[0].name, to: heads.width, ellipsis: o.truncationMark) : ""
            out.append(g(TextWidth.trimTrailing(TextWidth.padRight(corner, heads.width + 1) + " " + line)))
        }
        out.append(g(pad + frame.top))
        for r in rows {
            guard let r else {
                out.append(g(TextWidth.padRight(heads.elided, heads.width + 1)) + frame.elidedRow())
                continue
            }
            let cells = cols.map { c -> String in
                guard let c else { return frame.markCell }
                return scale.cell(m.data[r * C + c], masked: mask.isMasked(row: r, col: c, rows: R, cols: C), width: cellW)
            }
            out.append(g(TextWidth.padRight(heads.head(r), heads.width + 1)) + frame.row(cells))
        }
        out.append(g(pad + frame.bottom))
        if let colLabels, colLabels != rowLabels {
            out += keyLines(name: axes[1].name, labels: colLabels, shown: cols.compactMap { $0 }, positions: axes[1].positions,
                            options: o)
        }
        let masked = maskNote(mask, values: m.data)
        out += scale.legend(cellWidth: cellW, maskNote: masked)
        return Rendering(lines: out.map { TableView.fit(TableView.margin + $0, o) },
                         elidedRows: rows.contains(nil), elidedCols: cols.contains(nil))
    }

    // MARK: - Pieces shared with the grid

    /// The scale for some matrices: the caller's range, or the unmasked finite values' range.
    static func makeScale(_ ms: [Tensor], mask: ViewMask, range: ClosedRange<Float>?, options: ViewOptions) -> HeatScale {
        if let range { return HeatScale(lo: range.lowerBound, hi: range.upperBound, options: options) }
        var values: [Float] = []
        for m in ms {
            let (R, C) = (m.dim(0), m.dim(1))
            for r in 0..<R { for c in 0..<C where !mask.isMasked(row: r, col: c, rows: R, cols: C) {
                values.append(m.data[r * C + c])
            } }
        }
        let rg = HeatScale.range(values)
        return HeatScale(lo: rg.lowerBound, hi: rg.upperBound, options: options)
    }

    /// Columns to draw in `room` columns of `cellWidth`-wide cells (an elision mark takes its own width).
    static func pickColumns(_ C: Int, cellWidth: Int, room: Int, options o: ViewOptions) -> [Int?] {
        let markW = max(cellWidth, TextWidth.of(o.elisionMark))
        var limit = C * cellWidth <= room ? C : (room - markW) / cellWidth
        if o.maxCols > 0 { limit = min(limit, o.maxCols) }
        return Elision.pick(count: C, limit: limit)
    }

    /// The legend's note about masked cells, or nil when nothing is masked.
    static func maskNote(_ mask: ViewMask, values: [Float]) -> String? {
        switch mask {
        case .causal, .causalWindow, .causalPositions:
            if let w = mask.window { return "masked (causal, or more than \(w - 1) keys back: window of \(w))" }
            return "masked (causal: key after query)"
        case .none: return values.contains(-.infinity) ? "masked (-inf)" : nil
        }
    }

    /// `key_pos: 0 'The'  1 ' cat'  …` wrapped to the width, for columns whose tokens are not the rows'.
    static func keyLines(name: String, labels: [String], shown: [Int], positions: [Int]? = nil,
                         options o: ViewOptions) -> [String] {
        let items = shown.map { "\(positions?[$0] ?? $0) " + TextWidth.truncate(labels[$0], to: 14, ellipsis: o.truncationMark) }
        var lines: [String] = []
        var line = (name.isEmpty ? "columns" : name) + ":"
        for item in items {
            if TextWidth.of(line) + 2 + TextWidth.of(item) > o.width - TableView.margin.count {
                lines.append(line)
                line = "  " + item
            } else {
                line += "  " + item
            }
        }
        lines.append(line)
        return lines.map { ANSI.style($0, ANSI.fg(ANSI.dimGrey), o.colored) }
    }

    /// Row labels `pos 'piece'`, capped to a third of the width.
    struct RowHeads {
        var count: Int
        var labels: [String]?
        /// Row numbers on the full axis when the rows are a slice of it.
        var positions: [Int]?
        var options: ViewOptions
        var idxW: Int
        var width: Int

        init(count: Int, labels: [String]?, positions: [Int]? = nil, name: String = "", options: ViewOptions) {
            self.count = count
            self.labels = labels
            self.positions = positions
            self.options = options
            idxW = String(max(positions?.max() ?? (count - 1), 0)).count
            width = 0
            var w = idxW
            for i in 0..<count { w = max(w, TextWidth.of(full(i))) }
            w = max(w, min(TextWidth.of(name), 12))
            width = min(w, max(4, (options.width - 2) / 3))
        }

        private func full(_ i: Int) -> String {
            let idx = TextWidth.padLeft(String(positions?[i] ?? i), idxW)
            guard let labels else { return idx }
            return idx + " " + TextWidth.truncate(labels[i], to: 14, ellipsis: options.truncationMark)
        }

        func head(_ i: Int) -> String { TextWidth.truncate(full(i), to: width, ellipsis: options.truncationMark) }
        var elided: String { TextWidth.padLeft(options.elisionMark, idxW) }
    }

    /// The box around the cells and the index ruler above it.
    struct Frame {
        var cols: [Int?]
        var cellWidth: Int
        var options: ViewOptions
        /// Column numbers on the full axis when the columns are a slice of it.
        var positions: [Int]? = nil

        var markWidth: Int { max(cellWidth, TextWidth.of(options.elisionMark)) }
        var innerWidth: Int { cols.reduce(0) { $0 + ($1 == nil ? markWidth : cellWidth) } }
        var markCell: String {
            ANSI.style(TextWidth.padLeft(options.elisionMark, markWidth), ANSI.fg(ANSI.dimGrey), options.colored)
        }
        private var h: String { options.unicode ? "─" : "-" }
        var top: String { (options.unicode ? "┌" : "+") + String(repeating: h, count: innerWidth) + (options.unicode ? "┐" : "+") }
        var bottom: String { (options.unicode ? "└" : "+") + String(repeating: h, count: innerWidth) + (options.unicode ? "┘" : "+") }
        private var side: String { ANSI.style(options.unicode ? "│" : "|", ANSI.fg(ANSI.dimGrey), options.colored) }

        func row(_ cells: [String]) -> String { side + cells.joined() + side }

        /// A row standing for the rows left out: a dashed line across the cells.
        func elidedRow() -> String {
            side + ANSI.style(String(repeating: options.unicode ? "┄" : "~", count: innerWidth),
                              ANSI.fg(ANSI.dimGrey), options.colored) + side
        }

        /// Units digits under each column, and above them the full index at every multiple of ten.
        func ruler() -> [String] {
            var units: [Character] = []
            var tens = [Character](repeating: " ", count: innerWidth)
            var needTens = false
            for c in cols {
                let start = units.count
                guard let col = c else {
                    units += Array(String(repeating: " ", count: markWidth))
                    continue
                }
                let c = positions?[col] ?? col
                units += Array(TextWidth.padRight(String(c % 10), cellWidth))
                if c >= 10 && c % 10 == 0 {
                    needTens = true
                    for (k, ch) in String(c).enumerated() where start + k < tens.count { tens[start + k] = ch }
                }
            }
            let u = String(units)
            return needTens ? [String(tens), u] : [u]
        }
    }
}
