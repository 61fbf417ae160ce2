import Foundation

/// Eigenvalues of a small dense real matrix (no LAPACK on every platform Stepwise runs on).
///
/// Householder reduction to upper Hessenberg form, then Francis double-shift QR iterations with
/// deflation (Golub & Van Loan, *Matrix Computations*, §7.4–7.5), in double precision.
public enum Eigenvalues {
    /// One eigenvalue `re + i·im`.
    public struct Value: Sendable, Equatable {
        public var re: Double
        public var im: Double
        public var magnitude: Double { (re * re + im * im).squareRoot() }
    }

    /// The `n` eigenvalues (with multiplicity, complex ones in conjugate pairs) of a square matrix.
    /// - Parameter matrix: `[n, n]`.
    /// - Complexity: O(n³); meant for n up to a few hundred (a head's `d_head × d_head` circuit).
    public static func of(_ matrix: Tensor) -> [Value] {
        precondition(matrix.rank == 2 && matrix.shape[0] == matrix.shape[1], "Eigenvalues.of needs a square matrix, got \(matrix.shape)")
        let n = matrix.shape[0]
        var a = matrix.data.map(Double.init)
        hessenberg(&a, n)
        return hessenbergEigenvalues(&a, n)
    }

    // MARK: - Reduction

    /// Applies `I − 2vvᵀ/(vᵀv)` from the left to rows `r0..<r0+v.count`, columns `c0...c1`.
    @inline(__always)
    static func reflectLeft(_ a: inout [Double], _ n: Int, _ v: [Double], _ beta: Double, r0: Int, c0: Int, c1: Int) {
        guard c0 <= c1 else { return }
        for j in c0...c1 {
            var s = 0.0
            for (i, vi) in v.enumerated() { s += vi * a[(r0 + i) * n + j] }
            s *= 2 / beta
            for (i, vi) in v.enumerated() { a[(r0 + i) * n + j] -= s * vi }
        }
    }

    /// Applies the reflector from the right to rows `r0...r1`, columns `c0..<c0+v.count`.
    @inline(__always)
    static func reflectRight(_ a: inout [Double], _ n: Int, _ v: [Double], _ beta: Double, r0: Int, r1: Int, c0: Int) {
        guard r0 <= r1 else { return }
        for i in r0...r1 {
            var s = 0.0
            for (j, vj) in v.enumerated() { s += vj * a[i * n + c0 + j] }
            s *= 2 / beta
            for (j, vj) in v.enumerated() { a[i * n + c0 + j] -= s * vj }
        }
    }

    /// The Householder vector that maps `w` onto a multiple of e₁, and vᵀv (0 when `w` is already zero below its head).
    static func householder(_ w: [Double]) -> ([Double], Double) {
        let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return (w, 0) }
        var v = w
        v[0] += w[0] >= 0 ? norm : -norm
        let beta = v.reduce(0) { $0 + $1 * $1 }
        return (v, beta)
    }

    /// Reduces `a` `[n, n]` to upper Hessenberg form by similarity transforms (same eigenvalues).
    static func hessenberg(_ a: inout [Double], _ n: Int) {
        guard n > 2 else { return }
        for k in 0..<(n - 2) {
            let w = ((k + 1)..<n).map { a[$0 * n + k] }
            let (v, beta) = householder(w)
            if beta == 0 { continue }
            reflectLeft(&a, n, v, beta, r0: k + 1, c0: k, c1: n - 1)
            reflectRight(&a, n, v, beta, r0: 0, r1: n - 1, c0: k + 1)
            for i in (k + 2)..<n { a[i * n + k] = 0 }
        }
    }

    // MARK: - QR iterations

    static func hessenbergEigenvalues(_ h: inout [Double], _ n: Int) -> [Value] {
        var out: [Value] = []
        var norm = 0.0
        for x in h { norm = max(norm, abs(x)) }
        if norm == 0 { return Array(repeating: Value(re: 0, im: 0), count: n) }
        var hi = n - 1
        var iterations = 0
        func at(_ i: Int, _ j: Int) -> Double { h[i * n + j] }
        while hi >= 0 {
            // Find the top `l` of the unreduced block ending at `hi`.
            var l = hi
            while l > 0 {
                var s = abs(at(l - 1, l - 1)) + abs(at(l, l))
                if s == 0 { s = norm }
                if abs(at(l, l - 1)) <= Double.ulpOfOne * s { h[l * n + l - 1] = 0; break }
                l -= 1
            }
            if l == hi {
                out.append(Value(re: at(hi, hi), im: 0))
                hi -= 1
                iterations = 0
                continue
            }
            if l == hi - 1 {
                let (a, b, c, d) = (at(hi - 1, hi - 1), at(hi - 1, hi), at(hi, hi - 1), at(hi, hi))
                let half = (a + d) / 2, det = a * d - b * c
                let disc = half * half - det
                if disc >= 0 {
                    let r = disc.squareRoot()
                    out.append(Value(re: half + r, im: 0))
                    out.append(Value(re: half - r, im: 0))
                } else {
                    let r = (-disc).squareRoot()
                    out.append(Value(re: half, im: r))
                    out.append(Value(re: half, im: -r))
                }
                hi -= 2
                iterations = 0
                continue
            }
            iterations += 1
            if iterations > 100 * n {
                // Not converged (should not happen): report the diagonal of what is left.
                for i in stride(from: hi, through: l, by: -1) { out.append(Value(re: at(i, i), im: 0)) }
                hi = l - 1
                continue
            }
            // Shifts: the trailing 2×2 block's eigenvalues (sum s, product t); an exceptional shift
            // every 10 iterations breaks cycles.
            var s = at(hi - 1, hi - 1) + at(hi, hi)
            var t = at(hi - 1, hi - 1) * at(hi, hi) - at(hi - 1, hi) * at(hi, hi - 1)
            if iterations % 10 == 0 {
                let e = abs(at(hi, hi - 1)) + abs(at(hi - 1, hi - 2))
                s = 1.5 * e
                t = e * e
            }
            // First column of (H − σ₁)(H − σ₂) = H² − sH + tI.
            var x = at(l, l) * at(l, l) + at(l, l + 1) * at(l + 1, l) - s * at(l, l) + t
            var y = at(l + 1, l) * (at(l, l) + at(l + 1, l + 1) - s)
            var z = at(l + 1, l) * at(l + 2, l + 1)
            for k in l..<(hi - 1) {
                let (v, beta) = householder([x, y, z])
                if beta > 0 {
                    reflectLeft(&h, n, v, beta, r0: k, c0: max(l, k - 1), c1: hi)
                    reflectRight(&h, n, v, beta, r0: l, r1: min(k + 3, hi), c0: k)
                }
                x = at(k + 1, k)
                y = at(k + 2, k)
                if k < hi - 2 { z = at(k + 3, k) }
            }
            let (v, beta) = householder([x, y])
            if beta > 0 {
                reflectLeft(&h, n, v, beta, r0: hi - 1, c0: hi - 2, c1: hi)
                reflectRight(&h, n, v, beta, r0: l, r1: hi, c0: hi - 1)
            }
        }
        return out
    }
}
