import Foundation
import Testing
@testable import StepwiseKit

/// The environment of a terminal that says nothing about pictures, plus `extra`: the variables
/// detection reads are cleared, whatever terminal runs the tests.
func imageEnvironment(_ extra: [String: String]) -> [String: String] {
    var env = ["TERM": "xterm-256color", "TMUX": "", "STY": "", "KITTY_WINDOW_ID": "", "TERM_PROGRAM": "", "LC_TERMINAL": "",
               "NO_COLOR": "1", "STEPWISE_HISTORY": "/dev/null", "PAGER": "", "LINES": "", "COLUMNS": ""]
    for (k, v) in extra { env[k] = v }
    return env
}

/// The stepwise binary at its prompt under a pseudo-terminal, with a folder for exports.
final class PictureTerminal {
    let pty: PTY
    let folder: TempFolder

    init(_ extra: [String: String], rows: UInt16 = 50, columns: UInt16 = 120, pixelWidth: UInt16 = 0, pixelHeight: UInt16 = 0,
         args: [String] = []) throws {
        folder = try TempFolder()
        pty = try PTY(args: args, environment: imageEnvironment(extra), rows: rows, columns: columns,
                      pixelWidth: pixelWidth, pixelHeight: pixelHeight)
    }

    /// Types a command and returns everything drawn until the next prompt.
    @discardableResult
    func command(_ line: String, until: String = "stepwise> ") -> String {
        pty.buffer = ""
        pty.send(line + "\r")
        // The echo of the line comes first; the prompt after the output ends it.
        _ = pty.expect(line)
        let start = pty.buffer.range(of: line).map { pty.buffer[$0.upperBound...] }.map(String.init) ?? ""
        pty.buffer = start
        _ = pty.expect(until)
        return pty.buffer
    }

    func export(_ what: String, _ name: String) throws -> Data {
        let path = folder.file(name).path
        command("export \(what) \(path)")
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Leaves the REPL; a process that did not leave within ten seconds is stopped.
    func quit() {
        pty.send("quit\r")
        let deadline = Date().addingTimeInterval(10)
        while pty.process.isRunning && Date() < deadline { usleep(50_000) }
        pty.close()
    }
}

@Suite("Pictures in the terminal, under a pseudo-terminal", .enabled(if: StepwiseBinary.url != nil, "the stepwise binary is not built"))
struct InlineImageTerminalTests {
    @Test("kitty: show prints its text, then the PNG export writes, in chunks, then the cursor below it")
    func kitty() throws {
        let t = try PictureTerminal(["TERM": "xterm-kitty"])
        defer { t.quit() }
        #expect(t.pty.expect("stepwise> "), "no prompt: \(t.pty.buffer)")
        #expect(t.command("prompt The cat sat on the mat").contains("next token:"))
        let out = t.command("show pattern 0 head 1")
        let exported = try t.export("pattern 0 head 1", "p.png")
        let chunks = try KittyChunks(out)
        #expect(chunks.png == exported, "the picture is the exported PNG")
        #expect(chunks.keys.first?["a"] == "T" && chunks.keys.first?["q"] == "2" && chunks.keys.last?["m"] == "0")
        let text = try #require(out.range(of: "query_pos")), image = try #require(out.range(of: "\u{1B}_G"))
        #expect(text.lowerBound < image.lowerBound, "the text first, then the picture")
        let rows = Int(chunks.keys.first?["r"] ?? "") ?? 0
        #expect(rows > 0 && rows <= 47)
        let after = out[out.range(of: "\u{1B}\\", options: .backwards)!.upperBound...]
        #expect(after.hasPrefix(String(repeating: "\r\n", count: rows)), "the cursor moves below the picture")
        // A table stays text.
        #expect(!t.command("show resid_post 1").contains("\u{1B}_G"))
        #expect(t.command("set images off").contains("images = off: text only (detected kitty graphics: TERM=xterm-kitty)"))
        #expect(!t.command("show pattern 0 head 1").contains("\u{1B}_G"))
    }

    @Test("iTerm2: heads L as one OSC 1337 holding the PNG export heads L writes")
    func iterm() throws {
        let t = try PictureTerminal(["TERM_PROGRAM": "iTerm.app"])
        defer { t.quit() }
        #expect(t.pty.expect("stepwise> "))
        t.command("prompt The cat sat on the mat")
        let out = t.command("heads 1")
        let image = try ITermImage(out)
        #expect(image.png == (try t.export("heads 1", "h.png")))
        #expect(image.arguments["inline"] == "1" && Int(image.arguments["width"] ?? "") ?? 0 <= 119)
        #expect(out.contains("head 1.3"), "the text grid is printed too")
    }

    @Test("inside tmux: nothing unless asked; asked, kitty's chunks go through tmux's passthrough")
    func tmux() throws {
        let t = try PictureTerminal(["TERM": "screen-256color", "TMUX": "/tmp/tmux-1000/default,1,0", "KITTY_WINDOW_ID": "2"])
        defer { t.quit() }
        #expect(t.pty.expect("stepwise> "))
        t.command("prompt The cat sat on the mat")
        let plain = t.command("show pattern 0 head 1")
        #expect(plain.contains("query_pos"))
        #expect(!plain.contains("\u{1B}_G") && !plain.contains("1337;File") && !plain.contains("\u{1B}P"))
        #expect(t.command("set images kitty").contains("drawn with kitty graphics (detected none: TMUX is set, inside tmux)"))
        let out = t.command("show pattern 0 head 1")
        let start = try #require(out.range(of: "\u{1B}Ptmux;"))
        let end = try #require(out.range(of: "\u{1B}\\", options: .backwards))
        let inner = out[start.upperBound..<end.lowerBound].replacingOccurrences(of: "\u{1B}\u{1B}", with: "\u{1B}")
        #expect(try KittyChunks(inner).png == (try t.export("pattern 0 head 1", "p.png")))
    }

    @Test("sixel when asked: the decoded pixels are the exported PNG's; nothing when nothing was detected")
    func sixel() throws {
        // 10×20-pixel cells, reported by the terminal.
        let t = try PictureTerminal([:], rows: 80, columns: 200, pixelWidth: 2000, pixelHeight: 1600)
        defer { t.quit() }
        #expect(t.pty.expect("stepwise> "))
        t.command("prompt The cat sat on the mat")
        #expect(!t.command("show pattern 0 head 1").contains("\u{1B}P"), "auto: none detected")
        #expect(t.command("set").split(whereSeparator: \.isWhitespace).joined(separator: " ")
            .contains("now text only (detected none: TERM=xterm-256color)"))
        #expect(t.command("set images sixel").contains("drawn with sixel"))
        let six = try DecodedSixel(t.command("show pattern 0 head 1"))
        let png = try DecodedPNG(try t.export("pattern 0 head 1", "p.png"))
        #expect(six.width == png.width && six.height == png.height)
        for y in stride(from: 0, to: png.height, by: 37) {
            for x in stride(from: 0, to: png.width, by: 41) {
                #expect(close(six.pixel(x, y), png.pixel(x, y)), "pixel \(x),\(y)")
            }
        }
    }

    @Test("never through the pager: the pager gets the text, the picture comes after it")
    func pager() throws {
        let folder = try TempFolder()
        try folder.write("pager.sh", "#!/bin/sh\ncat > '\(folder.path)/got'\necho FAKE PAGER DONE\n")
        chmod(folder.file("pager.sh").path, 0o755)
        let t = try PictureTerminal(["TERM": "xterm-kitty", "PAGER": folder.file("pager.sh").path])
        defer { t.quit() }
        #expect(t.pty.expect("stepwise> "))
        t.command("prompt The cat sat on the mat")
        t.command("set pager on")
        let out = t.command("show pattern 0 head 1")
        let got = (try? String(contentsOf: folder.file("got"), encoding: .utf8)) ?? ""
        #expect(got.contains("query_pos") && !got.contains("\u{1B}"), "the pager got: \(got.prefix(200))")
        let done = try #require(out.range(of: "FAKE PAGER DONE")), image = try #require(out.range(of: "\u{1B}_G"))
        #expect(done.lowerBound < image.lowerBound)
    }

    @Test("a lesson played in the terminal draws no picture; the REPL after it does")
    func lesson() throws {
        let t = try PictureTerminal(["TERM": "xterm-kitty"], args: ["lesson", "lessons/05-many-heads.md"])
        defer { t.quit() }
        #expect(t.pty.expect("[Enter] next"), "\(t.pty.buffer)")
        #expect(t.pty.buffer.contains("head 0.3"), "the lesson's heads 0 ran")
        var seen = t.pty.buffer
        t.pty.buffer = ""
        t.pty.send(" ")
        #expect(t.pty.expect("quit to the REPL"), "\(t.pty.buffer)")
        seen += t.pty.buffer
        #expect(!seen.contains("\u{1B}_G"))
        // The lesson prints its commands after a prompt too: wait for the REPL's own, after the lesson.
        t.pty.buffer = ""
        t.pty.send("q")
        #expect(t.pty.expect("stepwise> "))
        usleep(300_000)
        #expect(t.command("heads 0").contains("\u{1B}_G"))
    }

    @Test("batch mode and pipes: byte for byte the output of a terminal that draws nothing, with no escape at all")
    func batch() throws {
        let script = ["-e", "prompt The cat sat on the mat", "-e", "show pattern 0 head 1", "-e", "heads 1", "-e", "set images kitty",
                      "-e", "show pattern 0 head 1"]
        let (s1, kitty, _) = try StepwiseBinary.run(script, environment: imageEnvironment(["TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"]))
        let (s2, plain, _) = try StepwiseBinary.run(script, environment: imageEnvironment([:]))
        #expect(s1 == 0 && s2 == 0)
        #expect(kitty == plain)
        #expect(!kitty.contains("\u{1B}") && kitty.contains("query_pos"))
        #expect(kitty.contains("images = kitty: text only here"))
    }
}
