import Testing
@testable import StepwiseKit

/// A sliding window masks keys more than `W − 1` positions back, in the scores and in every view of the pattern.
@Suite("sliding-window masks")
struct SlidingWindowMaskTests {
    @Test("masked scores: a query sees itself and the W − 1 keys before it (transformers' sliding_window)")
    func scores() {
        let T = 6, W = 3
        let raw = Tensor(shape: [1, T, T], data: (0..<(T * T)).map { Float($0) })
        let m = AttentionMath.masked(raw, start: 0, causal: true, window: W)
        for q in 0..<T {
            for k in 0..<T {
                let visible = k <= q && k > q - W
                #expect((m.data[q * T + k] == -.infinity) == !visible, "q \(q) k \(k)")
            }
        }
        // A cached pass: two new queries at positions 4 and 5 over six keys.
        let cached = AttentionMath.masked(Tensor(shape: [1, 2, T], data: Array(repeating: 1, count: 2 * T)),
                                          start: 4, causal: true, window: W)
        #expect(cached.data.map { $0.isFinite } == [false, false, true, true, true, false,
                                                    false, false, false, true, true, true])
        // Without the causal mask the window reaches both ways.
        let both = AttentionMath.masked(raw, start: 0, causal: false, window: 2)
        #expect(both.data[2 * T ..< 3 * T].map { $0.isFinite } == [false, true, true, true, false, false])
    }

    @Test("the view mask is read from the scores: window cells drawn as masked, not as zeros")
    func viewMask() throws {
        let T = 6, W = 3
        let raw = Tensor(shape: [1, T, T], data: Array(repeating: 0.5, count: T * T))
        let scores = AttentionMath.masked(raw, start: 0, causal: true, window: W)
        let pattern = scores.softmax()
        let labels = (0..<T).map { "t\($0)" }
        let axes = [Axis("head"), Axis("query_pos", labels: labels), Axis("key_pos", labels: labels)]
        var trace = Trace(tokenIDs: Array(0..<T), positionLabels: labels)
        trace.record(Step(name: "blocks.0.attn.hook_attn_scores", title: "", formula: "", explanation: "", tensor: scores, axes: axes, layer: 0))
        trace.record(Step(name: "blocks.0.attn.hook_pattern", title: "", formula: "", explanation: "", tensor: pattern, axes: axes, layer: 0))
        let mask = StepRenderer.mask(for: trace.steps[1], in: trace)
        #expect(mask == .causalWindow(W))
        #expect(mask.isMasked(row: 5, col: 2, rows: T, cols: T))
        #expect(!mask.isMasked(row: 5, col: 3, rows: T, cols: T))
        #expect(mask.isMasked(row: 1, col: 2, rows: T, cols: T))
        let heat = HeatmapView.render(pattern.sliced([.index(0)]), axes: Array(axes.dropFirst()), mask: mask, range: 0...1)
        let row5 = try #require(heat.first { $0.hasPrefix("  5 ") }, "\(heat.joined(separator: "\n"))")
        #expect(row5.filter { $0 == "×" }.count == 3, "\(row5)")
        #expect(heat.contains { $0.contains("window of 3") }, "\(heat.joined(separator: "\n"))")
        // A slice keeps full-axis positions: rows 4-5, keys 0-5.
        let sliced = ViewMask.causalPositions(queries: [4, 5], keys: Array(0..<6), offset: 0, window: W)
        #expect(sliced.isMasked(row: 0, col: 1, rows: 2, cols: 6) && !sliced.isMasked(row: 0, col: 2, rows: 2, cols: 6))
    }
}
