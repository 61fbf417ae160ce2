import Foundation
import Testing
@testable import StepwiseKit

/// The sRGB colour of an xterm 256-colour palette entry (the 6×6×6 cube and the grey ramp), as xterm
/// defines them.
func xterm256(_ n: Int) -> RGB {
    if n >= 232 { let v = UInt8(8 + 10 * (n - 232)); return RGB(v, v, v) }
    precondition(n >= 16, "system colours are not fixed")
    let levels: [UInt8] = [0, 95, 135, 175, 215, 255]
    let i = n - 16
    return RGB(levels[i / 36], levels[(i / 6) % 6], levels[i % 6])
}

/// The `fill` of every `<text>` element of an SVG.
func textFills(_ svg: String) -> Set<String> {
    Set(svg.components(separatedBy: "<text ").dropFirst().compactMap { t in
        t.range(of: "fill=\"").map { String(t[$0.upperBound...].prefix(7)) }
    })
}

@Suite("Pictures: theme and palette")
struct PictureThemeTests {
    @Test("a dark and a light SVG differ in background and text; their cells run the way the terminal's heatmap runs for that theme")
    func themes() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("export pattern 0 head 1 dark.svg")
        try f.run("set theme light")
        try f.run("export pattern 0 head 1 light.svg")
        let step = try #require(f.session.trace?["blocks.0.attn.hook_pattern"])
        let T = step.tensor.dim(1)
        for (file, theme) in [("dark.svg", ViewOptions.Theme.dark), ("light.svg", .light)] {
            let text = try f.text(file)
            let svg = try ParsedSVG(text)
            let colors = PictureColors.of(theme)
            #expect(svg.cells("background").first?.fill == colors.background.description, "\(file)")
            #expect(textFills(text).contains(colors.ink.description) && textFills(text).contains(colors.muted.description), "\(file)")
            #expect(!textFills(text).contains(PictureColors.of(theme == .dark ? .light : .dark).ink.description), "\(file)")
            #expect(svg.cells("masked").allSatisfy { $0.fill == colors.masked.description })
            // Every cell is the theme's scale colour of its value.
            let scale = PictureStyle(theme: theme).sequential(0, 1)
            var byValue: [(Float, RGB)] = []
            for c in svg.cells("cell") {
                let v = step.tensor.data[T * T + c.row! * T + c.col!]
                #expect(c.fill == scale.color(v).description, "\(file) cell \(c.row!),\(c.col!)")
                byValue.append((v, scale.color(v)))
            }
            // Which end is bright: the picture's strongest and weakest cells against the terminal's ramp.
            let strongest = try #require(byValue.max { $0.0 < $1.0 }), weakest = try #require(byValue.min { $0.0 < $1.0 })
            var options = ViewOptions(color: .ansi256)
            options.theme = theme
            let heat = HeatScale(lo: 0, hi: 1, options: options)
            let termHigh = xterm256(try #require(heat.colour(strongest.0)))
            let termLow = xterm256(try #require(heat.colour(max(weakest.0, 0.02))))
            #expect((strongest.1.luminance > weakest.1.luminance) == (termHigh.luminance > termLow.luminance),
                    "\(file): the picture and the terminal disagree on which end is bright")
            #expect((strongest.1.luminance > weakest.1.luminance) == (theme == .dark), "\(file): dark is dim to bright, light pale to deep")
        }
        // The one cell of weight 1 (position 0 on itself): viridis's yellow on dark, its purple on light.
        let dark = try ParsedSVG(try f.text("dark.svg")), light = try ParsedSVG(try f.text("light.svg"))
        #expect(dark.cells("cell").first { $0.row == 0 && $0.col == 0 }?.fill == "#fde725")
        #expect(light.cells("cell").first { $0.row == 0 && $0.col == 0 }?.fill == "#440154")
    }

    @Test("set palette cividis colours the exported PNG's cells with cividis; --palette overrides it for one picture")
    func palette() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        #expect(f.failure("set palette rainbow")?.contains("palette is viridis, cividis or grey, got 'rainbow'") == true)
        #expect(try f.run("set palette cividis") == ["palette = cividis"])
        #expect(try f.run("set").contains { $0.hasPrefix("palette") && $0.contains("cividis") })
        try f.run("export pattern 0 head 1 c.svg")
        try f.run("export pattern 0 head 1 c.png")
        try f.run("export pattern 0 head 1 v.png --palette viridis")
        let svg = try ParsedSVG(try f.text("c.svg"))
        let png = try DecodedPNG(try f.read("c.png")), viridis = try DecodedPNG(try f.read("v.png"))
        let step = try #require(f.session.trace?["blocks.0.attn.hook_pattern"])
        let T = step.tensor.dim(1)
        let scale = ColorScale.sequential(0, 1, palette: .cividis)
        let first = try #require(svg.cells("cell").first { $0.row == 0 && $0.col == 0 })
        // Weight 1 is cividis's last colour (viridisLite's cividis(10) ends at #FFEA46), viridis's #FDE725 with the override.
        #expect(png.pixel(first.x + 3, first.y + first.h / 2) == RGB(hex: 0xFFEA46))
        #expect(viridis.pixel(first.x + 3, first.y + first.h / 2) == RGB(hex: 0xFDE725))
        for c in svg.cells("cell") {
            let v = step.tensor.data[T * T + c.row! * T + c.col!]
            #expect(png.pixel(c.x + c.w / 2, c.y + c.h / 2) == scale.color(v), "cell \(c.row!),\(c.col!)")
        }
        // On a light background the scale runs backwards: weight 1 is cividis's deepest blue.
        try f.run("set theme light")
        try f.run("export pattern 0 head 1 l.png")
        #expect(try DecodedPNG(try f.read("l.png")).pixel(first.x + 3, first.y + first.h / 2) == RGB(hex: 0x00204D))
        // Signed data keeps the diverging scale whatever the palette.
        try f.run("export resid_post 1 r.svg")
        let resid = try #require(f.session.trace?["blocks.1.hook_resid_post"])
        let cell = try #require(try ParsedSVG(try f.text("r.svg")).cells("cell").first)
        #expect(cell.fill == ColorScale.fitting(resid.tensor.data).color(resid.tensor.data[cell.row! * resid.tensor.dim(1) + cell.col!]).description)
    }

    @Test("bars and pages follow the theme: the bar colour, the page's background, a light page for paper")
    func barsAndPages() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        try f.run("top 3")
        try f.run("export top 3 dark.svg")
        try f.run("record dark.html")
        try f.run("set theme light")
        try f.run("export top 3 light.svg")
        try f.run("record light.html")
        #expect(try ParsedSVG(try f.text("dark.svg")).cells("bar").allSatisfy { $0.fill == RGB(hex: 0x35B779).description })
        #expect(try ParsedSVG(try f.text("light.svg")).cells("bar").allSatisfy { $0.fill == RGB(hex: 0x31688E).description })
        let dark = try f.text("dark.html"), light = try f.text("light.html")
        expectSelfContained(dark)
        expectSelfContained(light)
        #expect(dark.contains("color-scheme: dark") && dark.contains("background: #181818"))
        #expect(dark.contains("@media print {\n  :root { color-scheme: light; }"), "a dark page prints dark on white")
        #expect(light.contains("color-scheme: light") && !light.contains("#181818"))
        // The page's pictures were drawn in the theme the session had when it was recorded.
        #expect(inlineSVGs(light).allSatisfy { $0.contains("class=\"background\" x=\"0\" y=\"0\" width=") && $0.contains("fill=\"#ffffff\"/>") })

        let path = TestPaths.repoRoot.appendingPathComponent("lessons/01-next-word.md").path
        let page = try LessonHTML.render(path: path, theme: .light, palette: .grey)
        #expect(page.contains("color-scheme: light") && !inlineSVGs(page).isEmpty)
        #expect(inlineSVGs(page).allSatisfy { !$0.contains("#181818") })
    }
}
