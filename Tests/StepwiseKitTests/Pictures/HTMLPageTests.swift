import Foundation
import Testing
@testable import StepwiseKit

/// The inline `<svg>…</svg>` elements of a page.
func inlineSVGs(_ page: String) -> [String] {
    var out: [String] = []
    var rest = Substring(page)
    while let a = rest.range(of: "<svg "), let b = rest[a.lowerBound...].range(of: "</svg>") {
        out.append(String(rest[a.lowerBound..<b.upperBound]))
        rest = rest[b.upperBound...]
    }
    return out
}

/// What every page must be: nothing from the network, no script, no raw control character.
func expectSelfContained(_ page: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!page.contains("http://") && !page.contains("https://"), sourceLocation: sourceLocation)
    #expect(!page.lowercased().contains("<script"), sourceLocation: sourceLocation)
    #expect(!page.lowercased().contains("<link") && !page.contains("@import") && !page.contains("url("), sourceLocation: sourceLocation)
    #expect(!page.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) },
            sourceLocation: sourceLocation)
    #expect(page.contains("Content-Security-Policy\" content=\"default-src 'none'"), sourceLocation: sourceLocation)
}

@Suite("Pictures: HTML pages")
struct HTMLPageTests {
    @Test("record FILE.html: every command and its output as text, its heatmaps and bars as inline SVG with hover values")
    func recordSession() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("show pattern 0 head 2")
        try f.run("top 5")
        try f.run("heads 1")
        try f.run("goto pattern 1")
        try f.run("tokens")
        let out = try f.run("record class.html")
        #expect(out == ["wrote 6 commands to class.html (one page, pictures inline)"])
        let page = try f.text("class.html")
        expectSelfContained(page)
        for c in ["prompt It is a truth universally acknowledged, that a single man", "show pattern 0 head 2", "top 5",
                  "heads 1", "goto pattern 1", "tokens"] {
            #expect(page.contains("<span class=\"prompt\">stepwise&gt; </span>" + Markup.escape(c) + "</pre>"), "\(c)")
        }
        #expect(page.contains("next token: &#39;,&#39;"))
        let svgs = inlineSVGs(page)
        #expect(svgs.count == 4, "show, top, heads, goto")
        for s in svgs {
            #expect(!s.contains("xmlns"))
            let parsed = try ParsedSVG(s)
            #expect(parsed.cells("cell").allSatisfy { !$0.title.isEmpty })
        }
        let show = try ParsedSVG(svgs[0])
        #expect(show.cells("cell").contains { $0.title.contains("query_pos 3 ' truth' → key_pos 2 ' a': ") })
        #expect(try ParsedSVG(svgs[1]).cells("bar").count == 5)
        #expect(!page.contains("picture left out"))
    }

    @Test("a picture is drawn only from the state the command saw: after a new prompt, earlier views say they were left out")
    func staleState() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("show pattern 0 head 0")
        try f.run("prompt Elizabeth looked at her sister")
        try f.run("top 3")
        try f.run("record s.html")
        let page = try f.text("s.html")
        #expect(inlineSVGs(page).count == 1, "only top 3, which ran on the current trace")
        #expect(page.components(separatedBy: "picture left out").count == 2)
    }

    @Test("record FILE.html follows the overwrite rules")
    func overwrite() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("record s.html")
        #expect(f.failure("record s.html")?.contains("'s.html' exists; add --force to overwrite it") == true)
        try f.run("record s.html --force")
    }

    @Test("a lesson as a page: narration as HTML, commands with outputs and pictures, quizzes as collapsible answers")
    func lessonPage() throws {
        let path = TestPaths.repoRoot.appendingPathComponent("lessons/04-one-head.md").path
        let page = try LessonHTML.render(path: path)
        expectSelfContained(page)
        let lesson = try LessonParser.load(path: path)
        #expect(page.contains("<h1>" + NarrationHTML.inline(lesson.title) + "</h1>"))
        #expect(page.contains("<strong>query</strong>") && page.contains("<code>q</code>"))
        #expect(page.contains("<details class=\"quiz\">") && page.contains("<summary>Quiz: "))
        #expect(page.contains("<p class=\"answer\">Answer: "))
        #expect(!page.contains("<pre class=\"error\">"), "every command of the lesson runs")
        #expect(!inlineSVGs(page).isEmpty)
        for s in inlineSVGs(page) { _ = try ParsedSVG(s) }
        for case .commands(let block) in lesson.blocks {
            for c in block.commands { #expect(page.contains(Markup.escape(c.text))) }
        }
    }

    @Test("every shipped lesson renders to a self-contained page", arguments: ["01-next-word.md", "05-many-heads.md", "07-choosing.md"])
    func shippedLessons(_ file: String) throws {
        let page = try LessonHTML.render(path: TestPaths.repoRoot.appendingPathComponent("lessons/" + file).path)
        expectSelfContained(page)
        for s in inlineSVGs(page) { _ = try ParsedSVG(s) }
    }

    @Test("narration Markdown: paragraphs, bold, code, lists, headings, fences; links are text; everything escaped")
    func narration() {
        let html = NarrationHTML.render([
            "A **bold** word and `a <b> & c` span,", "on two lines.", "", "## A heading", "- one *item*", "- two",
            "  continued", "", "1. first", "2. second", "", "See [the paper](https://example.org/x) <now>.", "```", "x < y", "```",
        ])
        #expect(html.contains("<p>A <strong>bold</strong> word and <code>a &lt;b&gt; &amp; c</code> span, on two lines.</p>"))
        #expect(html.contains("<h3>A heading</h3>"))
        #expect(html.contains("<ul>\n<li>one <em>item</em></li>\n<li>two continued</li>\n</ul>"))
        #expect(html.contains("<ol>\n<li>first</li>\n<li>second</li>\n</ol>"))
        #expect(html.contains("See the paper (https://example.org/x) &lt;now&gt;.") && !html.contains("href"))
        #expect(html.contains("<pre class=\"narration\"><code>x &lt; y</code></pre>"))
        #expect(NarrationHTML.inline("2 * 3 * 4") == "2 * 3 * 4")
        #expect(NarrationHTML.inline("`` a`b ``") == "<code>a`b</code>")
    }
}
