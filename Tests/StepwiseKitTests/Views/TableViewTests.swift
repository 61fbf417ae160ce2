import Testing
@testable import StepwiseKit

@Suite("TableView")
struct TableViewTests {
    @Test("a [12, 64] table elides its middle columns at width 80")
    func wide80() {
        let (t, axes) = ViewSamples.residual(12, 64)
        Snapshot.check(TableView.render(t, axes: axes, options: ViewOptions(width: 80)), "table_12x64_w80")
    }

    @Test("a [12, 64] table elides its middle columns at width 40")
    func wide40() {
        let (t, axes) = ViewSamples.residual(12, 64)
        Snapshot.check(TableView.render(t, axes: axes, options: ViewOptions(width: 40)), "table_12x64_w40")
    }

    @Test("ASCII mode uses ... and no other non-ASCII character")
    func ascii() {
        let (t, axes) = ViewSamples.residual(12, 64)
        let lines = TableView.render(t, axes: axes, options: ViewOptions(width: 80, unicode: false))
        Snapshot.check(lines, "table_12x64_w80_ascii")
        #expect(lines.allSatisfy { $0.unicodeScalars.allSatisfy(\.isASCII) })
        #expect(lines.contains { $0.contains("...") })
    }

    @Test("a causal pattern with token labels on both axes, masked cells as ·")
    func pattern() {
        let lines = TableView.render(ViewSamples.causalPattern(5), axes: ViewSamples.patternAxes(5), mask: .causal)
        Snapshot.check(lines, "table_pattern_5x5")
        // Row 0 sees only key 0: its four later keys are masked.
        #expect(lines.first { $0.hasPrefix("  0 'The'") }?.filter { $0 == "·" }.count == 4)
    }

    @Test("masked scores print -inf, negatives keep their sign")
    func scores() {
        let t = ViewSamples.causalScores(5)
        let lines = TableView.render(t, axes: ViewSamples.patternAxes(5))
        Snapshot.check(lines, "table_scores_5x5")
        let body = lines.joined(separator: "\n")
        #expect(body.contains("-inf"))
        #expect(body.contains("-inf ×10 (masked)"))
        let negatives = t.data.filter { $0 < 0 && $0.isFinite }.count
        #expect(negatives > 0)
        #expect(body.components(separatedBy: " -").count - 1 >= negatives)
    }

    @Test("a rank-1 vector is packed several values per line")
    func vector() {
        let t = Tensor(shape: [64], data: ViewSamples.values(64, seed: 11))
        Snapshot.check(TableView.render(t, axes: [Axis("d_model")]), "table_vector_64")
    }

    @Test("a rank-1 vector over positions shows one labelled row per position")
    func labelledVector() {
        let t = Tensor(shape: [6], data: [1.25, 0.5, 3.125, 0.875, 12.5, 0.0625])
        Snapshot.check(TableView.render(t, axes: [Axis("pos", labels: ViewSamples.labels(6))]), "table_vector_pos6")
    }

    @Test("a rank-3 tensor shows its first slice and says how to pick another")
    func rank3() {
        var data: [Float] = []
        for h in 0..<4 { data += ViewSamples.causalPattern(5, seed: UInt64(h + 1)).data }
        let t = Tensor(shape: [4, 5, 5], data: data)
        let axes = [Axis("head")] + ViewSamples.patternAxes(5)
        let lines = TableView.render(t, axes: axes, mask: .causal, name: "blocks.0.attn.hook_pattern")
        Snapshot.check(lines, "table_pattern_4x5x5")
        #expect(lines[0] == "  [0, :, :] of 4 — slice with show blocks.0.attn.hook_pattern[i]")
    }

    @Test("a long table elides rows in the middle")
    func tall() {
        let (t, axes) = ViewSamples.residual(40, 3, seed: 5, scale: 100)
        let lines = TableView.render(t, axes: axes, options: ViewOptions(maxRows: 8))
        Snapshot.check(lines, "table_40x3_rows8")
        #expect(lines.filter { $0.contains("…") }.count == 1)
    }

    @Test("huge and tiny magnitudes switch to scientific notation")
    func scientific() {
        let big = Tensor(shape: [2, 3], data: [1.5e7, -2.25e8, 3, 0, 4.5e-3, -1])
        let small = Tensor(shape: [2, 3], data: [1e-5, -2e-6, 3e-7, 0, 4.5e-5, -1e-4])
        Snapshot.check(TableView.render(big, axes: [Axis("a"), Axis("b")]) +
                       TableView.render(small, axes: [Axis("a"), Axis("b")]), "table_scientific")
    }

    @Test("colour mode greys the labels; never mode has no escapes")
    func colour() {
        let (t, axes) = ViewSamples.residual(4, 6)
        let coloured = TableView.render(t, axes: axes, options: ViewOptions(color: .ansi256))
        Snapshot.check(coloured, "table_4x6_colour")
        #expect(coloured.contains { $0.contains("\u{1B}[") })
        let plain = TableView.render(t, axes: axes)
        #expect(!plain.contains { $0.contains("\u{1B}") })
        #expect(coloured.map(TextWidth.of) == plain.map(TextWidth.of))
    }
}
