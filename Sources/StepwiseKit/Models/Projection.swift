/// One weight matrix `[out, in]` of a projection: packed for the matrix kernel, and in the file's block
/// format when the file stores it in one the block kernels multiply (``QuantizedMatrix``), for
/// products of one or two rows (generation), where reading the weights dominates.
struct Projection: Sendable {
    let packed: PackedMatrix
    let blocks: QuantizedMatrix?

    init(packed: PackedMatrix, blocks: QuantizedMatrix?) {
        self.packed = packed
        self.blocks = blocks
    }

    /// Reads `name` as `[out, in]` from `weights`, keeping the file's blocks beside the float32 panels.
    /// - Throws: ``StepwiseError`` if the tensor is missing or mis-shaped.
    init(_ weights: any WeightSource, _ name: String, shape: [Int]) throws {
        packed = PackedMatrix(try weights.tensor(name, shape: shape))
        blocks = Self.blocks(weights, name, shape: shape)
    }

    /// The file's blocks of `name` when there is a kernel for its type and its rows are whole blocks.
    static func blocks(_ weights: any WeightSource, _ name: String, shape: [Int]) -> QuantizedMatrix? {
        let file = (weights as? WeightUsage)?.base ?? weights
        guard let gguf = file as? GGUFFile, let (info, bytes) = try? gguf.rawTensor(name),
              let format = QuantizedMatrix.Format(info.type), info.shape == shape, shape[1] % format.blockValues == 0 else { return nil }
        return QuantizedMatrix(format: format, rows: shape[0], columns: shape[1], bytes: bytes)
    }

    /// `x · Wᵀ`, `[rows, out]`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        project(x, packed, blocks)
    }

    var rows: Int { packed.rows }
}
