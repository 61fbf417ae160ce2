import Foundation
import Testing
@testable import StepwiseKit

/// Collects what commands hand to the terminal's picture sink.
final class PictureCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(Picture, ImageProtocol)] = []

    var pictures: [(Picture, ImageProtocol)] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func sink(_ environment: [String: String]) -> InlineImages {
        InlineImages(detection: .detect(environment)) { [self] picture, kind in
            lock.lock()
            stored.append((picture, kind))
            lock.unlock()
        }
    }
}

extension PictureFixture {
    /// Runs a line with the terminal's picture sink in the context, as the interactive REPL does.
    mutating func run(_ line: String, images: InlineImages) throws -> [String] {
        var context = self.context
        context.images = images
        switch interp.execute(line, in: &session, context: context) {
        case .output(let out): return out
        case .failure(let msg): throw DecodedPNG.Failure(description: "'\(line)' failed: \(msg)")
        case .quit: return []
        }
    }
}

@Suite("Pictures in the terminal: what commands hand over")
struct InlineImageCommandTests {
    static let kitty = ["TERM": "xterm-kitty"]

    @Test("show of a pattern and heads L hand over the picture export writes, and print the same text as without a terminal")
    func showAndHeads() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        let got = PictureCollector()
        let sink = got.sink(Self.kitty)
        let plain = try f.run("show pattern 0 head 1")
        let shown = try f.run("show pattern 0 head 1", images: sink)
        #expect(shown == plain, "the text is the same with pictures on")
        #expect(f.session.transcript.last?.output == plain)
        try f.run("export pattern 0 head 1 p.png")
        #expect(got.pictures.count == 1 && got.pictures.first?.1 == .kitty)
        #expect(got.pictures.first.map { PNGWriter.render($0.0) } == (try f.read("p.png")), "the export's PNG, byte for byte")

        #expect(try f.run("heads 1", images: sink) == (try f.run("heads 1")))
        try f.run("export heads 1 h.png")
        #expect(got.pictures.count == 2)
        #expect(got.pictures.last.map { PNGWriter.render($0.0) } == (try f.read("h.png")))

        // Tables stay text: only what show draws as a heatmap becomes a picture.
        _ = try f.run("show resid_post 1", images: sink)
        _ = try f.run("show pattern 0 head 1[-1]", images: sink)
        #expect(got.pictures.count == 2)
        _ = try f.run("set view heatmap")
        _ = try f.run("show scores 0 head 1", images: sink)
        #expect(got.pictures.count == 3, "under set view heatmap a score matrix is a heatmap, so a picture")
    }

    @Test("set images: off draws nothing, a protocol is used as asked, auto draws nothing where nothing was detected")
    func modes() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        let got = PictureCollector()
        let kitty = got.sink(Self.kitty), tmux = got.sink(["TERM": "screen-256color", "TMUX": "/tmp/t,1,0"])
        #expect(try f.run("set images off", images: kitty) == ["images = off: text only (detected kitty graphics: TERM=xterm-kitty)"])
        _ = try f.run("show pattern 0 head 0", images: kitty)
        _ = try f.run("heads 0", images: kitty)
        #expect(got.pictures.isEmpty)
        _ = try f.run("set images auto")
        _ = try f.run("show pattern 0 head 0", images: tmux)
        #expect(got.pictures.isEmpty, "inside tmux auto is off")
        #expect(try f.run("set images on", images: tmux) == ["images = on: drawn with sixel (detected none: TMUX is set, inside tmux)"])
        _ = try f.run("show pattern 0 head 0", images: tmux)
        #expect(got.pictures.map(\.1) == [.sixel])
        _ = try f.run("set images iterm")
        _ = try f.run("show pattern 0 head 0", images: kitty)
        #expect(got.pictures.map(\.1) == [.sixel, .iterm])
        #expect(f.failure("set images maybe")?.contains("images is auto, on, off, kitty, iterm or sixel, got 'maybe'") == true)
        // Without a terminal's sink, the setting says so and nothing is drawn.
        #expect(try f.run("set images kitty") == ["images = kitty: text only here: pictures are drawn only at the REPL's prompt in a terminal"])
        let listing = try f.run("set", images: kitty).joined(separator: " ")
        #expect(listing.contains("images") && listing.contains("drawn with kitty graphics (TERM=xterm-kitty)"))
        // Tab completion offers the settings and their values.
        let completer = Completer(interpreter: f.interp)
        #expect(completer.complete(lineBefore: "set ", word: "im", session: f.session) == ["images"])
        #expect(completer.complete(lineBefore: "set images ", word: "", session: f.session) == ["auto", "on", "off", "kitty", "iterm", "sixel"])
        #expect(completer.complete(lineBefore: "set palette ", word: "c", session: f.session) == ["cividis"])
    }

    @Test("never from a lesson, and never while record re-runs commands to draw its page")
    func lessonsAndRecord() throws {
        var f = try PictureFixture()
        defer { f.remove() }
        let got = PictureCollector()
        let sink = got.sink(Self.kitty)
        try """
            # Pictures

            ```stepwise
            prompt The cat sat
            show pattern 0 head 0
            heads 0
            ```
            """.write(to: f.folder.appendingPathComponent("l.md"), atomically: true, encoding: .utf8)
        let played = try f.run("lesson l.md", images: sink)
        #expect(played.contains { $0.contains("query_pos") }, "the lesson ran its show")
        #expect(got.pictures.isEmpty, "a lesson's commands draw no picture in the terminal")
        _ = try f.run("prompt It is a truth universally acknowledged")
        _ = try f.run("show pattern 0 head 2", images: sink)
        #expect(got.pictures.count == 1)
        _ = try f.run("record page.html", images: sink)
        #expect(got.pictures.count == 1, "record's re-run of show drew nothing in the terminal")
        #expect(inlineSVGs(try f.text("page.html")).count == 1, "the page has its own SVG")
    }

    @Test("text from the model or the prompt holding image sequences comes out escaped; the picture is the only way in")
    func hostileText() throws {
        let sequences = "\u{1B}_Ga=T,f=100;iVBORw0KGgo=\u{9C} \u{1B}]1337;File=inline=1:iVBORw0KGgo=\u{07} \u{1B}P0;1;0q#0;2;0;0;0~-\u{9C}"
        var f = try PictureFixture(prompt: "\"" + sequences + "\"")
        defer { f.remove() }
        let got = PictureCollector()
        let sink = got.sink(Self.kitty)
        var lines: [String] = []
        for command in ["tokens", "show pattern 0 head 0", "heads 0", "top 3", "show embed", "where"] {
            lines += try f.run(command, images: sink)
        }
        lines += f.session.transcript.flatMap(\.output)
        // The built-in model's tokens are single characters here: ESC shows as '\x1b' in the tables.
        #expect(lines.contains { $0.contains("'\\x1b'") } && lines.contains { $0.contains("'\\x07'") })
        for line in lines {
            #expect(!line.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{9C}" || $0 == "\u{90}" },
                    "a raw control character reached a line: \(line.debugDescription)")
        }
        #expect(got.pictures.count == 2, "show and heads, as pictures")
    }
}
