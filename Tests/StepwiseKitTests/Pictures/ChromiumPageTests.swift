import Foundation
import Testing
@testable import StepwiseKit

/// Headless Chromium (Debian's `chromium` package), run with the network unreachable.
enum Chromium {
    static let path: String? = {
        for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"]
        where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }()

    /// Hosts Chromium itself calls on start (updates, accounts, dictionaries): never the page's doing.
    static func isBrowserService(_ host: String) -> Bool {
        host == "~notfound" || ["google.com", "googleapis.com", "gvt1.com", "gstatic.com"].contains { host == $0 || host.hasSuffix("." + $0) }
    }

    /// Runs Chromium on a local file, proxy and DNS pointing nowhere, and returns its stdout.
    static func run(_ url: URL, _ extra: [String], in dir: URL) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path!)
        p.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                       "--disable-background-networking", "--disable-component-update", "--disable-sync",
                       "--disable-extensions", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                       "--user-data-dir=" + dir.appendingPathComponent("profile-\(UUID().uuidString)").path]
            + extra + [url.absoluteString]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        return String(decoding: try Child.run(p, reading: [out], within: 120, what: "chromium")[0], as: UTF8.self)
    }

    /// The hosts of every URL the network log saw.
    static func requestedHosts(_ netLog: URL) throws -> Set<String> {
        let text = try String(contentsOf: netLog, encoding: .utf8)
        var hosts: Set<String> = []
        var rest = Substring(text)
        while let r = rest.range(of: "\"url\":\"") {
            rest = rest[r.upperBound...]
            let url = rest.prefix { $0 != "\"" }
            if let u = URL(string: String(url)), let h = u.host, u.scheme != "file" { hosts.insert(h) }
        }
        return hosts
    }

    /// `[y][x]` averages of grey over `block × block` squares: a small picture to compare.
    static func thumbnail(_ png: DecodedPNG, block: Int) -> [[Int]] {
        (0..<(png.height / block)).map { by in
            (0..<(png.width / block)).map { bx in
                var sum = 0
                for y in (by * block)..<((by + 1) * block) { for x in (bx * block)..<((bx + 1) * block) {
                    let p = png.pixel(x, y)
                    sum += (Int(p.r) * 299 + Int(p.g) * 587 + Int(p.b) * 114) / 1000
                } }
                return sum / (block * block)
            }
        }
    }
}

@Suite("Pictures: the HTML page in a browser", .enabled(if: Chromium.path != nil, "chromium is not installed (apt-get install -y chromium; .ci/run installs it)"))
struct ChromiumPageTests {
    static let snapshot = TestPaths.fixtures.appendingPathComponent("snapshots/pictures/session-page.thumb")

    @Test("the recorded page renders offline: the commands and the heatmap show, and the page asks the network for nothing")
    func rendersOffline() throws {
        var f = try PictureFixture(prompt: "The cat sat on the mat because it was tired")
        defer { f.remove() }
        try f.run("show pattern 0 head 2")
        try f.run("record page.html")
        let page = f.folder.appendingPathComponent("page.html")

        // The DOM as parsed: the command and the heatmap's cells are there.
        let dom = try Chromium.run(page, ["--dump-dom"], in: f.folder)
        #expect(dom.contains("show pattern 0 head 2"))
        #expect(dom.contains("<svg") && dom.contains("class=\"cell\""))

        // The network log sees a page's request (a control page with an image on a made-up host) …
        let control = f.folder.appendingPathComponent("control.html")
        try "<!DOCTYPE html><img src=\"http://stepwise-control.invalid/x.png\">".write(to: control, atomically: true, encoding: .utf8)
        let controlLog = f.folder.appendingPathComponent("control-net.json")
        _ = try Chromium.run(control, ["--log-net-log=" + controlLog.path, "--screenshot=" + f.folder.appendingPathComponent("c.png").path],
                             in: f.folder)
        #expect(try Chromium.requestedHosts(controlLog).contains("stepwise-control.invalid"), "the net log would show a request")
        // … and the recorded page makes none (only Chromium's own services appear, as for any page).
        let shot = f.folder.appendingPathComponent("shot.png")
        let log = f.folder.appendingPathComponent("net.json")
        _ = try Chromium.run(page, ["--window-size=1000,2000", "--screenshot=" + shot.path, "--log-net-log=" + log.path], in: f.folder)
        let pageHosts = try Chromium.requestedHosts(log).filter { !Chromium.isBrowserService($0) }
        #expect(pageHosts.isEmpty, "the page requested \(pageHosts)")

        // The screenshot: a dark page (the default theme) with its command bars and the heatmap's viridis colours.
        let png = try DecodedPNG(try Data(contentsOf: shot))
        #expect(png.width == 1000 && png.height == 2000)
        var yellow = 0, purple = 0, commandBar = 0, background = 0
        for y in stride(from: 0, to: png.height, by: 2) { for x in stride(from: 0, to: png.width, by: 2) {
            let p = png.pixel(x, y)
            func near(_ c: RGB, _ tol: Int = 6) -> Bool {
                abs(Int(p.r) - Int(c.r)) <= tol && abs(Int(p.g) - Int(c.g)) <= tol && abs(Int(p.b) - Int(c.b)) <= tol
            }
            if near(RGB(hex: 0xFDE725)) { yellow += 1 }
            if near(RGB(hex: 0x440154), 10) { purple += 1 }
            if near(RGB(hex: 0x263238)) { commandBar += 1 }
            if near(PictureColors.dark.background, 2) { background += 1 }
        } }
        #expect(yellow > 200, "the heatmap's weight-1 cells (viridis yellow): \(yellow) samples")
        #expect(purple > 1000, "the heatmap's near-zero cells (viridis purple): \(purple) samples")
        #expect(commandBar > 2000, "the command lines: \(commandBar) samples")
        #expect(background > png.width * png.height / 8, "the dark page and pictures: \(background) samples")

        // Compared with the committed snapshot (20×20-pixel averages), within a tolerance for font rendering.
        let thumb = Chromium.thumbnail(png, block: 20)
        let encoded = thumb.map { $0.map(String.init).joined(separator: " ") }.joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["STEPWISE_UPDATE_SNAPSHOTS"] == "1" {
            try FileManager.default.createDirectory(at: Self.snapshot.deletingLastPathComponent(), withIntermediateDirectories: true)
            try encoded.write(to: Self.snapshot, atomically: true, encoding: .utf8)
        }
        let want = try String(contentsOf: Self.snapshot, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ").compactMap { Int($0) } }
        #expect(want.count == thumb.count && want.first?.count == thumb.first?.count)
        var diff = 0, far = 0, n = 0
        for (a, b) in zip(want, thumb) { for (x, y) in zip(a, b) { diff += abs(x - y); n += 1; if abs(x - y) > 40 { far += 1 } } }
        let mean = Double(diff) / Double(max(n, 1))
        #expect(mean < 6, "mean difference \(mean) from the snapshot (grey levels, 0–255)")
        #expect(Double(far) / Double(max(n, 1)) < 0.03, "\(far) of \(n) blocks differ by more than 40")
    }
}
