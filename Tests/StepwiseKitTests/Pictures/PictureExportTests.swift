import Foundation
import Testing
@testable import StepwiseKit

@Suite("Pictures: export to SVG and PNG")
struct PictureExportTests {
    @Test("a pattern's SVG is well-formed XML: one cell per visible cell, the causal mask hatched, labels and title as text")
    func patternSVG() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("export pattern 0 head 2 p.svg")
        let svg = try ParsedSVG(try f.text("p.svg"))
        let trace = try #require(f.session.trace)
        let step = try #require(trace["blocks.0.attn.hook_pattern"])
        let T = step.tensor.dim(1)
        let cells = svg.cells("cell"), masked = svg.cells("masked")
        #expect(cells.count + masked.count == T * T)
        #expect(masked.count == T * (T - 1) / 2, "the causal mask hides every key after its query")
        #expect(masked.allSatisfy { ($0.col ?? 0) > ($0.row ?? 0) } && cells.allSatisfy { ($0.col ?? 0) <= ($0.row ?? 0) })
        // Each cell's colour is the scale's colour of its value, and its title holds the exact value.
        let scale = ColorScale.sequential(0, 1)
        for c in cells {
            let v = step.tensor.data[2 * T * T + c.row! * T + c.col!]
            #expect(c.fill == scale.color(v).description, "cell \(c.row!),\(c.col!)")
            #expect(c.title.hasSuffix(": \(v)"), "\(c.title)")
        }
        #expect(masked.allSatisfy { $0.fill == PictureColors.dark.masked.description && $0.title.contains("masked") })
        // Token labels on both axes, the step name and the prompt in the title, text as <text>.
        for (i, label) in trace.positionLabels.enumerated() {
            #expect(svg.texts.filter { $0 == "\(i) \(TextWidth.truncate(label, to: 16))" }.count == 2, "label \(i) \(label)")
        }
        #expect(svg.texts.contains { $0.hasPrefix("blocks.0.attn.hook_pattern[2]") })
        #expect(svg.texts.contains { $0.contains("It is a truth universally acknowledged") })
        #expect(svg.texts.contains("masked") && svg.texts.contains("1.000") && svg.texts.contains("0.000"))
        #expect(svg.cells("swatch").count >= 64, "a colour bar")
        #expect(svg.rootAttributes["xmlns"] == "http://www.w3.org/2000/svg")
    }

    @Test("the PNG has valid chunks and CRCs, a zlib stream, and each cell's pixels are the scale's colour of its value")
    func patternPNG() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("export pattern 0 head 1 p.svg")
        try f.run("export pattern 0 head 1 p.png")
        let png = try DecodedPNG(try f.read("p.png"))
        #expect(png.chunkTypes == ["IHDR", "IDAT", "IEND"])
        let svg = try ParsedSVG(try f.text("p.svg"))
        #expect(png.width == Int(svg.rootAttributes["width"] ?? "") && png.height == Int(svg.rootAttributes["height"] ?? ""))
        let step = try #require(f.session.trace?["blocks.0.attn.hook_pattern"])
        let T = step.tensor.dim(1)
        let scale = ColorScale.sequential(0, 1)
        // Every unmasked cell, at its centre (the SVG gives where the layout put it).
        for c in svg.cells("cell") {
            let v = step.tensor.data[1 * T * T + c.row! * T + c.col!]
            #expect(png.pixel(c.x + c.w / 2, c.y + c.h / 2) == scale.color(v), "cell \(c.row!),\(c.col!) value \(v)")
        }
        // Position 0 attends only to itself: weight 1, the top of viridis.
        let first = try #require(svg.cells("cell").first { $0.row == 0 && $0.col == 0 })
        #expect(png.pixel(first.x + 3, first.y + first.h / 2) == RGB(hex: 0xFDE725))
        // A masked cell is the mask grey off its hatch line, and the hatch where the line runs.
        let m = try #require(svg.cells("masked").first)
        #expect(png.pixel(m.x + 2, m.y + 2) == PictureColors.dark.masked)
        #expect(png.pixel(m.x + m.w / 2, m.y + m.h / 2) == PictureColors.dark.maskedHatch
                || png.pixel(m.x + m.w / 2, m.y + m.h / 2 - 1) == PictureColors.dark.maskedHatch)
        // The title's text is drawn (the default theme is dark): light pixels in its band, on the dark background.
        #expect(png.pixel(2, 2) == PictureColors.dark.background)
        let ink = (24..<400).filter { png.pixel($0, 35) == PictureColors.dark.ink }.count
        #expect(ink > 20)
    }

    @Test("export heads L draws every head of the layer side by side")
    func heads() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("export heads 1 h.svg")
        try f.run("export heads 1 h.png")
        let svg = try ParsedSVG(try f.text("h.svg"))
        let model = try #require(f.session.model)
        let T = try #require(f.session.trace).positionLabels.count
        #expect(svg.cells("cell").count + svg.cells("masked").count == model.info.heads * T * T)
        for h in 0..<model.info.heads { #expect(svg.texts.contains("head 1.\(h)")) }
        #expect(svg.cells("cell").allSatisfy { $0.title.hasPrefix("blocks.1.attn.hook_pattern head 1.") })
        _ = try DecodedPNG(try f.read("h.png"))
    }

    @Test("export top K and export logits draw the predictions as bars, as 'top' prints them")
    func bars() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        let printed = try f.run("top 5")
        try f.run("export top 5 t.svg")
        try f.run("export logits l.svg")
        try f.run("export top 3 t.png")
        let svg = try ParsedSVG(try f.text("t.svg"))
        let bars = svg.cells("bar")
        #expect(bars.count == 5)
        #expect(bars.map(\.w) == bars.map(\.w).sorted(by: >), "longest first")
        let preds = Predictions.top(f.session.trace!, tokenizer: f.session.tokenizer!, k: 5)
        for (bar, p) in zip(bars, preds) {
            #expect(bar.title.hasPrefix(p.label) && bar.title.contains("p = \(p.probability)"))
            #expect(svg.texts.contains(p.label))
            #expect(printed.contains { $0.contains(p.label) })
        }
        #expect(try ParsedSVG(try f.text("l.svg")).cells("bar").count == 10)
        _ = try DecodedPNG(try f.read("t.png"))
    }

    @Test("a signed table gets the diverging scale, its numbers in the cells, the middle elided as show elides it")
    func table() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("export resid_post 1 r.svg")
        let svg = try ParsedSVG(try f.text("r.svg"))
        let step = try #require(f.session.trace?["blocks.1.hook_resid_post"])
        let (R, C) = (step.tensor.dim(0), step.tensor.dim(1))
        let cells = svg.cells("cell")
        #expect(cells.count == R * StepPictures.tableColumnLimit)
        let scale = ColorScale.fitting(step.tensor.data)
        #expect(scale.diverging)
        for c in cells.prefix(40) {
            let v = step.tensor.data[c.row! * C + c.col!]
            #expect(c.fill == scale.color(v).description)
            #expect(svg.texts.contains(NumberFormat.format(v, 3)))
        }
        #expect(svg.texts.contains("…"))
        #expect(scale.color(0) == RGB(hex: 0xF7F7F7) && scale.color(-scale.hi) == RGB(hex: 0x053061))
    }

    @Test("a slice, a vector and a scalar draw as show draws them", arguments: [
        ("pattern 1 head 0[-4:, :6]", 24), ("ln_final.hook_scale", 14), ("resid_pre 0[-1]", 128), ("embed[0, 0]", 0),
    ])
    func shapes(_ what: String, _ cellCount: Int) throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("export \(what) x.svg")
        let svg = try ParsedSVG(try f.text("x.svg"))
        #expect(svg.cells("cell").count + svg.cells("masked").count == min(cellCount, StepPictures.tableRowLimit * StepPictures.packedPerRow))
        try f.run("export \(what) x.png")
        _ = try DecodedPNG(try f.read("x.png"))
    }

    @Test("a sliced pattern keeps the mask of its positions on the full axes")
    func slicedMask() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("export pattern 0 head 0[2:5, 1:6] s.svg")
        let svg = try ParsedSVG(try f.text("s.svg"))
        // Queries 2, 3, 4 against keys 1…5: a key is masked when it comes after its query.
        let maskedPairs = Set(svg.cells("masked").map { "\($0.row!),\($0.col!)" })
        var want: Set<String> = []
        for (r, q) in [2, 3, 4].enumerated() { for (c, k) in [1, 2, 3, 4, 5].enumerated() where k > q { want.insert("\(r),\(c)") } }
        #expect(maskedPairs == want)
    }

    @Test("untrusted text is escaped: the SVG stays well-formed, holds no control character and no markup from the prompt")
    func hostileText() throws {
        var f = try PictureFixture(prompt: "\"<script>alert('x')</script> & \\t ]]> \u{202E}evil\"")
        defer { f.remove() }
        f.session.promptText = (f.session.promptText ?? "") + "\u{1B}[2J\u{7}\u{FFFE}"
        try f.run("export pattern 0 head 0 x.svg")
        try f.run("export heads 0 h.html")
        let text = try f.text("x.svg")
        let svg = try ParsedSVG(text)
        #expect(!svg.elements.contains("script"))
        #expect(!text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || $0 == "\u{202E}" || $0 == "\u{FFFE}" })
        #expect(svg.texts.contains { $0.contains("<script>alert('x')</script> & ") && $0.contains("\\x1b[2J") })
        let page = try f.text("h.html")
        #expect(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"))
    }

    @Test("pictures follow the overwrite rules and fail with one clear line")
    func errors() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("export top 3 t.svg")
        let before = try f.read("t.svg")
        #expect(f.failure("export top 5 t.svg")?.contains("'t.svg' exists; add --force to overwrite it") == true)
        #expect(try f.read("t.svg") == before)
        try f.run("export top 5 t.svg --force")
        #expect(try f.read("t.svg") != before)
        #expect(f.failure("export tokens t.png")?.contains("'tokens' exports to .json") == true)
        #expect(f.failure("export heads 9 h.svg")?.contains("layer 9 is out of range") == true)
        #expect(f.failure("export top 0 t2.svg")?.contains("out of range") == true)
        #expect(f.failure("export nosuch n.svg") != nil)
        #expect(f.failure("export pattern 0 p.svg --palette rainbow")?.contains("--palette takes one of viridis, cividis, grey") == true)
        #expect(f.failure("export logits l.json --palette grey")?.contains("--palette is for pictures") == true)
        try f.run("export pattern 0 head 0 g.svg --palette grey")
        let grey = try ParsedSVG(try f.text("g.svg"))
        // Position 0's weight on itself is 1: on the (default) dark theme the brightest grey.
        #expect(grey.cells("cell").first { $0.row == 0 && $0.col == 0 }?.fill == RGB(hex: 0xF7F7F7).description)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: f.folder.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test("inside a lesson, pictures obey the lesson's sandbox: a new file in its folder, never --force")
    func sandbox() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-pic-lesson-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lesson = """
            # Pictures

            ```stepwise
            prompt The cat sat
            export pattern 0 head 0 inside.svg
            export pattern 0 head 0 ../outside.svg
            ```
            """
        try lesson.write(to: dir.appendingPathComponent("l.md"), atomically: true, encoding: .utf8)
        var s = Session()
        let out = StandardCommands.interpreter().execute("lesson \(dir.path)/l.md", in: &s, context: CommandContext(baseDirectory: dir.path))
        guard case .output(let lines) = out else { Issue.record("lesson failed: \(out)"); return }
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("inside.svg").path))
        #expect(!FileManager.default.fileExists(atPath: dir.deletingLastPathComponent().appendingPathComponent("outside.svg").path))
        #expect(lines.contains { $0.hasPrefix("error:") && $0.contains("outside.svg") })
    }
}

@Suite("Pictures: parts")
struct PicturePartsTests {
    @Test("the bitmap font has every printable ASCII character, 5 pixels wide, and a placeholder for the rest")
    func font() {
        for v in 32...126 {
            let c = Character(Unicode.Scalar(UInt8(v)))
            #expect(BitmapFont.glyphs[c] != nil, "missing glyph for \(c)")
        }
        #expect(BitmapFont.glyphs.values.allSatisfy { $0.count == BitmapFont.rows && $0.allSatisfy { $0 < 32 } })
        #expect(BitmapFont.rows(for: "é") == BitmapFont.rows(for: "e"))
        #expect(BitmapFont.rows(for: "猫") == BitmapFont.placeholder)
        #expect(BitmapFont.rows(for: " ").allSatisfy { $0 == 0 })
    }

    @Test("the scales: viridis ends, the diverging middle, a flat range, non-finite values ignored")
    func scales() {
        let v = ColorScale.sequential(0, 1)
        #expect(v.color(0) == RGB(hex: 0x440154) && v.color(1) == RGB(hex: 0xFDE725))
        #expect(v.color(-5) == v.color(0) && v.color(5) == v.color(1))
        let d = ColorScale.fitting([-2, 1, .nan, -.infinity])
        #expect(d.diverging && d.lo == -2 && d.hi == 2)
        #expect(d.color(0) == RGB(hex: 0xF7F7F7) && d.color(2) == RGB(hex: 0x67001F) && d.color(-2) == RGB(hex: 0x053061))
        #expect(ColorScale.fitting([3, 3]).position(3) == 0.5)
        #expect(ColorScale.fitting([]).lo == 0)
    }

    @Test("PNG encoding: a 2×2 image reads back pixel for pixel")
    func tinyPNG() throws {
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
        let png = try DecodedPNG(PNGWriter.encode(width: 2, height: 2, rgb: rgb))
        #expect(png.width == 2 && png.height == 2 && png.colorType == 2)
        #expect(png.pixels == rgb)
    }

    @Test("markup escaping: XML specials, controls made visible, colour codes stripped")
    func escaping() {
        #expect(Markup.escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;")
        #expect(Markup.escape("x\u{1B}y\u{202E}") == "x\\x1by&lt;U+202E&gt;")
        #expect(Markup.stripColor("\u{1B}[1mbold\u{1B}[0m \u{1B}[48;5;232m \u{1B}[0m") == "bold  ")
    }
}
