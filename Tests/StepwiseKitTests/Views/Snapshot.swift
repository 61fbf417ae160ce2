import Foundation
import Testing

/// Expected view output kept as text files under `Fixtures/snapshots/views/`.
///
/// A test compares its lines with the file; with `STEPWISE_UPDATE_SNAPSHOTS=1` it rewrites the file
/// instead (and records nothing). Escape characters are stored as the two characters `\e` so colour
/// snapshots stay readable in a diff (`printf '%b\n' "$(cat file)"` shows the colours).
enum Snapshot {
    static let directory = TestPaths.fixtures.appendingPathComponent("snapshots/views")

    static var updating: Bool { ProcessInfo.processInfo.environment["STEPWISE_UPDATE_SNAPSHOTS"] == "1" }

    /// The stored form of some lines.
    static func text(_ lines: [String]) -> String {
        lines.joined(separator: "\n").replacingOccurrences(of: "\u{1B}", with: "\\e") + "\n"
    }

    /// Checks `lines` against `name.txt` (or rewrites it when updating).
    static func check(_ lines: [String], _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let url = directory.appendingPathComponent(name + ".txt")
        let got = text(lines)
        if updating {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            do { try got.write(to: url, atomically: true, encoding: .utf8) } catch {
                Issue.record("could not write snapshot \(url.path): \(error)", sourceLocation: sourceLocation)
            }
            return
        }
        guard let want = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("snapshot \(name).txt is missing: run with STEPWISE_UPDATE_SNAPSHOTS=1 and review it",
                         sourceLocation: sourceLocation)
            return
        }
        if got != want {
            let g = got.split(separator: "\n", omittingEmptySubsequences: false)
            let w = want.split(separator: "\n", omittingEmptySubsequences: false)
            let first = (0..<min(g.count, w.count)).first { g[$0] != w[$0] } ?? min(g.count, w.count)
            let gl = first < g.count ? String(g[first]) : "<end>"
            let wl = first < w.count ? String(w[first]) : "<end>"
            Issue.record("snapshot \(name).txt differs at line \(first + 1):\n  got:  \(gl)\n  want: \(wl)",
                         sourceLocation: sourceLocation)
        }
    }
}
