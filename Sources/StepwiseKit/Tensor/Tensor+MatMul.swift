import CKernels

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

/// Single-precision matrix products `C = A·Bᵀ` (both row-major, `B` a PyTorch `[out, in]` weight): the
/// C kernels of `CKernels` (register-tiled, cache-blocked, one variant per instruction set, see
/// ``KernelISA``), split over the cores here.
///
/// For several rows of `A`, `A` is packed once into tiles of the kernel's rows (`stepwise_sgemm_tile_rows`:
/// 8 for AVX-512, 6 for AVX2, 3 portable), then each chunk (a range of `B`'s rows in whole 32-row groups,
/// and of `A`'s tiles when there are too few of those) runs the tiles against `B`'s panels: pre-packed
/// ones (``PackedMatrix``) or `B` packed one k-block at a time. For one to three rows (matrix-vector
/// products, generation) there is nothing to reuse: a dot-product kernel streams `B` once.
public enum MatMul {
    /// Work (multiply-adds) below this runs on the calling thread.
    static let parallelThreshold = 1 << 17
    /// Columns of a packed panel (`B`'s rows per panel).
    static let panelWidth = 16
    /// Panels per column unit of a chunk: the AVX-512 kernel's tile is two panels wide.
    static let panelsPerUnit = 2

    /// `C[m, n] = A[m, k] · B[n, k]ᵀ`, all row-major.
    public static func abT(a: [Float], b: [Float], m: Int, n: Int, k: Int, isa: KernelISA = .selected) -> [Float] {
        precondition(a.count >= m * k && b.count >= n * k, "MatMul.abT: \(a.count) and \(b.count) values for m \(m), n \(n), k \(k)")
        if m == 0 || n == 0 { return [Float](repeating: 0, count: m * n) }
        return [Float](unsafeUninitializedCapacity: m * n) { cp, initialized in
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    abT(a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!, m: m, n: n, k: k, isa: isa)
                }
            }
            initialized = m * n
        }
    }

    /// Pointer form of ``abT(a:b:m:n:k:isa:)``; `c` must hold `m * n` values (overwritten).
    public static func abT(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                           m: Int, n: Int, k: Int, isa: KernelISA = .selected) {
        if m == 0 || n == 0 { return }
        if k == 0 { c.initialize(repeating: 0, count: m * n); return }
        let code = isa.code
        let ub = UnsafeSendable(b), uc = UnsafeSendable(c)
        if m < 4 {
            // Column ranges of B in fours; each row of A against them.
            let (columnChunks, _, _) = split(m: m, n: n, k: k, columnUnits: n / 4, tileRows: 1)
            let perN = ((n + columnChunks - 1) / columnChunks + 3) / 4 * 4
            let ua = UnsafeSendable(a)
            Parallel.forEach(columnChunks) { chunk in
                let j0 = chunk * perN, j1 = Swift.min(n, j0 + perN)
                guard j0 < j1 else { return }
                for i in 0..<m {
                    stepwise_sgemv(code, ua.value + i * k, ub.value + j0 * k, k, k, j1 - j0, uc.value + i * n + j0)
                }
            }
            return
        }
        withPackedRows(a, m: m, k: k, isa: isa) { packed, tileRows in
            let unit = panelWidth * panelsPerUnit
            let (columnChunks, rowChunks, perM) = split(m: m, n: n, k: k, columnUnits: (n + unit - 1) / unit, tileRows: tileRows)
            let perN = ((n + columnChunks - 1) / columnChunks + unit - 1) / unit * unit
            let up = UnsafeSendable(packed)
            Parallel.forEach(columnChunks * rowChunks) { chunk in
                let j0 = (chunk % columnChunks) * perN, i0 = (chunk / columnChunks) * perM
                let j1 = Swift.min(n, j0 + perN), i1 = Swift.min(m, i0 + perM)
                guard j0 < j1, i0 < i1 else { return }
                stepwise_sgemm(code, up.value + i0 * k, ub.value + j0 * k, k, k, i1 - i0, j1 - j0, uc.value + i0 * n + j0, n)
            }
        }
    }

    /// `C[m, n] = A[m, k] · Bᵀ` with `B` already in panels (see ``PackedMatrix``); `c` is overwritten.
    static func abT(a: UnsafePointer<Float>, panels: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                    m: Int, n: Int, k: Int, isa: KernelISA = .selected) {
        if m == 0 || n == 0 { return }
        if k == 0 { c.initialize(repeating: 0, count: m * n); return }
        let code = isa.code
        let panelCount = (n + panelWidth - 1) / panelWidth
        let uc = UnsafeSendable(c), uw = UnsafeSendable(panels)
        withPackedRows(a, m: m, k: k, isa: isa) { packed, tileRows in
            let units = (panelCount + panelsPerUnit - 1) / panelsPerUnit
            let (columnChunks, rowChunks, perM) = split(m: m, n: n, k: k, columnUnits: units, tileRows: tileRows)
            let perPanels = (units + columnChunks - 1) / columnChunks * panelsPerUnit
            let up = UnsafeSendable(packed)
            Parallel.forEach(columnChunks * rowChunks) { chunk in
                let q0 = (chunk % columnChunks) * perPanels, i0 = (chunk / columnChunks) * perM
                let q1 = Swift.min(panelCount, q0 + perPanels), i1 = Swift.min(m, i0 + perM)
                guard q0 < q1, i0 < i1 else { return }
                let j0 = q0 * panelWidth, j1 = Swift.min(n, q1 * panelWidth)
                stepwise_sgemm_panels(code, up.value + i0 * k, uw.value + q0 * panelWidth * k, k, i1 - i0, q1 - q0, j1 - j0,
                                      uc.value + i0 * n + j0, n)
            }
        }
    }

    /// Runs `body` with A's `m` rows packed into the kernel's row tiles (`tileRows` rows each, zero-padded),
    /// packed on all cores when large. Chunks start on tile boundaries, so tile `i0 / tileRows` of a chunk
    /// starting at row `i0` is at `packed + i0 * k`.
    static func withPackedRows(_ a: UnsafePointer<Float>, m: Int, k: Int, isa: KernelISA,
                               _ body: (UnsafePointer<Float>, Int) -> Void) {
        let tileRows = isa.tileRows
        let tiles = (m + tileRows - 1) / tileRows
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: tiles * tileRows * k)
        defer { packed.deallocate() }
        let parts = m * k < 1 << 16 ? 1 : Swift.min(tiles, 8)
        let perPart = (tiles + parts - 1) / parts * tileRows
        let ua = UnsafeSendable(a), up = UnsafeSendable(packed), code = isa.code
        Parallel.forEach(parts) { part in
            let i0 = part * perPart, i1 = Swift.min(m, i0 + perPart)
            if i0 < i1 { stepwise_sgemm_pack_a(code, ua.value + i0 * k, k, i1 - i0, k, up.value + i0 * k) }
        }
        body(packed, tileRows)
    }

    /// How a product is cut into chunks for the cores: about one chunk per `parallelThreshold`
    /// multiply-adds (at most 4 per thread, 24 in all; none with one thread), first as ranges of `columnUnits` whole column groups, then, when
    /// there are too few of those, also as row ranges of at least 16 rows; `rowsPerChunk` is a
    /// multiple of the kernel's `tileRows`.
    static func split(m: Int, n: Int, k: Int, columnUnits: Int, tileRows: Int) -> (columns: Int, rows: Int, rowsPerChunk: Int) {
        let work = m * n * k
        let wanted = work < parallelThreshold || Parallel.threads == 1
            ? 1 : Swift.min(4 * Parallel.threads, 24, Swift.max(2, work / parallelThreshold))
        let columns = Swift.max(1, Swift.min(wanted, columnUnits))
        let rows = Swift.max(1, Swift.min(wanted / columns, m / 16))
        return (columns, rows, ((m + rows - 1) / rows + tileRows - 1) / tileRows * tileRows)
    }
}

/// Wraps a pointer so a `@Sendable` closure may carry it; the caller guarantees disjoint writes.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
