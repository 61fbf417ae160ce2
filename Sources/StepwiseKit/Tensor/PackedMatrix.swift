import CKernels

/// A float32 weight matrix `[rows, columns]` (PyTorch `[out, in]`) stored once in the panel layout of
/// ``MatMul``'s micro-kernel: rows in groups of 16, each group `k`-major (`panel[p][c] = W[16q + c, p]`),
/// the last group padded with zero rows.
///
/// `MatMul.abT` packs `B` a k-block at a time on every call, which costs a fifth of the arithmetic when `x`
/// has only a few dozen rows; a model's weights never change, so they are packed at load and every
/// product reads the panels directly. Same values as `x.linear(weight)` up to the order of the summation.
public struct PackedMatrix: Sendable {
    /// Output features.
    public let rows: Int
    /// Input features.
    public let columns: Int
    /// `ceil(rows / 16)` panels of `16 * columns` values.
    let panels: [Float]

    /// Packs a `[rows, columns]` tensor.
    public init(_ weight: Tensor) {
        precondition(weight.rank == 2, "PackedMatrix: needs a rank-2 weight, got \(weight.shape)")
        let n = weight.shape[0], k = weight.shape[1], w = MatMul.panelWidth
        let count = (n + w - 1) / w
        rows = n
        columns = k
        panels = [Float](unsafeUninitializedCapacity: count * w * k) { buf, initialized in
            if count * w * k > 0 {
                weight.data.withUnsafeBufferPointer { src in
                    stepwise_sgemm_pack_b(KernelISA.selected.code, src.baseAddress!, k, n, k, buf.baseAddress!)
                }
            }
            initialized = count * w * k
        }
    }

    /// The matrix in its ordinary layout, `[rows, columns]`.
    public func unpacked() -> Tensor {
        let w = MatMul.panelWidth
        var data = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            let base = (r / w) * w * columns + r % w
            for p in 0..<columns { data[r * columns + p] = panels[base + p * w] }
        }
        return Tensor(shape: [rows, columns], data: data)
    }

    /// `x · Wᵀ` for `x` `[..., columns]`: `[..., rows]`.
    ///
    /// - Parameter isa: the kernel variant (default: the one this process selected; tests name each).
    public func linear(_ x: Tensor, isa: KernelISA = .selected) -> Tensor {
        precondition(x.dim(-1) == columns, "PackedMatrix.linear: input \(x.shape) does not fit \(rows)x\(columns)")
        let m = x.shape.dropLast().reduce(1, *)
        let shape = Array(x.shape.dropLast()) + [rows]
        if m * rows == 0 || columns == 0 { return Tensor(shape: shape, data: [Float](repeating: 0, count: m * rows)) }
        let out = [Float](unsafeUninitializedCapacity: m * rows) { buf, initialized in
            x.data.withUnsafeBufferPointer { xp in
                panels.withUnsafeBufferPointer { pp in
                    MatMul.abT(a: xp.baseAddress!, panels: pp.baseAddress!, c: buf.baseAddress!, m: m, n: rows, k: columns, isa: isa)
                }
            }
            initialized = m * rows
        }
        return Tensor(shape: shape, data: out)
    }
}
