import Testing
@testable import StepwiseKit

@Suite("Prose, records and pieces")
struct ProseTests {
    @Test("prose wraps on word boundaries under its first-line label, keeps runs of spaces, caps at 100 columns")
    func wrap() {
        let text = "The next token is ' the': it had a 45.2% chance with these settings (the model alone gave it 17.0%)."
        let lines = Prose.wrap(text, width: 40, first: "   ")
        #expect(lines == ["   The next token is ' the': it had a", "   45.2% chance with these settings (the",
                          "   model alone gave it 17.0%)."])
        #expect(Prose.wrap("a  b", width: 80) == ["a  b"])
        #expect(Prose.wrap("text: 'one two'", width: 80, first: "x ", rest: "  ") == ["x text: 'one two'"])
        let long = Array(repeating: "word", count: 60).joined(separator: " ")
        #expect(Prose.wrap(long, width: 300).allSatisfy { TextWidth.of($0) <= 100 })
        #expect(Prose.wrap(long, width: 300, cap: false).count == 1)
        // Token labels hold spaces: a list of them breaks between labels only.
        #expect(Prose.wrapItems(["' the'", "' cat'", "' sat'"], width: 20, first: "A: ", rest: "   ") == ["A: ' the' ' cat'", "   ' sat'"])
        // A word longer than the line is cut rather than sticking out.
        #expect(Prose.wrap(String(repeating: "x", count: 50), width: 20).map(TextWidth.of) == [20, 20, 10])
    }

    @Test("records: ids are whole numbers in their own column, text columns shrink to fit, the marked row is shown")
    func records() {
        let rows = (0..<100).map { [String($0), "'tok\($0)'", String(1000 + $0), "0.010"] }
        let columns = [RecordsView.Column("rank"), RecordsView.Column("token", numeric: false), RecordsView.Column("id"),
                       RecordsView.Column("probability")]
        var o = ViewOptions(width: 80)
        o.maxRows = 12
        let lines = RecordsView.render(columns: columns, rows: rows, options: o, mark: 57)
        #expect(lines[0] == "  rank  token      id  probability")
        #expect(lines[1] == "     0  'tok0'   1000        0.010")
        #expect(lines.contains("▶   57  'tok57'  1057        0.010"))
        #expect(lines.last == "    99  'tok99'  1099        0.010")
        #expect(lines.count <= 16)
        let narrow = RecordsView.render(columns: columns, rows: [["0", String(repeating: "w", count: 60), "7", "0.5"]],
                                        options: ViewOptions(width: 40))
        #expect(narrow.allSatisfy { TextWidth.of($0) <= 40 })
    }

    @Test("pieces in ASCII mode: no Ġ; a space is _, other bytes <0xNN>; non-byte-level pieces keep their ASCII")
    func pieces() {
        #expect(PieceText.display("Ġsat", unicode: true, byteLevel: true) == "Ġsat")
        #expect(PieceText.display("Ġsat", unicode: false, byteLevel: true) == "_sat")
        #expect(PieceText.display("Ċ", unicode: false, byteLevel: true) == "<0x0A>")
        #expect(PieceText.display("Ã©", unicode: false, byteLevel: true) == "<0xC3><0xA9>")
        #expect(PieceText.display("##ing", unicode: false, byteLevel: false) == "##ing")
        #expect(PieceText.display("café", unicode: false, byteLevel: false) == "caf<U+00E9>")
        #expect(PieceText.needsLegend(["Ġa"], unicode: false, byteLevel: true))
        #expect(!PieceText.needsLegend(["ab"], unicode: false, byteLevel: true))
    }

    @Test("bars stop at 100 columns on a wide terminal")
    func bars() {
        let lines = BarView.render(items: [("a", 1), ("b", 0.5)], options: ViewOptions(width: 240))
        #expect(lines.allSatisfy { TextWidth.of($0) <= 100 })
        #expect(TextWidth.of(lines[0]) > 90)
    }
}

@Suite("NarrationStyle")
struct NarrationStyleTests {
    @Test("inline Markdown: bold and code spans, emphasis and links lose their marks, escapes and plain stars stay")
    func inline() {
        #expect(NarrationStyle.line("a **b c** `d*e*` *f* [g](h) \\*i\\* 2 * 3", color: false) == "a b c d*e* f g (h) *i* 2 * 3")
        #expect(NarrationStyle.line("``a ` b``", color: false) == "a ` b")
        #expect(NarrationStyle.line("**unclosed", color: false) == "**unclosed")
        #expect(NarrationStyle.words("**b c** d", color: true) == ["\u{1B}[1mb\u{1B}[0m", "\u{1B}[1mc\u{1B}[0m", "d"])
    }
}
