extension Tensor {
    /// Swaps two axes (a copy).
    public func transposed(_ a: Int, _ b: Int) -> Tensor {
        var perm = Array(0..<rank)
        perm.swapAt(a, b)
        return permuted(perm)
    }

    /// Reorders the axes: result axis `i` is axis `perm[i]` of `self` (a copy).
    public func permuted(_ perm: [Int]) -> Tensor {
        precondition(perm.sorted() == Array(0..<rank), "Tensor.permuted: \(perm) is not a permutation of \(rank) axes")
        let newShape = perm.map { shape[$0] }
        let oldStrides = strides
        let srcStrides = perm.map { oldStrides[$0] }
        var out = [Float](repeating: 0, count: count)
        if count == 0 { return Tensor(shape: newShape, data: out) }
        var idx = [Int](repeating: 0, count: rank)
        data.withUnsafeBufferPointer { src in
            for o in 0..<out.count {
                var s = 0
                for d in 0..<rank { s += idx[d] * srcStrides[d] }
                out[o] = src[s]
                var d = rank - 1
                while d >= 0 {
                    idx[d] += 1
                    if idx[d] < newShape[d] { break }
                    idx[d] = 0
                    d -= 1
                }
            }
        }
        return Tensor(shape: newShape, data: out)
    }

    /// Selects index ranges on each axis (a copy). Axes not given are kept whole; an axis whose
    /// selection is `.index` is dropped from the result.
    public func sliced(_ selections: [AxisSelection]) -> Tensor {
        precondition(selections.count <= rank, "Tensor.sliced: \(selections.count) selections for rank \(rank)")
        var ranges: [[Int]] = []
        var keep: [Bool] = []
        // Whether every axis keeps all its entries in order (an index only on an axis of one).
        var whole = true
        for d in 0..<rank {
            let sel = d < selections.count ? selections[d] : .all
            switch sel {
            case .all: ranges.append(Array(0..<shape[d])); keep.append(true)
            case .index(let i): ranges.append([i]); keep.append(false); whole = whole && i == 0 && shape[d] == 1
            case .range(let lo, let hi, let step):
                ranges.append(Array(stride(from: lo, to: hi, by: step))); keep.append(true)
                whole = whole && lo == 0 && step == 1 && ranges[d].count == shape[d]
            case .indices(let list): ranges.append(list); keep.append(true); whole = false
            }
        }
        let outShape = zip(ranges, keep).filter { $0.1 }.map { $0.0.count }
        let total = ranges.reduce(1) { $0 * $1.count }
        // All of it (a one-row logits step's row): the same values, shared, not copied.
        guard total > 0, rank > 0, !whole else { return Tensor(shape: outShape, data: total > 0 ? data : []) }
        // The last axis is copied a run at a time when its selection is consecutive indices.
        let last = ranges[rank - 1]
        let run = zip(last, last.dropFirst()).allSatisfy { $1 == $0 + 1 } ? last.count : 1
        let st = strides
        var out = [Float]()
        out.reserveCapacity(total)
        data.withUnsafeBufferPointer { src in
            var idx = [Int](repeating: 0, count: rank)
            for _ in 0..<(total / run) {
                var s = 0
                for d in 0..<rank { s += ranges[d][idx[d]] * st[d] }
                if run == 1 { out.append(src[s]) } else { out.append(contentsOf: src[s..<(s + run)]) }
                var d = run == 1 ? rank - 1 : rank - 2
                while d >= 0 {
                    idx[d] += 1
                    if idx[d] < ranges[d].count { break }
                    idx[d] = 0
                    d -= 1
                }
            }
        }
        return Tensor(shape: outShape, data: out)
    }

    /// The rows of a rank-2 tensor at `indices`, in that order: an embedding lookup.
    /// - Returns: `[indices.count, dim(1)]`.
    public func gatherRows(_ indices: [Int]) -> Tensor {
        precondition(rank == 2, "Tensor.gatherRows needs rank 2, got shape \(shape)")
        let d = shape[1]
        var out = [Float]()
        out.reserveCapacity(indices.count * d)
        for i in indices { out += data[(i * d)..<((i + 1) * d)] }
        return Tensor(shape: [indices.count, d], data: out)
    }

    /// The last axis cut into consecutive blocks of these widths (the products of a stack of matrices,
    /// one per matrix): `[..., widths[i]]` each.
    /// - Precondition: the widths add up to the last axis.
    public func splitLastAxis(_ widths: [Int]) -> [Tensor] {
        let n = dim(-1), m = count / Swift.max(n, 1)
        precondition(widths.reduce(0, +) == n, "Tensor.splitLastAxis: widths \(widths) for \(n) values")
        var offset = 0
        return widths.map { width in
            var out: [Float] = []
            out.reserveCapacity(m * width)
            for i in 0..<m { out += data[(i * n + offset)..<(i * n + offset + width)] }
            offset += width
            return Tensor(shape: Array(shape.dropLast()) + [width], data: out)
        }
    }

    /// Rows `lo..<hi` of axis 0 (a copy).
    public func rows(_ lo: Int, _ hi: Int) -> Tensor {
        let inner = rank > 1 ? shape[1...].reduce(1, *) : 1
        var s = shape
        s[0] = hi - lo
        return Tensor(shape: s, data: Array(data[(lo * inner)..<(hi * inner)]))
    }

    /// Concatenates tensors along axis 0.
    public static func concatenateRows(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty, "Tensor.concatenateRows: nothing to concatenate")
        if parts.count == 1 { return parts[0] }
        let tail = Array(parts[0].shape.dropFirst())
        var data: [Float] = []
        var n = 0
        for p in parts {
            precondition(Array(p.shape.dropFirst()) == tail, "Tensor.concatenateRows: shapes differ")
            data += p.data
            n += p.shape[0]
        }
        return Tensor(shape: [n] + tail, data: data)
    }
}

/// How one axis is selected when slicing a tensor.
public enum AxisSelection: Sendable, Equatable {
    /// The whole axis.
    case all
    /// One index; the axis is dropped.
    case index(Int)
    /// `lo..<hi` stepping by `step`.
    case range(Int, Int, Int)
    /// An explicit list of indices.
    case indices([Int])
}
