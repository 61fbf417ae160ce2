import Foundation
import Testing
@testable import StepwiseKit

/// Where tests find files that are not in the repository.
enum TestPaths {
    /// The repository root.
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// This target's committed fixtures.
    static let fixtures: URL = repoRoot.appendingPathComponent("Tests/StepwiseKitTests/Fixtures")

    /// Golden reference data: `STEPWISE_GOLDEN`, else `../shared/golden` beside the repository.
    static let golden: URL = {
        if let p = ProcessInfo.processInfo.environment["STEPWISE_GOLDEN"] { return URL(fileURLWithPath: p) }
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared/golden")
    }()

    /// Real models unpacked from their PyPI wheels (laid out as `.ci/fetch-models` does):
    /// `STEPWISE_MODELS`, else `~/stepwise-ref/models`.
    static let models: URL = {
        if let p = ProcessInfo.processInfo.environment["STEPWISE_MODELS"] { return URL(fileURLWithPath: p) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent("stepwise-ref/models")
    }()

    /// A file under ``models`` if it exists (tests that need it are skipped, saying why, when it does not).
    static func model(_ relative: String) -> URL? {
        let u = models.appendingPathComponent(relative)
        return FileManager.default.fileExists(atPath: u.path) ? u : nil
    }

    /// A golden file if it exists.
    static func goldenFile(_ name: String) -> URL? {
        let u = golden.appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: u.path) ? u : nil
    }
}

/// Reads a JSON file into Foundation objects.
func loadJSON(_ url: URL) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: url))
}

/// Flattens nested JSON number arrays into floats, row-major, and returns the shape found.
func flattenNumbers(_ value: Any) -> (shape: [Int], data: [Float]) {
    var data: [Float] = []
    var shape: [Int] = []
    func walk(_ v: Any, depth: Int) {
        if let a = v as? [Any] {
            if shape.count == depth { shape.append(a.count) }
            for x in a { walk(x, depth: depth + 1) }
        } else if let n = v as? NSNumber {
            data.append(n.floatValue)
        }
    }
    walk(value, depth: 0)
    return (shape, data)
}

/// The comparison every reference test uses: max |a − b| ≤ tol · max(1, max|ref|) (or ≤ tol when `absolute`).
/// Returns the max abs error and the bound, for the failure message.
func referenceError(_ got: [Float], _ want: [Float], tolerance: Float = 1e-4, absolute: Bool = false) -> (error: Float, bound: Float) {
    precondition(got.count == want.count, "referenceError: \(got.count) values vs \(want.count)")
    var err: Float = 0
    var refMax: Float = 0
    for (g, w) in zip(got, want) {
        err = max(err, abs(g - w))
        refMax = max(refMax, abs(w))
    }
    if got.contains(where: { $0.isNaN }) { err = .infinity }
    return (err, absolute ? tolerance : tolerance * max(1, refMax))
}

/// Records an issue unless `got` matches the reference `want` within 1e-4 (``referenceError``: relative to
/// max(1, max|ref|), or absolute for patterns), naming `what` and the error.
func expectReferenceClose(_ got: [Float], _ want: [Float], absolute: Bool = false, _ what: String,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.count == want.count, "\(what): \(got.count) values vs \(want.count)", sourceLocation: sourceLocation)
    guard got.count == want.count else { return }
    let (err, bound) = referenceError(got, want, absolute: absolute)
    #expect(err <= bound, "\(what): max error \(err) > \(bound)", sourceLocation: sourceLocation)
}

/// `C = A · Bᵀ` by the definition, a triple loop in double precision: what the kernels are checked against.
func naiveABT(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n {
        var s: Double = 0
        for p in 0..<k { s += Double(a[i * k + p]) * Double(b[j * k + p]) }
        c[i * n + j] = Float(s)
    } }
    return c
}

/// Every child process a test starts is read and waited for with a deadline, so a child that hangs
/// fails its test, naming it, instead of holding up the whole run.
enum Child {
    /// Waits for `p` to leave, at most `seconds`. One still running then is killed (SIGKILL) and the test
    /// fails naming `what`. Returns whether it left by itself.
    @discardableResult
    static func wait(_ p: Process, within seconds: Double = 60, what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        if leaves(p, within: seconds) { return true }
        killNow(p)
        Issue.record("\(what) was still running after \(Int(seconds)) s and was killed", sourceLocation: sourceLocation)
        return false
    }

    /// Starts `p` (its pipes already set), writes `input` to its standard input, reads every pipe of
    /// `reading` to its end at the same time (so no full pipe stalls the child), and waits for it. A
    /// child still running after `seconds` is killed and the test fails naming `what`.
    static func run(_ p: Process, input: (pipe: Pipe, data: Data)? = nil, reading pipes: [Pipe], within seconds: Double = 120,
                    what: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Data] {
        try p.run()
        let results = Results(pipes.count)
        // Threads of their own, not the shared dispatch queues: a test that keeps those busy cannot stall them.
        let group = DispatchGroup()
        for (i, pipe) in pipes.enumerated() {
            group.enter()
            Thread {
                results.set(i, pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }.start()
        }
        if let input {
            Thread {
                input.pipe.fileHandleForWriting.write(input.data)
                try? input.pipe.fileHandleForWriting.close()
            }.start()
        }
        if group.wait(timeout: .now() + seconds) == .timedOut {
            killNow(p)
            _ = group.wait(timeout: .now() + 10)
            Issue.record("\(what) was still running after \(Int(seconds)) s and was killed", sourceLocation: sourceLocation)
            return results.values
        }
        wait(p, within: 30, what: what, sourceLocation: sourceLocation)
        return results.values
    }

    /// Kills `p` (SIGKILL) and gives it ten seconds to be gone.
    static func killNow(_ p: Process) {
        kill(p.processIdentifier, SIGKILL)
        _ = leaves(p, within: 10)
    }

    /// Whether `p` has left, waiting at most `seconds`.
    static func leaves(_ p: Process, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning {
            if Date() >= deadline { return false }
            usleep(10_000)
        }
        return true
    }

    private final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [Data]
        init(_ n: Int) { stored = Array(repeating: Data(), count: n) }
        func set(_ i: Int, _ d: Data) { lock.lock(); stored[i] = d; lock.unlock() }
        var values: [Data] { lock.lock(); defer { lock.unlock() }; return stored }
    }
}
