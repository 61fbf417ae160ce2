import Testing
@testable import StepwiseKit

@Suite("HeatmapView")
struct HeatmapViewTests {
    @Test("a 5x5 causal pattern: bars, masked cells marked ×, legend")
    func pattern() {
        let lines = HeatmapView.render(ViewSamples.causalPattern(5), axes: ViewSamples.patternAxes(5),
                                       mask: .causal, range: 0...1)
        Snapshot.check(lines, "heatmap_pattern_5x5")
        // Row 0 attends only to itself: a full block, then four masked cells.
        #expect(lines.contains { $0.hasPrefix("  0 'The'") && $0.hasSuffix("│██ × × × ×│") })
        #expect(lines.contains { $0.contains("scale 0.000 [  ▁▁▂▂▃▃▄▄▅▅▆▆▇▇██] 1.000 (taller = more, blank < 0.010)") })
        #expect(lines.contains { $0.contains("× masked") })
    }

    @Test("ASCII mode: the ramp ' .:-=+*#%@', x for masked, pure ASCII")
    func ascii() {
        let lines = HeatmapView.render(ViewSamples.causalPattern(5), axes: ViewSamples.patternAxes(5),
                                       options: ViewOptions(unicode: false), mask: .causal, range: 0...1)
        Snapshot.check(lines, "heatmap_pattern_5x5_ascii")
        #expect(lines.allSatisfy { $0.unicodeScalars.allSatisfy(\.isASCII) })
        #expect(lines.contains { $0.hasPrefix("  0 'The'") && $0.hasSuffix("|@@ x x x x|") })
    }

    @Test("colour mode: viridis backgrounds (dark theme: brightest = 1; light theme reversed); signed scores use the diverging ramp")
    func colour() {
        let o = ViewOptions(color: .ansi256)
        let pattern = HeatmapView.render(ViewSamples.causalPattern(5), axes: ViewSamples.patternAxes(5),
                                         options: o, mask: .causal, range: 0...1)
        Snapshot.check(pattern, "heatmap_pattern_5x5_colour")
        #expect(pattern.contains { $0.contains("\u{1B}[48;5;220m  ") })  // the 1.0 cell is viridis' yellow
        #expect(pattern.contains { $0.contains("(brighter = more, blank < 0.010)") })
        var light = o
        light.theme = .light
        let onLight = HeatmapView.render(ViewSamples.causalPattern(5), axes: ViewSamples.patternAxes(5),
                                         options: light, mask: .causal, range: 0...1)
        #expect(onLight.contains { $0.contains("\u{1B}[48;5;54m  ") })  // 1.0 is viridis' deep purple
        #expect(onLight.contains { $0.contains("(darker = more, blank < 0.010)") })
        let scores = HeatmapView.render(ViewSamples.causalScores(5), axes: ViewSamples.patternAxes(5), options: o)
        Snapshot.check(scores, "heatmap_scores_5x5_colour")
        #expect(scores.contains { $0.contains("\u{1B}[48;5;196m") })  // the largest score: full red
        #expect(scores.contains { $0.contains("masked (-inf)") })
        let plain = HeatmapView.render(ViewSamples.causalScores(5), axes: ViewSamples.patternAxes(5))
        #expect(!plain.contains { $0.contains("\u{1B}") })
    }

    @Test("a 30x30 pattern falls back to one-column cells and a ruler with tens")
    func ruler() {
        let lines = HeatmapView.render(ViewSamples.causalPattern(30), axes: ViewSamples.patternAxes(30),
                                       options: ViewOptions(width: 60), mask: .causal, range: 0...1)
        Snapshot.check(lines, "heatmap_pattern_30x30_w60")
        #expect(lines.contains { $0.contains("10        20") })
    }

    @Test("a 40x40 pattern at width 40 elides columns and rows")
    func elided() {
        let lines = HeatmapView.render(ViewSamples.causalPattern(40), axes: ViewSamples.patternAxes(40),
                                       options: ViewOptions(width: 40, maxRows: 10), mask: .causal, range: 0...1)
        Snapshot.check(lines, "heatmap_pattern_40x40_w40")
        #expect(lines.allSatisfy { TextWidth.of($0) <= 40 })
        #expect(lines.contains { $0.contains("┄") })
    }

    @Test("keys different from queries (a cached pass) get a key line")
    func cached() {
        // 2 new queries over 5 keys: query 0 is position 3.
        var t = Tensor.zeros([2, 5])
        for k in 0...3 { t[0, k] = 0.25 }
        for k in 0...4 { t[1, k] = 0.2 }
        let axes = [Axis("query_pos", labels: Array(ViewSamples.labels(5)[3...])),
                    Axis("key_pos", labels: ViewSamples.labels(5))]
        let lines = HeatmapView.render(t, axes: axes, mask: .causal, range: 0...1)
        Snapshot.check(lines, "heatmap_cached_2x5")
        #expect(lines.contains { $0.contains("key_pos:  0 'The'  1 ' cat'") })
        #expect(lines.contains { $0.hasSuffix("▂▂▂▂▂▂▂▂ ×│") })
    }

    @Test("a grid of heads wraps into rows of panels")
    func grid() {
        let heads = (0..<9).map { (title: "head \($0)", tensor: ViewSamples.causalPattern(5, seed: UInt64($0 + 1))) }
        let lines = HeatmapView.renderGrid(matrices: heads, labels: ViewSamples.labels(5), mask: .causal, range: 0...1)
        Snapshot.check(lines, "heatmap_grid_9x5x5")
        #expect(lines.filter { $0.contains("head ") }.count == 2)  // two rows of panels at width 80
        let narrow = HeatmapView.renderGrid(matrices: heads, labels: ViewSamples.labels(5),
                                            options: ViewOptions(width: 40), mask: .causal, range: 0...1)
        Snapshot.check(narrow, "heatmap_grid_9x5x5_w40")
        #expect(narrow.allSatisfy { TextWidth.of($0) <= 40 })
    }

    @Test("a rank-3 tensor renders as a grid titled by the first axis")
    func rank3() {
        var data: [Float] = []
        for h in 0..<3 { data += ViewSamples.causalPattern(4, seed: UInt64(h + 1)).data }
        let t = Tensor(shape: [3, 4, 4], data: data)
        let lines = HeatmapView.render(t, axes: [Axis("head")] + ViewSamples.patternAxes(4), mask: .causal)
        #expect(lines.contains { $0.contains("head 0") && $0.contains("head 2") })
    }
}

@Suite("HeatScale levels")
struct HeatScaleLevelTests {
    @Test("eight steps without colour; a weight of 0.05 or more is never blank; each step's top stays on it")
    func levels() {
        let scale = HeatScale(lo: 0, hi: 1, options: ViewOptions())
        let cells = stride(from: Float(0), through: 1, by: 0.01).map { scale.cell($0, masked: false, width: 1) }
        #expect(Set(cells).count == 9)
        for v in stride(from: Float(0.05), through: 1, by: 0.01) { #expect(scale.cell(v, masked: false, width: 1) != " ", "\(v)") }
        #expect(scale.cell(0.005, masked: false, width: 1) == " ")
        #expect((1...8).map { scale.cell(Float($0) / 8, masked: false, width: 1) } == ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"])
    }

    @Test("signed data without colour shows the sign before the bar, in two-column cells")
    func signed() {
        let scale = HeatScale(lo: -2, hi: 4, options: ViewOptions())
        #expect(scale.needsTwoColumns)
        #expect(scale.cell(-2, masked: false, width: 2) == "-▄")
        #expect(scale.cell(4, masked: false, width: 2) == "+█")
        #expect(scale.cell(0, masked: false, width: 2) == "  ")
        let ascii = HeatScale(lo: -1, hi: 1, options: ViewOptions(unicode: false))
        #expect(ascii.cell(-1, masked: false, width: 2) == "-&")
        #expect(!HeatScale(lo: 0, hi: 1, options: ViewOptions()).needsTwoColumns)
    }
}
