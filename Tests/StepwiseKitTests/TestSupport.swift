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
