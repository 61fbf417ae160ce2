import Testing
@testable import StepwiseKit

@Suite("NarrationWrapper")
struct NarrationWrapperTests {
    @Test("paragraphs are joined and wrapped at word boundaries")
    func paragraphs() {
        let text = ["The quick brown fox", "jumps over the lazy dog.", "", "", "Second paragraph here."]
        #expect(NarrationWrapper.wrap(text, width: 16) == [
            "The quick brown", "fox jumps over", "the lazy dog.", "", "Second paragraph", "here.",
        ])
        #expect(NarrationWrapper.wrap(["a supercalifragilistic word"], width: 8) == ["a", "supercalifragilistic", "word"])
    }

    @Test("list items start lines and hang their continuation")
    func lists() {
        let text = ["Steps:", "- first item that is long", "- second", "12. numbered item", "    continues here"]
        #expect(NarrationWrapper.wrap(text, width: 14) == [
            "Steps:", "- first item", "  that is long", "- second", "12. numbered", "    item", "    continues", "    here",
        ])
    }

    @Test("code fences, headings, tables and quotes are preserved")
    func verbatim() {
        let text = ["## A heading that is long", "```", "let x =   1   // a long line of code", "```",
                    "| a | b |", "> quoted text that wraps", "> more"]
        #expect(NarrationWrapper.wrap(text, width: 12) == [
            "## A heading that is long", "```", "let x =   1   // a long line of code", "```",
            "| a | b |", "> quoted", "> text that", "> wraps more",
        ])
    }

    @Test("hard breaks end a line")
    func hardBreaks() {
        #expect(NarrationWrapper.wrap(["one  ", "two\\", "three"], width: 40) == ["one", "two", "three"])
    }
}
