import Testing
@testable import StepwiseKit

/// Views of a slice keep the numbers positions had on the full axis, and a causal mask follows them.
@Suite("views of slices")
struct SlicedViewTests {
    /// A `[head 2, query_pos 6, key_pos 6]` causal pattern step.
    func patternStep() -> Step {
        let p = ViewSamples.causalPattern(6)
        let data = p.data + p.data
        return Step(name: "blocks.0.attn.hook_pattern", title: "Pattern", formula: "", explanation: "",
                    tensor: Tensor(shape: [2, 6, 6], data: data),
                    axes: [Axis("head"), Axis("query_pos", labels: ViewSamples.labels(6)), Axis("key_pos", labels: ViewSamples.labels(6))],
                    inputs: [], layer: 0)
    }

    @Test("a range slice records where its entries came from; an index list keeps its own order")
    func slicePositions() {
        let (t, axes) = StepRenderer.slice(patternStep(), [.index(1), .range(3, 6, 1), .range(0, 6, 2)])
        #expect(t.shape == [3, 3])
        #expect(axes.map(\.name) == ["query_pos", "key_pos"])
        #expect(axes[0].positions == [3, 4, 5])
        #expect(axes[1].positions == [0, 2, 4])
        #expect(axes[0].labels == Array(ViewSamples.labels(6)[3...]))
        // Slicing a slice composes.
        let step = Step(name: "x", title: "", formula: "", explanation: "", tensor: t, axes: axes, inputs: [])
        let (_, again) = StepRenderer.slice(step, [.range(1, 3, 1)])
        #expect(again[0].positions == [4, 5])
        let (_, listed) = StepRenderer.slice(patternStep(), [.all, .indices([5, 1])])
        #expect(listed[1].positions == nil)
    }

    @Test("rows of a sliced table and heatmap are numbered by their positions; the mask follows them")
    func numberedRowsAndMask() {
        let (t, axes) = StepRenderer.slice(patternStep(), [.index(0), .range(3, 6, 1)])
        let table = TableView.render(t, axes: axes)
        #expect(table.contains { $0.hasPrefix("  3 ' on'") })
        #expect(table.contains { $0.hasPrefix("  5 ' mat'") })
        #expect(!table.contains { $0.hasPrefix("  0 ") })
        // Query 3 may see keys 0-3: with the slice's own indices (rows 0-2) the old rule masked keys 1-5.
        let mask = ViewMask.causalPositions(queries: [3, 4, 5], keys: Array(0..<6), offset: 0)
        #expect(!mask.isMasked(row: 0, col: 3, rows: 3, cols: 6))
        #expect(mask.isMasked(row: 0, col: 4, rows: 3, cols: 6))
        #expect(!mask.isMasked(row: 2, col: 5, rows: 3, cols: 6))
        let heat = HeatmapView.render(t, axes: axes, mask: mask, range: 0...1)
        let row3 = heat.first { $0.hasPrefix("  3 ' on'") }
        let row5 = heat.first { $0.hasPrefix("  5 ' mat'") }
        #expect(row3?.hasSuffix("× ×│") == true, "\(row3 ?? "no row 3")")
        #expect(row5.map { !$0.contains("×") } == true, "\(row5 ?? "no row 5")")
    }
}
