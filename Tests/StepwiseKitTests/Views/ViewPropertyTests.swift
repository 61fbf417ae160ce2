import Testing
@testable import StepwiseKit

/// Properties every view keeps on random shapes and widths.
@Suite("View properties")
struct ViewPropertyTests {
    static let widths = Array(stride(from: 40, through: 200, by: 8)) + [41, 57, 199, 200]

    /// A random tensor `[rows, cols]` with a random value scale, labelled or not.
    static func sample(_ rng: inout SplitMix64) -> (Tensor, [Axis]) {
        let rows = 1 + Int(rng.next() % 40)
        let cols = 1 + Int(rng.next() % 90)
        let scale = [Float(0.01), 1, 37, 4000][Int(rng.next() % 4)]
        let data = (0..<(rows * cols)).map { _ in (rng.nextFloat() * 2 - 1) * scale }
        let labelled = rng.next() % 2 == 0
        let axes = [Axis("pos", labels: labelled ? ViewSamples.labels(rows) : nil), Axis("d_model")]
        return (Tensor(shape: [rows, cols], data: data), axes)
    }

    @Test("every line of every view fits the width", arguments: widths)
    func linesFit(width: Int) {
        var rng = SplitMix64(seed: UInt64(width))
        for trial in 0..<3 {
            let (t, axes) = Self.sample(&rng)
            for unicode in [true, false] {
                for color in ViewOptions.ColorMode.allCases {
                    let o = ViewOptions(width: width, color: color, unicode: unicode)
                    let square = Tensor(shape: [t.dim(0), t.dim(0)], data: Array(t.data.prefix(t.dim(0) * t.dim(0)))
                        + [Float](repeating: 0.5, count: max(0, t.dim(0) * t.dim(0) - t.count)))
                    let views: [(String, [String])] = [
                        ("table", TableView.render(t, axes: axes, options: o)),
                        ("vector", TableView.render(t.reshaped([t.count]), axes: [Axis("d_model")], options: o)),
                        ("heatmap", HeatmapView.render(t, axes: axes, options: o)),
                        ("pattern", HeatmapView.render(square, axes: [axes[0], Axis("key_pos", labels: axes[0].labels)],
                                                       options: o, mask: .causal)),
                        ("grid", HeatmapView.renderGrid(matrices: (0..<5).map { ("head \($0)", square) },
                                                        labels: axes[0].labels, options: o, mask: .causal)),
                        ("bars", BarView.render(items: (0..<t.dim(0)).map { (ViewSamples.labels(t.dim(0))[$0], abs(t.data[$0])) },
                                                options: o)),
                    ]
                    for (name, lines) in views {
                        let widest = lines.map(TextWidth.of).max() ?? 0
                        #expect(widest <= width, "\(name) trial \(trial) shape \(t.shape) unicode \(unicode) \(color): \(widest) > \(width)")
                        if color == .never { #expect(!lines.contains { $0.contains("\u{1B}") }, "\(name): escape in never mode") }
                    }
                }
            }
        }
    }

    @Test("a table is elided exactly when the whole table would not fit", arguments: widths)
    func tableElision(width: Int) {
        var rng = SplitMix64(seed: UInt64(1000 + width))
        for _ in 0..<8 {
            let (t, axes) = Self.sample(&rng)
            let o = ViewOptions(width: width, maxRows: 20)
            let r = TableView.layout(t, axes: axes, options: o, mask: .none, name: nil)
            // The whole table, drawn with unlimited room.
            let whole = TableView.layout(t, axes: axes, options: ViewOptions(width: 100_000, maxRows: 100_000),
                                         mask: .none, name: nil)
            let wholeWidth = whole.table.map(TextWidth.of).max() ?? 0
            let fits = wholeWidth <= width && t.dim(0) <= 20
            let marked = r.table.contains { $0.contains("…") }
            #expect(marked == !fits, "shape \(t.shape) width \(width): whole table \(wholeWidth) wide")
            #expect(r.elidedCols == (wholeWidth > width))
            #expect(r.elidedRows == (t.dim(0) > 20))
            if fits { #expect(r.table == whole.table) }
        }
    }

    @Test("a packed vector is elided exactly when values are left out", arguments: widths)
    func vectorElision(width: Int) {
        var rng = SplitMix64(seed: UInt64(2000 + width))
        for _ in 0..<8 {
            let n = 1 + Int(rng.next() % 400)
            let t = Tensor(shape: [n], data: (0..<n).map { _ in rng.nextFloat() - 0.5 })
            let lines = TableView.layout(t, axes: [Axis("d")], options: ViewOptions(width: width), mask: .none, name: nil).table
            // Count the printed values (everything after the │ on each data line).
            let shown = lines.compactMap { $0.split(separator: "│").dropFirst().first }
                .map { $0.split(separator: " ").count }.reduce(0, +)
            let marked = lines.contains { $0.contains("…") }
            #expect(marked == (shown < n), "n \(n) width \(width): \(shown) shown")
            #expect(shown <= n)
        }
    }

    @Test("a heatmap is elided exactly when its cells do not fit (one column each; two for signed data, sign and bar)", arguments: widths)
    func heatmapElision(width: Int) {
        var rng = SplitMix64(seed: UInt64(3000 + width))
        for _ in 0..<8 {
            let (t, axes) = Self.sample(&rng)
            let r = HeatmapView.layout(t, axes: axes, options: ViewOptions(width: width, maxRows: 20),
                                       mask: .none, range: nil)
            // Drawn with unlimited room, the frame shows how wide the whole heatmap is at one column a cell.
            let whole = HeatmapView.layout(t, axes: axes, options: ViewOptions(width: 100_000, maxRows: 100_000),
                                           mask: .none, range: nil)
            let frame = whole.lines.first { $0.contains("┌") }!
            let signed = (t.data.min() ?? 0) < 0 && (t.data.max() ?? 0) > 0
            let oneColumnWidth = TextWidth.of(frame) - (signed ? 0 : t.dim(1))  // the frame line drawn with 2-column cells
            let fitsColumns = oneColumnWidth <= width
            #expect(r.elidedCols == !fitsColumns, "shape \(t.shape) width \(width)")
            #expect(r.elidedRows == (t.dim(0) > 20))
            #expect(r.lines.contains { $0.contains("…") } == (r.elidedCols || r.elidedRows))
        }
    }

    @Test("the same input gives the same lines")
    func pure() {
        let (t, axes) = ViewSamples.residual(12, 64)
        #expect(TableView.render(t, axes: axes) == TableView.render(t, axes: axes))
        #expect(HeatmapView.render(t, axes: axes) == HeatmapView.render(t, axes: axes))
    }

    @Test("display width: wide characters count 2, combining marks 0, escapes 0")
    func displayWidth() {
        #expect(TextWidth.of("cat") == 3)
        #expect(TextWidth.of("猫") == 2)
        #expect(TextWidth.of("'日本語'") == 8)
        #expect(TextWidth.of("e\u{301}") == 1)
        #expect(TextWidth.of("한국") == 4)
        #expect(TextWidth.of("🙂") == 2)
        #expect(TextWidth.of("\u{1B}[38;5;244mab\u{1B}[0m") == 2)
        #expect(TextWidth.of("░▒▓█…×·") == 7)
        #expect(TextWidth.truncate("'日本語です'", to: 6) == "'日本…")
        #expect(TextWidth.of(TextWidth.truncate("'日本語です'", to: 6)) <= 6)
    }

    @Test("numbers format without a locale")
    func numbers() {
        #expect(NumberFormat.fixed(-0.0005, 3) == "-0.001")
        #expect(NumberFormat.fixed(1234.5678, 2) == "1234.57")
        #expect(NumberFormat.fixed(2.5, 0) == "3")
        #expect(NumberFormat.scientific(123456789, 3) == "1.235e+08")
        #expect(NumberFormat.scientific(-0.00012345, 2) == "-1.23e-04")
        #expect(NumberFormat.scientific(9.9996, 3) == "1.000e+01")
        #expect(NumberFormat.format(-.infinity, 3, .fixed) == "-inf")
    }

    @Test("wide token labels keep columns aligned")
    func wideLabels() {
        let labels = ["'猫'", "'が'", "'座った'"].map { $0 }
        let t = Tensor(shape: [3, 3], data: [1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5])
        let lines = TableView.render(t, axes: [Axis("query_pos", labels: labels), Axis("key_pos", labels: labels)],
                                     mask: .causal)
        Snapshot.check(lines, "table_wide_labels")
        let rows = lines.filter { $0.contains("'") && $0.contains(".") }
        #expect(Set(rows.map(TextWidth.of)).count == 1)
    }
}
