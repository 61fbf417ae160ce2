import Foundation
@testable import StepwiseKit

/// Small hand-built tensors the view tests draw.
enum ViewSamples {
    static let words = ["The", " cat", " sat", " on", " the", " mat", ".", " It", " was", " warm", " and", " soft"]

    /// Token labels as the trace shows them (`' cat'`).
    static func labels(_ n: Int) -> [String] { (0..<n).map { TokenLabel.display(words[$0 % words.count]) } }

    /// Deterministic values in `-scale..<scale`.
    static func values(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in (rng.nextFloat() * 2 - 1) * scale }
    }

    /// Causal attention scores `[n, n]`: `-inf` above the diagonal.
    static func causalScores(_ n: Int, seed: UInt64 = 7) -> Tensor {
        var t = Tensor(shape: [n, n], data: values(n * n, seed: seed, scale: 3))
        for q in 0..<n { for k in (q + 1)..<max(q + 1, n) { t[q, k] = -.infinity } }
        return t
    }

    /// The softmax of ``causalScores(_:seed:)``: a causal attention pattern, zeros above the diagonal.
    static func causalPattern(_ n: Int, seed: UInt64 = 7) -> Tensor {
        let s = causalScores(n, seed: seed)
        var p = Tensor.zeros([n, n])
        for q in 0..<n {
            let row = (0...q).map { s[q, $0] }
            let m = row.max()!
            let e = row.map { exp($0 - m) }
            let z = e.reduce(0, +)
            for k in 0...q { p[q, k] = e[k] / z }
        }
        return p
    }

    static func patternAxes(_ n: Int) -> [Axis] {
        [Axis("query_pos", labels: labels(n)), Axis("key_pos", labels: labels(n))]
    }

    /// A `[rows, cols]` residual-like table with position labels.
    static func residual(_ rows: Int, _ cols: Int, seed: UInt64 = 3, scale: Float = 2.5) -> (Tensor, [Axis]) {
        (Tensor(shape: [rows, cols], data: values(rows * cols, seed: seed, scale: scale)),
         [Axis("pos", labels: labels(rows)), Axis("d_model")])
    }
}
