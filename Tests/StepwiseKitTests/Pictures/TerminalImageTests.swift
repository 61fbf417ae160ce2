import Foundation
import Testing
@testable import StepwiseKit

/// A kitty graphics sequence taken apart: each chunk's keys and payload.
struct KittyChunks {
    var keys: [[String: String]] = []
    var payloads: [String] = []

    /// Every `ESC _ G keys ; payload ESC \` in `text`, in order; anything else between them is ignored.
    init(_ text: String) throws {
        var rest = Substring(text)
        while let start = rest.range(of: "\u{1B}_G") {
            guard let end = rest[start.upperBound...].range(of: "\u{1B}\\") else {
                throw DecodedPNG.Failure(description: "an APC sequence is not closed")
            }
            let body = rest[start.upperBound..<end.lowerBound]
            guard let semi = body.firstIndex(of: ";") else { throw DecodedPNG.Failure(description: "a chunk without ';'") }
            var k: [String: String] = [:]
            for pair in body[..<semi].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { throw DecodedPNG.Failure(description: "bad key '\(pair)'") }
                k[kv[0]] = kv[1]
            }
            keys.append(k)
            payloads.append(String(body[body.index(after: semi)...]))
            rest = rest[end.upperBound...]
        }
    }

    /// The PNG the chunks carry.
    var png: Data? { Data(base64Encoded: payloads.joined()) }
}

/// An iTerm2 inline image taken apart: `ESC ] 1337 ; File=ARGS : BASE64 BEL`.
struct ITermImage {
    var arguments: [String: String] = [:]
    var png: Data

    init(_ text: String) throws {
        guard let start = text.range(of: "\u{1B}]1337;File="), let colon = text[start.upperBound...].firstIndex(of: ":"),
              let bell = text[colon...].firstIndex(of: "\u{07}") else {
            throw DecodedPNG.Failure(description: "no OSC 1337 File= sequence")
        }
        for pair in text[start.upperBound..<colon].split(separator: ";") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 { arguments[kv[0]] = kv[1] }
        }
        guard let data = Data(base64Encoded: String(text[text.index(after: colon)..<bell])) else {
            throw DecodedPNG.Failure(description: "the payload is not base64")
        }
        png = data
    }
}

/// A DEC sixel image decoded as a terminal would: colour registers (`#n;2;r;g;b`, percentages), sixel
/// characters painting six rows at a time, `!n` repeats, `$` back to the band's start, `-` down a band.
struct DecodedSixel {
    var width = 0
    var height = 0
    var pixels: [RGB?] = []
    var registers: [Int: RGB] = [:]

    init(_ text: String) throws {
        guard let start = text.range(of: "\u{1B}P"), let end = text[start.upperBound...].range(of: "\u{1B}\\") else {
            throw DecodedPNG.Failure(description: "no DCS sequence")
        }
        let body = Array(text[start.upperBound..<end.lowerBound].unicodeScalars)
        guard let q = body.firstIndex(of: "q") else { throw DecodedPNG.Failure(description: "no 'q' in the DCS") }
        var i = q + 1
        func number() -> Int {
            var n = 0
            while i < body.count, ("0"..."9").contains(body[i]) { n = n * 10 + Int(body[i].value - 48); i += 1 }
            return n
        }
        func numbers() -> [Int] {
            var list = [number()]
            while i < body.count, body[i] == ";" { i += 1; list.append(number()) }
            return list
        }
        var x = 0, band = 0, colour = 0
        while i < body.count {
            let c = body[i]
            switch c {
            case "\"":
                i += 1
                let a = numbers()
                guard a.count == 4 else { throw DecodedPNG.Failure(description: "raster attributes \(a)") }
                width = a[2]; height = a[3]
                pixels = Array(repeating: nil, count: width * height)
            case "#":
                i += 1
                let a = numbers()
                if a.count == 5 {
                    guard a[1] == 2 else { throw DecodedPNG.Failure(description: "colour space \(a[1]) is not RGB") }
                    func v(_ p: Int) -> UInt8 { UInt8((Double(p) * 255 / 100).rounded()) }
                    registers[a[0]] = RGB(v(a[2]), v(a[3]), v(a[4]))
                }
                colour = a[0]
            case "$": x = 0; i += 1
            case "-": x = 0; band += 1; i += 1
            case "!":
                i += 1
                let n = number()
                guard i < body.count else { break }
                paint(body[i], times: n, x: &x, band: band, colour: colour)
                i += 1
            case "?"..."~":
                paint(c, times: 1, x: &x, band: band, colour: colour)
                i += 1
            default:
                throw DecodedPNG.Failure(description: "unexpected \(c) in sixel data")
            }
        }
    }

    mutating func paint(_ c: Unicode.Scalar, times: Int, x: inout Int, band: Int, colour: Int) {
        let bits = Int(c.value) - 63
        for _ in 0..<times {
            for k in 0..<6 where bits & (1 << k) != 0 {
                let y = band * 6 + k
                if x < width && y < height { pixels[y * width + x] = registers[colour] }
            }
            x += 1
        }
    }

    func pixel(_ x: Int, _ y: Int) -> RGB? { pixels[y * width + x] }
}

func close(_ a: RGB?, _ b: RGB, _ tolerance: Int = 2) -> Bool {
    guard let a else { return false }
    return abs(Int(a.r) - Int(b.r)) <= tolerance && abs(Int(a.g) - Int(b.g)) <= tolerance && abs(Int(a.b) - Int(b.b)) <= tolerance
}

@Suite("Pictures in the terminal: detection and sequences")
struct TerminalImageTests {
    @Test("detection is conservative: kitty and iTerm2 where they name themselves, nothing inside tmux or screen or elsewhere",
          arguments: [
              (["TERM": "xterm-kitty"], ImageProtocol?.some(.kitty)),
              (["TERM": "xterm-256color", "KITTY_WINDOW_ID": "3"], .kitty),
              (["TERM": "xterm-ghostty", "TERM_PROGRAM": "ghostty"], .kitty),
              (["TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"], .iterm),
              (["TERM": "xterm-256color", "LC_TERMINAL": "iTerm2"], .iterm),
              (["TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"], .iterm),
              (["TERM": "screen-256color", "TMUX": "/tmp/tmux-0/default,1,0", "KITTY_WINDOW_ID": "3"], nil),
              (["TERM": "tmux-256color", "TERM_PROGRAM": "iTerm.app"], nil),
              (["TERM": "screen.xterm-256color", "LC_TERMINAL": "iTerm2"], nil),
              (["TERM": "xterm-256color", "STY": "1234.pts-0", "KITTY_WINDOW_ID": "1"], nil),
              (["TERM": "xterm-256color"], nil),
              (["TERM": "xterm-256color", "TERM_PROGRAM": "vscode", "KITTY_WINDOW_ID": "1"], nil),
              (["TERM": "dumb", "KITTY_WINDOW_ID": "1"], nil),
              (["TERM": "xterm-256color", "TMUX": "", "KITTY_WINDOW_ID": ""], nil),
              ([:], nil),
          ])
    func detection(_ env: [String: String], _ want: ImageProtocol?) {
        let d = ImageDetection.detect(env)
        #expect(d.found == want, "\(env) → \(d.reason)")
        #expect(d.tmux == (env["TMUX"].map { !$0.isEmpty } == true || env["TERM"]?.hasPrefix("tmux") == true))
    }

    @Test("set images: auto follows detection, on falls back to sixel, off never draws, a protocol is forced")
    func modes() {
        let kitty = ImageDetection.detect(["TERM": "xterm-kitty"]), none = ImageDetection.detect(["TMUX": "x", "TERM": "screen"])
        #expect(ImageMode.auto.resolve(kitty) == .kitty && ImageMode.auto.resolve(none) == nil)
        #expect(ImageMode.on.resolve(kitty) == .kitty && ImageMode.on.resolve(none) == .sixel)
        #expect(ImageMode.off.resolve(kitty) == nil)
        #expect(ImageMode.iterm.resolve(kitty) == .iterm && ImageMode.kitty.resolve(none) == .kitty && ImageMode.sixel.resolve(none) == .sixel)
        #expect(Settings().images == .auto, "the default")
        #expect(kitty.describe(.auto) == "drawn with kitty graphics (TERM=xterm-kitty)")
        #expect(none.describe(.auto) == "text only (detected none: TMUX is set, inside tmux)")
        #expect(none.describe(.kitty) == "drawn with kitty graphics (detected none: TMUX is set, inside tmux)")
    }

    /// A picture of a pattern on the built-in model, as `export pattern 0 head 1` draws it.
    static func pattern() throws -> (Picture, Data) {
        var f = try PictureFixture(prompt: "The cat sat on the mat")
        defer { f.remove() }
        try f.run("export pattern 0 head 1 p.png")
        let trace = try #require(f.session.trace)
        let picture = StepPictures.step(trace["blocks.0.attn.hook_pattern"]!, selections: [.index(1)], typed: "pattern 0 head 1",
                                        session: f.session)
        return (picture, try f.read("p.png"))
    }

    @Test("kitty: chunks of at most 4096 base64 bytes, m=1 until the last m=0, the keys only on the first; the payload is the exported PNG")
    func kitty() throws {
        let (picture, exported) = try Self.pattern()
        let geometry = TerminalGeometry(columns: 80, rows: 24)
        let s = ImageEscape.sequence(for: picture, as: .kitty, in: geometry)
        let chunks = try KittyChunks(s)
        #expect(chunks.payloads.count > 1, "a picture of this size needs several chunks")
        #expect(chunks.payloads.dropLast().allSatisfy { $0.utf8.count == ImageEscape.kittyChunk })
        #expect(chunks.payloads.allSatisfy { $0.utf8.count <= 4096 && $0.utf8.allSatisfy { c in
            (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 43 || c == 47 || c == 61 } })
        let (columns, rows) = ImageEscape.cells(width: picture.width, height: picture.height, in: geometry)
        #expect(chunks.keys[0] == ["a": "T", "f": "100", "q": "2", "c": "\(columns)", "r": "\(rows)", "C": "1", "m": "1"])
        #expect(chunks.keys.dropFirst().dropLast().allSatisfy { $0 == ["m": "1"] } && chunks.keys.last == ["m": "0"])
        #expect(chunks.png == exported, "the terminal gets exactly the PNG export writes")
        #expect(try DecodedPNG(try #require(chunks.png)).width == picture.width)
        // The cursor stays (C=1); the newlines after the sequence move it below the picture's rows.
        #expect(s.hasSuffix("\u{1B}\\" + String(repeating: "\n", count: rows)))
        #expect(columns <= 79 && rows <= 21 && columns > 40)
    }

    @Test("iTerm2: one OSC 1337 with inline=1, the PNG's size, its cells and aspect kept; inside tmux, the passthrough doubles every ESC")
    func iterm() throws {
        let (picture, exported) = try Self.pattern()
        let geometry = TerminalGeometry(columns: 120, rows: 50, cellWidth: 10, cellHeight: 20)
        let s = ImageEscape.sequence(for: picture, as: .iterm, in: geometry)
        let image = try ITermImage(s)
        let (columns, rows) = ImageEscape.cells(width: picture.width, height: picture.height, in: geometry)
        #expect(image.arguments == ["inline": "1", "size": "\(exported.count)", "width": "\(columns)", "height": "\(rows)",
                                    "preserveAspectRatio": "1"])
        #expect(image.png == exported)
        #expect(s.hasPrefix("\u{1B}]1337;File=") && s.hasSuffix("\u{07}\n"))
        // 948 pixels at 10 a cell: 95 columns, and rows for the same aspect at 20 pixels a row.
        #expect(columns == (picture.width + 9) / 10)
        #expect(abs(Double(rows * 20) / Double(columns * 10) - Double(picture.height) / Double(picture.width)) < 0.05)

        let wrapped = ImageEscape.sequence(for: picture, as: .iterm, in: geometry, tmux: true)
        #expect(wrapped.hasPrefix("\u{1B}Ptmux;\u{1B}\u{1B}]1337;File=") && wrapped.hasSuffix("\u{07}\u{1B}\\\n"))
        let inner = String(wrapped.dropFirst("\u{1B}Ptmux;".count).dropLast("\u{1B}\\\n".count))
        #expect(inner.replacingOccurrences(of: "\u{1B}\u{1B}", with: "\u{1B}") + "\n" == s)
        #expect(!inner.replacingOccurrences(of: "\u{1B}\u{1B}", with: "").contains("\u{1B}"), "no lone ESC inside the passthrough")
    }

    @Test("the picture fits the screen: never wider than the terminal less a column, never taller than it less three rows")
    func fitting() {
        for (w, h, cols, rows) in [(948, 700, 80, 24), (3000, 400, 200, 60), (400, 3000, 80, 24), (100, 80, 80, 24), (948, 700, 20, 5)] {
            let g = TerminalGeometry(columns: cols, rows: rows)
            let (c, r) = ImageEscape.cells(width: w, height: h, in: g)
            #expect(c >= 1 && c <= cols - 1 && r >= 1 && r <= max(4, rows - 3), "\(w)×\(h) in \(cols)×\(rows): \(c)×\(r)")
        }
        // A small picture is not enlarged past its pixels: 100 pixels at 9 a cell are 12 columns.
        #expect(ImageEscape.cells(width: 100, height: 80, in: TerminalGeometry(columns: 80, rows: 24)).columns == 12)
    }

    @Test("sixel: the decoded pixels are the picture's, cells in the colours of the scale; more than 256 colours are cut to 256")
    func sixel() throws {
        var f = try PictureFixture(prompt: "The cat sat on the mat")
        defer { f.remove() }
        try f.run("export pattern 0 head 1 p.svg")
        let (picture, exported) = try Self.pattern()
        // Cells big enough that nothing is shrunk: the sixel image is the PNG's pixels.
        let s = ImageEscape.sequence(for: picture, as: .sixel, in: TerminalGeometry(columns: 200, rows: 80, cellWidth: 10, cellHeight: 20))
        #expect(s.hasPrefix("\u{1B}P0;1;0q\"1;1;\(picture.width);\(picture.height)") && s.hasSuffix("\u{1B}\\\n"))
        let six = try DecodedSixel(s)
        let png = try DecodedPNG(exported)
        #expect(six.width == png.width && six.height == png.height)
        #expect(six.registers.count <= 256)
        #expect(six.pixels.allSatisfy { $0 != nil }, "every pixel painted")
        // Register colours are percentages: each channel within 2 of the PNG's.
        for (x, y) in [(0, 0), (30, 30), (png.width / 2, png.height / 2), (png.width - 1, png.height - 1)] {
            #expect(close(six.pixel(x, y), png.pixel(x, y)), "pixel \(x),\(y)")
        }
        let svg = try ParsedSVG(try f.text("p.svg"))
        let step = try #require(f.session.trace?["blocks.0.attn.hook_pattern"])
        let T = step.tensor.dim(1)
        let scale = PictureStyle().sequential(0, 1)
        for c in svg.cells("cell") {
            let v = step.tensor.data[T * T + c.row! * T + c.col!]
            #expect(close(six.pixel(c.x + c.w / 2, c.y + c.h / 2), scale.color(v)), "cell \(c.row!),\(c.col!) value \(v)")
        }
        #expect(close(six.pixel(svg.cells("masked")[0].x + 2, svg.cells("masked")[0].y + 2), PictureColors.dark.masked))

        // A smaller terminal: the pixels are shrunk to its cells (means of the pixels they cover).
        let small = try DecodedSixel(ImageEscape.sequence(for: picture, as: .sixel, in: TerminalGeometry(columns: 60, rows: 30, cellWidth: 8, cellHeight: 16)))
        #expect(small.width <= 59 * 8 && small.width < png.width && small.registers.count <= 256)
        #expect(abs(Double(small.height) / Double(small.width) - Double(png.height) / Double(png.width)) < 0.02)

        // A gradient of 4096 colours: median cut to 256, every pixel near its colour.
        var rgb: [UInt8] = []
        for y in 0..<64 { for x in 0..<64 { rgb += [UInt8(x * 4), UInt8(y * 4), UInt8((x + y) * 2)] } }
        let gradient = try DecodedSixel(SixelImage(width: 64, height: 64, rgb: rgb).encoded())
        #expect(gradient.registers.count == 256)
        for (x, y) in [(0, 0), (63, 0), (10, 50), (63, 63), (32, 17)] {
            #expect(close(gradient.pixel(x, y), RGB(UInt8(x * 4), UInt8(y * 4), UInt8((x + y) * 2)), 12), "gradient \(x),\(y)")
        }
    }

    @Test("sequences hold only their framing and base64 or sixel data, whatever text the picture shows")
    func onlyPixelsInSequences() throws {
        // Backslashes are escapes inside a quoted prompt: the sequences end in BEL or the 8-bit ST.
        let f = try PictureFixture(prompt: "\"\u{1B}_Ga=T;QUJD\u{9C} and \u{1B}]1337;File=inline=1:QUJD\u{07} \u{1B}P0;1;0q#0;2;0;0;0~\u{9C}\"")
        defer { f.remove() }
        let trace = try #require(f.session.trace)
        let picture = StepPictures.step(trace["blocks.0.attn.hook_pattern"]!, selections: [.index(0)], session: f.session)
        let texts = picture.items.compactMap { item -> String? in if case .text(let t) = item { return t.text } else { return nil } }
        #expect(texts.contains { $0.contains("\\x1b_Ga=T;QUJD") }, "the prompt is in the picture, made visible")
        #expect(!texts.contains { $0.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) } })
        for kind in ImageProtocol.allCases {
            let s = ImageEscape.sequence(for: picture, as: kind, in: TerminalGeometry(columns: 100, rows: 40))
            switch kind {
            case .kitty:
                let c = try KittyChunks(s)
                #expect(s.filter { $0 == "\u{1B}" }.count == 2 * c.payloads.count, "two ESCs a chunk, none from the prompt")
                #expect(c.png == PNGWriter.render(picture))
            case .iterm:
                #expect(s.filter { $0 == "\u{1B}" }.count == 1 && s.filter { $0 == "\u{07}" }.count == 1)
            case .sixel:
                #expect(s.filter { $0 == "\u{1B}" }.count == 2)
                let body = s.dropFirst(2).dropLast(3)
                #expect(body.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("?"..."~").contains($0) || ";#!$-\"q".unicodeScalars.contains($0) })
            }
        }
    }
}
