import Foundation

/// Rotary position embedding: each pair of dimensions of a query or key head is rotated by an angle
/// proportional to the token's position, `angle_i = position · θ^(−2i/d)`.
///
/// Mirrors transformers' `LlamaRotaryEmbedding` + `apply_rotary_pos_emb` (pairs `i`, `i + d/2`) and
/// llama.cpp's "normal" rope mode (adjacent pairs) — see ``LlamaWeightLayout``. Frequencies and angles
/// are rounded to float32 as transformers computes them, so cos/sin match it bit for bit up to `cos` itself.
public struct RoPE: Sendable, Equatable {
    /// Which dimensions of a head form a rotated pair.
    public enum Pairing: String, Sendable {
        /// `(i, i + d/2)`: transformers' `rotate_half`, on Hugging Face-order weights.
        case halves
        /// `(2i, 2i + 1)`: llama.cpp, on GGUF-order weights.
        case adjacent
    }

    /// Dimensions per head (all rotated).
    public let dimensions: Int
    /// The base θ.
    public let theta: Float
    public let pairing: Pairing
    /// `[d/2]` angle per position step of each pair: `θ^(−2i/d)`.
    public let inverseFrequencies: [Float]

    public init(dimensions: Int, theta: Float, pairing: Pairing) {
        precondition(dimensions > 0 && dimensions % 2 == 0, "RoPE: dimensions \(dimensions) must be even and positive")
        self.dimensions = dimensions
        self.theta = theta
        self.pairing = pairing
        inverseFrequencies = (0..<(dimensions / 2)).map { i in
            let exponent = Float(2 * i) / Float(dimensions)
            return 1 / Float(pow(Double(theta), Double(exponent)))
        }
    }

    /// The dimension pairs `(a, b)` rotated together, pair `i` with frequency `inverseFrequencies[i]`.
    public var pairs: [(Int, Int)] {
        let h = dimensions / 2
        return (0..<h).map { pairing == .halves ? ($0, $0 + h) : (2 * $0, 2 * $0 + 1) }
    }

    /// The rotation angle of each pair at `position`, `[d/2]` radians.
    public func angles(position: Int) -> [Float] {
        inverseFrequencies.map { Float(position) * $0 }
    }

    /// cos and sin of the angle applied to each dimension, `[positions, d]` each, in this pairing's order
    /// (for `.halves` the same as transformers' `cos`/`sin` = `cat(freqs, freqs)`).
    public func cosSin(positions: Range<Int>) -> (cos: Tensor, sin: Tensor) {
        let d = dimensions
        var c = [Float](repeating: 0, count: positions.count * d)
        var s = c
        for (t, p) in positions.enumerated() {
            let ang = angles(position: p)
            for (i, (a, b)) in pairs.enumerated() {
                let cv = Float(Foundation.cos(Double(ang[i]))), sv = Float(Foundation.sin(Double(ang[i])))
                c[t * d + a] = cv; c[t * d + b] = cv
                s[t * d + a] = sv; s[t * d + b] = sv
            }
        }
        return (Tensor(shape: [positions.count, d], data: c), Tensor(shape: [positions.count, d], data: s))
    }

    /// Rotates every head of every row in place: `x` is `[rows, heads, d]` row-major and row `t` sits at
    /// position `start + t`. For each pair `(a, b)`: `a' = a·cos − b·sin`, `b' = b·cos + a·sin`.
    public func apply(_ x: inout [Float], rows: Int, heads: Int, start: Int) {
        var none: [Float] = []
        apply(&x, heads: heads, and: &none, heads: 0, rows: rows, start: start)
    }

    /// Rotates queries `q` `[rows, qHeads, d]` and keys `k` `[rows, kHeads, d]` in place, each row's angles
    /// computed once for both (what ``apply(_:rows:heads:start:)`` does to each).
    public func apply(_ q: inout [Float], heads qHeads: Int, and k: inout [Float], heads kHeads: Int, rows: Int, start: Int) {
        let d = dimensions, h = d / 2
        precondition(q.count == rows * qHeads * d && k.count == rows * kHeads * d,
                     "RoPE.apply: \(q.count) and \(k.count) values for [\(rows), \(qHeads) and \(kHeads), \(d)]")
        var cs = [Float](repeating: 0, count: h), sn = cs
        let stepA = pairing == .halves ? 1 : 2
        let offsetB = pairing == .halves ? h : 1
        func rotate(_ xp: UnsafeMutableBufferPointer<Float>, row t: Int, heads: Int) {
            for hd in 0..<heads {
                let base = (t * heads + hd) * d
                for i in 0..<h {
                    let ia = base + i * stepA, ib = ia + offsetB
                    let a = xp[ia], b = xp[ib]
                    xp[ia] = a * cs[i] - b * sn[i]
                    xp[ib] = b * cs[i] + a * sn[i]
                }
            }
        }
        q.withUnsafeMutableBufferPointer { qp in
            k.withUnsafeMutableBufferPointer { kp in
                for t in 0..<rows {
                    let p = Float(start + t)
                    for i in 0..<h {
                        let angle = p * inverseFrequencies[i]
                        cs[i] = Float(Foundation.cos(Double(angle)))
                        sn[i] = Float(Foundation.sin(Double(angle)))
                    }
                    rotate(qp, row: t, heads: qHeads)
                    rotate(kp, row: t, heads: kHeads)
                }
            }
        }
    }

    /// Rotates every head of every row in place by given tables: `cos` and `sin` are `[rows, d]` in this
    /// pairing's order (as ``cosSin(positions:)`` makes them, or patched). For each pair `(a, b)`:
    /// `a' = a·cos[a] − b·sin[a]`, `b' = b·cos[b] + a·sin[b]` (transformers' `q·cos + rotate_half(q)·sin`).
    public func apply(_ x: inout [Float], rows: Int, heads: Int, cos: Tensor, sin: Tensor) {
        let d = dimensions
        precondition(x.count == rows * heads * d && cos.shape == [rows, d] && sin.shape == [rows, d],
                     "RoPE.apply: \(x.count) values for [\(rows), \(heads), \(d)], tables \(cos.shape)")
        for t in 0..<rows {
            for hd in 0..<heads {
                let base = (t * heads + hd) * d
                for (a, b) in pairs {
                    let xa = x[base + a], xb = x[base + b]
                    x[base + a] = xa * cos.data[t * d + a] - xb * sin.data[t * d + a]
                    x[base + b] = xb * cos.data[t * d + b] + xa * sin.data[t * d + b]
                }
            }
        }
    }
}
