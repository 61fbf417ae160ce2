import Testing
@testable import StepwiseKit

@Suite("StepHeader")
struct StepHeaderTests {
    let step = Step(
        name: "blocks.0.attn.hook_pattern", title: "Attention pattern (layer 0)",
        formula: "pattern = softmax(scores)",
        explanation: "Each query position turns its scores into weights that sum to 1 over the keys it may see; masked (later) keys get weight 0.",
        tensor: Tensor.zeros([9, 5, 5]),
        axes: [Axis("head"), Axis("query_pos"), Axis("key_pos")],
        inputs: ["blocks.0.attn.hook_attn_scores"], layer: 0)

    @Test("name, title, wrapped explanation, formula, shape, inputs")
    func header() {
        let lines = StepHeader.render(step: step, index: 14, total: 212)
        Snapshot.check(lines, "header_pattern")
        #expect(lines[0].hasPrefix("── step 15 of 212 ── blocks.0.attn.hook_pattern ─"))
        #expect(TextWidth.of(lines[0]) == 80)
        #expect(lines.contains("  shape    [head 9, query_pos 5, key_pos 5]"))
        #expect(lines.contains("  from     blocks.0.attn.hook_attn_scores"))
    }

    @Test("narrow, ASCII and colour variants")
    func variants() {
        Snapshot.check(StepHeader.render(step: step, index: 14, total: 212, options: ViewOptions(width: 40, unicode: false)),
                       "header_pattern_w40_ascii")
        Snapshot.check(StepHeader.render(step: step, index: 14, total: 212, options: ViewOptions(color: .ansi256)),
                       "header_pattern_colour")
        let embed = Step(name: "hook_embed", title: "Token embedding", formula: "W_E[token]", explanation: "",
                         tensor: .zeros([5, 64]), axes: [Axis("pos"), Axis("d_model")])
        #expect(StepHeader.render(step: embed, index: 0, total: 3).last == "  from     (the input tokens)")
    }
}
