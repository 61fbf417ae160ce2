import Dispatch

// MARK: - Matrix products

extension Tensor {
    /// `x · wᵀ + bias`: a linear layer with PyTorch's weight layout.
    ///
    /// - Parameters:
    ///   - weight: `[out, in]`.
    ///   - bias: `[out]` or nil.
    /// - Returns: `[..., out]` for `self` `[..., in]`.
    public func linear(_ weight: Tensor, bias: Tensor? = nil) -> Tensor {
        let k = dim(-1)
        precondition(weight.rank == 2 && weight.shape[1] == k,
                     "Tensor.linear: input \(shape) does not fit weight \(weight.shape)")
        let m = count / Swift.max(k, 1)
        let n = weight.shape[0]
        var out = MatMul.abT(a: data, b: weight.data, m: m, n: n, k: k)
        if let bias {
            precondition(bias.count == n, "Tensor.linear: bias \(bias.shape) vs \(n) outputs")
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<m { for j in 0..<n { o[r * n + j] += bias.data[j] } }
            }
        }
        return Tensor(shape: Array(shape.dropLast()) + [n], data: out)
    }

    /// Matrix product of two rank-2 tensors: `[m, k] · [k, n] -> [m, n]`.
    public func matmul(_ b: Tensor) -> Tensor {
        precondition(rank == 2 && b.rank == 2 && shape[1] == b.shape[0],
                     "Tensor.matmul: shapes \(shape) and \(b.shape) do not chain")
        return linear(b.transposed(0, 1))
    }
}

/// Single-precision matrix kernels: SIMD, cache-blocked, split over the cores.
public enum MatMul {
    /// Work below this many multiply-adds runs on the calling thread.
    static let parallelThreshold = 1 << 16

    /// `C[m, n] = A[m, k] · B[n, k]ᵀ`, all row-major.
    public static func abT(a: [Float], b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        if m == 0 || n == 0 { return c }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    abT(a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!, m: m, n: n, k: k)
                }
            }
        }
        return c
    }

    /// Pointer form of ``abT(a:b:m:n:k:)``; `c` must hold `m * n` values.
    public static func abT(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                           m: Int, n: Int, k: Int) {
        // Split the output columns (rows of B) into chunks; each chunk sweeps all rows of A so a
        // block of B stays in cache while it is reused m times.
        let work = m * n * k
        let chunks = work < parallelThreshold ? 1 : Swift.min(Swift.max(n / 16, 1), 24)
        let per = (n + chunks - 1) / chunks
        let ua = UnsafeSendable(a), ub = UnsafeSendable(b), uc = UnsafeSendable(UnsafePointer(c))
        let body: @Sendable (Int) -> Void = { chunk in
            let j0 = chunk * per
            let j1 = Swift.min(n, j0 + per)
            if j0 >= j1 { return }
            kernel(a: ua.value, b: ub.value, c: UnsafeMutablePointer(mutating: uc.value),
                   m: m, n: n, k: k, j0: j0, j1: j1)
        }
        if chunks == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: body) }
    }

    @inline(__always)
    static func kernel(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                       m: Int, n: Int, k: Int, j0: Int, j1: Int) {
        // Multiply-adds are written `s += x * y`: `addingProduct` lowers to one libm `fmaf` call per lane
        // when the target CPU has no FMA enabled (the default x86-64 target), about 10x slower.
        let k8 = k & ~7
        let kb = 256  // k-block: 4 rows of B x 1 KiB stay in L1
        var kk = 0
        while kk < k {
            let kEnd = Swift.min(k, kk + kb)
            var j = j0
            while j + 4 <= j1 {
                let b0 = b + j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k
                for i in 0..<m {
                    let ai = a + i * k
                    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
                    var p = kk
                    let pEnd = Swift.min(kEnd, k8)
                    while p + 8 <= pEnd {
                        let x = SIMD8<Float>(UnsafeBufferPointer(start: ai + p, count: 8))
                        s0 += x * SIMD8<Float>(UnsafeBufferPointer(start: b0 + p, count: 8))
                        s1 += x * SIMD8<Float>(UnsafeBufferPointer(start: b1 + p, count: 8))
                        s2 += x * SIMD8<Float>(UnsafeBufferPointer(start: b2 + p, count: 8))
                        s3 += x * SIMD8<Float>(UnsafeBufferPointer(start: b3 + p, count: 8))
                        p += 8
                    }
                    var t0 = s0.sum(), t1 = s1.sum(), t2 = s2.sum(), t3 = s3.sum()
                    while p < kEnd {
                        let x = ai[p]
                        t0 += x * b0[p]; t1 += x * b1[p]; t2 += x * b2[p]; t3 += x * b3[p]
                        p += 1
                    }
                    let ci = c + i * n + j
                    ci[0] += t0; ci[1] += t1; ci[2] += t2; ci[3] += t3
                }
                j += 4
            }
            while j < j1 {
                let bj = b + j * k
                for i in 0..<m {
                    let ai = a + i * k
                    var s = SIMD8<Float>()
                    var p = kk
                    let pEnd = Swift.min(kEnd, k8)
                    while p + 8 <= pEnd {
                        s += SIMD8<Float>(UnsafeBufferPointer(start: ai + p, count: 8)) * SIMD8<Float>(UnsafeBufferPointer(start: bj + p, count: 8))
                        p += 8
                    }
                    var t = s.sum()
                    while p < kEnd { t += ai[p] * bj[p]; p += 1 }
                    c[i * n + j] += t
                }
                j += 1
            }
            kk = kEnd
        }
    }
}

/// Wraps a pointer so a `@Sendable` closure may carry it; the caller guarantees disjoint writes.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
