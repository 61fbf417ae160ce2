import Testing
@testable import StepwiseKit

@Suite("step queries")
struct StepQueryTests {
    /// A trace with one `[head 4, query_pos 5, key_pos 5]` pattern step in layer 0.
    func trace() -> Trace {
        var t = Trace(tokenIDs: [1, 2, 3, 4, 5], positionLabels: ["a", "b", "c", "d", "e"])
        t.record(Step(name: "blocks.0.attn.hook_pattern", title: "Pattern", formula: "", explanation: "",
                      tensor: Tensor(shape: [4, 5, 5], data: (0..<100).map(Float.init)),
                      axes: [Axis("head"), Axis("query_pos"), Axis("key_pos")], inputs: [], layer: 0))
        return t
    }

    @Test("a slice after 'pattern L head H' applies to the head's query and key axes")
    func sliceAfterHead() throws {
        let q = try StepQuery.parse("pattern 0 head 3[2, :3]", in: trace())
        #expect(q.name == "blocks.0.attn.hook_pattern")
        #expect(q.selections == [.index(3), .index(2), .range(0, 3, 1)])
        let whole = try StepQuery.parse("pattern 0 head 1", in: trace())
        #expect(whole.selections == [.index(1)])
        let row = try StepQuery.parse("pattern 0 head 2[-1]", in: trace())
        #expect(row.selections == [.index(2), .index(4)])
    }

    @Test("a slice after 'pattern L head H' is checked against the head's axes")
    func sliceAfterHeadChecked() {
        // Three parts are too many once the head is chosen; 5 is out of range for query_pos.
        #expect(throws: StepwiseError.self) { try StepQuery.parse("pattern 0 head 0[0, 0, 0]", in: trace()) }
        #expect(throws: StepwiseError.self) { try StepQuery.parse("pattern 0 head 0[5]", in: trace()) }
        #expect(throws: StepwiseError.self) { try StepQuery.parse("pattern 0 head 4", in: trace()) }
    }
}
