import Foundation
import Testing
@testable import StepwiseKit

/// Runs command scripts through the interpreter as plain (non-terminal) mode does, and renders a
/// transcript: each command after `> `, then its output, errors as `error: …` lines.
struct Transcript {
    var session: Session
    let interpreter = StandardCommands.interpreter()
    var context = CommandContext(width: 80, color: false, interactive: false)

    init(model: String? = nil, width: Int = 80) throws {
        session = Session()
        try session.load(path: model)
        session.settings.width = width
        context.width = width
        context.baseDirectory = TestPaths.repoRoot.path
    }

    /// Runs every line; returns the transcript text and whether every command succeeded.
    mutating func run(_ script: String, stopAtFailure: Bool = false) -> (text: String, ok: Bool) {
        var out: [String] = []
        var ok = true
        for line in script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            out.append("> " + t)
            switch interpreter.execute(t, in: &session, context: context) {
            case .output(let lines): out += lines
            case .failure(let msg):
                out.append(msg)
                ok = false
                if stopAtFailure { return (out.joined(separator: "\n") + "\n", false) }
            case .quit: return (out.joined(separator: "\n") + "\n", ok)
            }
        }
        return (out.joined(separator: "\n") + "\n", ok)
    }
}

/// Compares text with a snapshot file; `STEPWISE_UPDATE_SNAPSHOTS=1` rewrites the file instead.
func expectSnapshot(_ text: String, _ file: URL, sourceLocation: SourceLocation = #_sourceLocation) {
    if ProcessInfo.processInfo.environment["STEPWISE_UPDATE_SNAPSHOTS"] == "1" {
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? text.write(to: file, atomically: true, encoding: .utf8)
        return
    }
    guard let want = try? String(contentsOf: file, encoding: .utf8) else {
        Issue.record("snapshot \(file.lastPathComponent) is missing; run with STEPWISE_UPDATE_SNAPSHOTS=1", sourceLocation: sourceLocation)
        return
    }
    if want != text {
        let a = want.split(separator: "\n", omittingEmptySubsequences: false)
        let b = text.split(separator: "\n", omittingEmptySubsequences: false)
        let i = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        Issue.record("""
            \(file.lastPathComponent) differs at line \(i + 1):
              expected: \(i < a.count ? String(a[i]) : "<end>")
              actual:   \(i < b.count ? String(b[i]) : "<end>")
            """, sourceLocation: sourceLocation)
    }
}
