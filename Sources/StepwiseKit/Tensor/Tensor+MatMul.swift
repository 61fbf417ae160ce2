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

/// Single-precision matrix kernels: packed, register-tiled SIMD8 micro-kernels, cache-blocked over `k`,
/// split over the cores.
///
/// `C = A·Bᵀ` (both row-major, `B` a PyTorch `[out, in]` weight). For several rows of `A`, each chunk of
/// `B`'s rows is packed `k`-major into panels of 16 columns (one panel is at most 20 KiB and stays in L1 while
/// every row tile reads it), and a 4x16 micro-kernel keeps 8 SIMD8 accumulators in registers: per `k` step it
/// loads 2 vectors of the panel, broadcasts 4 values of `A` and issues 8 fused multiply-adds. For one row
/// (matrix-vector products, generation) there is nothing to reuse: a dot-product kernel streams `B` once.
/// Release builds target AVX2 + FMA (see Package.swift), where `addProduct` is one `vfmadd` per 8 lanes.
public enum MatMul {
    /// Work (multiply-adds) below this runs on the calling thread.
    static let parallelThreshold = 1 << 17
    /// Largest depth of a `k`-block of the packed kernel (a 16-column panel of 320 is 20 KiB).
    static let kBlock = 320
    /// Columns of a packed panel (two SIMD8 vectors).
    static let panelWidth = 16

    /// `C[m, n] = A[m, k] · B[n, k]ᵀ`, all row-major.
    public static func abT(a: [Float], b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        precondition(a.count >= m * k && b.count >= n * k, "MatMul.abT: \(a.count) and \(b.count) values for m \(m), n \(n), k \(k)")
        if m == 0 || n == 0 { return [Float](repeating: 0, count: m * n) }
        return [Float](unsafeUninitializedCapacity: m * n) { cp, initialized in
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    abT(a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!, m: m, n: n, k: k)
                }
            }
            initialized = m * n
        }
    }

    /// Pointer form of ``abT(a:b:m:n:k:)``; `c` must hold `m * n` values (overwritten).
    public static func abT(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                           m: Int, n: Int, k: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 { c.initialize(repeating: 0, count: m * n); return }
        // Chunks: column ranges of B in whole panels, then row ranges of A when there are too few
        // columns; each chunk packs its own columns once per k-block and sweeps its rows.
        let unit = m < 4 ? 4 : panelWidth
        let (columnChunks, rowChunks, perM) = split(m: m, n: n, k: k, columnUnits: n / unit)
        let perN = ((n + columnChunks - 1) / columnChunks + unit - 1) / unit * unit
        let ua = UnsafeSendable(a), ub = UnsafeSendable(b), uc = UnsafeSendable(c)
        let body: @Sendable (Int) -> Void = { chunk in
            let j0 = (chunk % columnChunks) * perN, i0 = (chunk / columnChunks) * perM
            let j1 = Swift.min(n, j0 + perN), i1 = Swift.min(m, i0 + perM)
            if j0 >= j1 || i0 >= i1 { return }
            if m < 4 {
                for i in i0..<i1 {
                    rowTimesColumns(a: ua.value + i * k, b: ub.value, c: uc.value + i * n, k: k, columns: j0..<j1)
                }
            } else {
                packedBlock(a: ua.value, b: ub.value, c: uc.value, n: n, k: k, rows: i0..<i1, columns: j0..<j1)
            }
        }
        let chunks = columnChunks * rowChunks
        Parallel.forEach(chunks, body)
    }

    /// How a product is cut into chunks for the cores: about one chunk per `parallelThreshold`
    /// multiply-adds (at most 24), first as ranges of `columnUnits` whole column groups, then, when
    /// there are too few of those, also as row ranges of at least 16 rows; `rowsPerChunk` is a
    /// multiple of the 4-row tile.
    static func split(m: Int, n: Int, k: Int, columnUnits: Int) -> (columns: Int, rows: Int, rowsPerChunk: Int) {
        let work = m * n * k
        let wanted = work < parallelThreshold ? 1 : Swift.min(24, Swift.max(2, work / parallelThreshold))
        let columns = Swift.max(1, Swift.min(wanted, columnUnits))
        let rows = Swift.max(1, Swift.min(wanted / columns, m / 16))
        return (columns, rows, ((m + rows - 1) / rows + 3) / 4 * 4)
    }

    /// `C[m, n] = A[m, k] · Bᵀ` with `B` already in panels (see ``PackedMatrix``); `c` is overwritten.
    static func abT(a: UnsafePointer<Float>, panels: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                    m: Int, n: Int, k: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 { c.initialize(repeating: 0, count: m * n); return }
        let w = panelWidth
        let panelCount = (n + w - 1) / w
        let (columnChunks, rowChunks, perM) = split(m: m, n: n, k: k, columnUnits: panelCount)
        let perPanels = (panelCount + columnChunks - 1) / columnChunks
        let ua = UnsafeSendable(a), up = UnsafeSendable(panels), uc = UnsafeSendable(c)
        let body: @Sendable (Int) -> Void = { chunk in
            let q0 = (chunk % columnChunks) * perPanels, i0 = (chunk / columnChunks) * perM
            let q1 = Swift.min(panelCount, q0 + perPanels), i1 = Swift.min(m, i0 + perM)
            if q0 >= q1 || i0 >= i1 { return }
            let kBlocks = (k + kBlock - 1) / kBlock
            let kb = Swift.min(k, ((k + kBlocks - 1) / kBlocks + 7) / 8 * 8)
            for q in q0..<q1 {
                let j = q * w
                let cols = Swift.min(w, n - j)
                var kk = 0
                while kk < k {
                    let len = Swift.min(kb, k - kk)
                    tiles(a: ua.value, lda: k, panel: up.value + q * w * k + kk * w, len: len, kk: kk,
                          c: uc.value + j, ldc: n, rows: i0..<i1, cols: cols, first: kk == 0)
                    kk += len
                }
            }
        }
        let chunks = columnChunks * rowChunks
        Parallel.forEach(chunks, body)
    }

    /// Every 4-row tile of `rows` against one panel of `len` `k`-steps starting at `kk`, into the
    /// `cols` (at most 16) columns of `c`; `first` stores, otherwise adds.
    @inline(__always)
    static func tiles(a: UnsafePointer<Float>, lda k: Int, panel: UnsafePointer<Float>, len: Int, kk: Int,
                      c: UnsafeMutablePointer<Float>, ldc n: Int, rows: Range<Int>, cols: Int, first: Bool) {
        let w = panelWidth
        var tile = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
        var i = rows.lowerBound
        while i < rows.upperBound {
            let r = Swift.min(4, rows.upperBound - i)
            // Missing rows (r < 4) read row i again; only r rows are stored.
            let a0 = a + i * k + kk
            let a1 = r > 1 ? a0 + k : a0, a2 = r > 2 ? a0 + 2 * k : a0, a3 = r > 3 ? a0 + 3 * k : a0
            micro4x16(a0, a1, a2, a3, panel, len, &tile)
            let out = c + i * n
            if cols == w {
                accumulate(out, tile.0, first)
                if r > 1 { accumulate(out + n, tile.1, first) }
                if r > 2 { accumulate(out + 2 * n, tile.2, first) }
                if r > 3 { accumulate(out + 3 * n, tile.3, first) }
            } else {
                for rr in 0..<r {
                    let v = rr == 0 ? tile.0 : rr == 1 ? tile.1 : rr == 2 ? tile.2 : tile.3
                    for cc in 0..<cols {
                        let p = out + rr * n + cc
                        p.pointee = first ? v[cc] : p.pointee + v[cc]
                    }
                }
            }
            i += 4
        }
    }

    /// `c[columns] = a[k] · B[columns, k]ᵀ` for one row of A (no packing: each row of B is read once).
    static func rowTimesColumns(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                                k: Int, columns: Range<Int>) {
        var j = columns.lowerBound
        while j + 4 <= columns.upperBound {
            tile1x4(a, b + j * k, k, c + j, k, true)
            j += 4
        }
        while j < columns.upperBound {
            c[j] = dot(a, b + j * k, k)
            j += 1
        }
    }

    /// `C[rows, columns]` with `B[columns]` packed into panels, one `k`-block at a time.
    static func packedBlock(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                            n: Int, k: Int, rows: Range<Int>, columns: Range<Int>) {
        let w = panelWidth
        let width = columns.count
        let panels = (width + w - 1) / w
        // Balanced k-blocks of at most kBlock values (multiples of 8 except the last).
        let kBlocks = (k + kBlock - 1) / kBlock
        let kb = Swift.min(k, ((k + kBlocks - 1) / kBlocks + 7) / 8 * 8)
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: w * kb)
        defer { packed.deallocate() }
        // Panel outer, k-block inner: B's rows of a panel stream in order and the panel's C tile
        // (rows x 16) stays in cache between k-blocks.
        for q in 0..<panels {
            let j = columns.lowerBound + q * w
            let cols = Swift.min(w, columns.upperBound - j)
            var kk = 0
            while kk < k {
                let len = Swift.min(kb, k - kk)
                let first = kk == 0
                // Pack columns j ..< j + 16 of this k-block, k-major, zero past the last column; the
                // panel (20 KiB at most) stays in L1 while every row tile reads it.
                for cIdx in 0..<w {
                    if cIdx < cols {
                        let src = b + (j + cIdx) * k + kk
                        for p in 0..<len { packed[p * w + cIdx] = src[p] }
                    } else {
                        for p in 0..<len { packed[p * w + cIdx] = 0 }
                    }
                }
                tiles(a: a, lda: k, panel: packed, len: len, kk: kk, c: c + j, ldc: n, rows: rows, cols: cols, first: first)
                kk += len
            }
        }
    }

    @inline(__always)
    static func accumulate(_ p: UnsafeMutablePointer<Float>, _ v: SIMD16<Float>, _ first: Bool) {
        let raw = UnsafeMutableRawPointer(p)
        if first {
            raw.storeBytes(of: v, as: SIMD16<Float>.self)
        } else {
            raw.storeBytes(of: raw.loadUnaligned(as: SIMD16<Float>.self) + v, as: SIMD16<Float>.self)
        }
    }

    /// 4 rows of A against one packed panel `[len][16]`: the 4x16 tile of `Σ_p a[r][p] · panel[p][c]`.
    @inline(__always)
    static func micro4x16(_ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>, _ a2: UnsafePointer<Float>,
                          _ a3: UnsafePointer<Float>, _ panel: UnsafePointer<Float>, _ len: Int,
                          _ tile: inout (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var bp = panel
        for p in 0..<len {
            let y0 = load(bp), y1 = load(bp + 8)
            var x = SIMD8<Float>(repeating: a0[p])
            c00.addProduct(x, y0); c01.addProduct(x, y1)
            x = SIMD8<Float>(repeating: a1[p])
            c10.addProduct(x, y0); c11.addProduct(x, y1)
            x = SIMD8<Float>(repeating: a2[p])
            c20.addProduct(x, y0); c21.addProduct(x, y1)
            x = SIMD8<Float>(repeating: a3[p])
            c30.addProduct(x, y0); c31.addProduct(x, y1)
            bp += 16
        }
        tile = (SIMD16(lowHalf: c00, highHalf: c01), SIMD16(lowHalf: c10, highHalf: c11),
                SIMD16(lowHalf: c20, highHalf: c21), SIMD16(lowHalf: c30, highHalf: c31))
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ p: UnsafeMutablePointer<Float>, _ v: Float, _ first: Bool) {
        p.pointee = first ? v : p.pointee + v
    }

    /// One row of A against 4 rows of B (stride `ldb`), two `k`-steps per iteration: 8 independent
    /// accumulators hide the FMA latency in the memory-bound matrix-vector case.
    @inline(__always)
    static func tile1x4(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int,
                        _ c: UnsafeMutablePointer<Float>, _ len: Int, _ first: Bool) {
        let b0 = b, b1 = b + ldb, b2 = b1 + ldb, b3 = b2 + ldb
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>(), c3 = SIMD8<Float>()
        var d0 = SIMD8<Float>(), d1 = SIMD8<Float>(), d2 = SIMD8<Float>(), d3 = SIMD8<Float>()
        let len16 = len & ~15, len8 = len & ~7
        var p = 0
        while p < len16 {
            let x = load(a + p), y = load(a + p + 8)
            c0.addProduct(x, load(b0 + p)); c1.addProduct(x, load(b1 + p))
            c2.addProduct(x, load(b2 + p)); c3.addProduct(x, load(b3 + p))
            d0.addProduct(y, load(b0 + p + 8)); d1.addProduct(y, load(b1 + p + 8))
            d2.addProduct(y, load(b2 + p + 8)); d3.addProduct(y, load(b3 + p + 8))
            p += 16
        }
        if p < len8 {
            let x = load(a + p)
            c0.addProduct(x, load(b0 + p)); c1.addProduct(x, load(b1 + p))
            c2.addProduct(x, load(b2 + p)); c3.addProduct(x, load(b3 + p))
            p += 8
        }
        var s0 = (c0 + d0).sum(), s1 = (c1 + d1).sum(), s2 = (c2 + d2).sum(), s3 = (c3 + d3).sum()
        while p < len {
            let x = a[p]
            s0 += x * b0[p]; s1 += x * b1[p]; s2 += x * b2[p]; s3 += x * b3[p]
            p += 1
        }
        store(c, s0, first); store(c + 1, s1, first); store(c + 2, s2, first); store(c + 3, s3, first)
    }

    /// `Σ a[i]·b[i]` over `len` values.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ len: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var p = 0
        while p + 16 <= len {
            s0.addProduct(load(a + p), load(b + p))
            s1.addProduct(load(a + p + 8), load(b + p + 8))
            p += 16
        }
        if p + 8 <= len { s0.addProduct(load(a + p), load(b + p)); p += 8 }
        var t = (s0 + s1).sum()
        while p < len { t += a[p] * b[p]; p += 1 }
        return t
    }
}

/// Wraps a pointer so a `@Sendable` closure may carry it; the caller guarantees disjoint writes.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
