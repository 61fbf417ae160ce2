/// A dense, row-major tensor of `Float32` values.
///
/// `Tensor` is a value type: a shape and one contiguous buffer. Every intermediate value of a traced
/// forward pass is a `Tensor`, so the views, exports and tests all read the same simple layout.
public struct Tensor: Sendable, Equatable {
    /// The extent of each axis, outermost first.
    public var shape: [Int]
    /// The values, row-major (C order). `data.count == shape.reduce(1, *)`.
    public var data: [Float]

    /// Creates a tensor from a shape and matching row-major values.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        precondition(shape.reduce(1, *) == data.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor filled with one value.
    public static func filled(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of values.
    public var count: Int { data.count }

    /// The extent of axis `i`; negative `i` counts from the end.
    public func dim(_ i: Int) -> Int { shape[i < 0 ? shape.count + i : i] }

    /// Row-major strides of `shape`.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// The value at a full multi-index.
    public subscript(_ index: Int...) -> Float {
        get { data[offset(index)] }
        set { data[offset(index)] = newValue }
    }

    func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor: index \(index) does not fit shape \(shape)")
        var o = 0
        for (i, (x, n)) in zip(index, shape).enumerated() {
            precondition(x >= 0 && x < n, "Tensor: index \(x) out of range 0..<\(n) on axis \(i)")
            o = o * n + x
        }
        return o
    }

    /// The same values under another shape with the same number of elements.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Row `i` of a rank-2 tensor, as a rank-1 tensor.
    public func row(_ i: Int) -> Tensor {
        precondition(rank == 2, "Tensor.row needs rank 2, got shape \(shape)")
        let n = shape[1]
        return Tensor(shape: [n], data: Array(data[(i * n)..<((i + 1) * n)]))
    }

    /// Largest and smallest value and the mean; `nil` for an empty tensor.
    public var stats: (min: Float, max: Float, mean: Float)? {
        guard !data.isEmpty else { return nil }
        var lo = Float.infinity, hi = -Float.infinity
        var sum: Double = 0
        for v in data {
            if v < lo { lo = v }
            if v > hi { hi = v }
            sum += Double(v)
        }
        return (lo, hi, Float(sum / Double(data.count)))
    }

    /// Largest absolute value (0 for an empty tensor).
    public var maxAbs: Float {
        data.reduce(0) { Swift.max($0, abs($1)) }
    }
}
