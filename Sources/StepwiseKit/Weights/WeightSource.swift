/// Where a model reads its parameters from, by name, whatever the file format.
///
/// ``SafetensorsFile`` and the GGUF reader implement it; a model family asks for
/// `transformer.h.0.attn.c_attn.weight` or `blk.0.attn_q.weight` and gets float32 values.
public protocol WeightSource: Sendable {
    /// The file (or folder) the weights come from, for messages and `info`.
    var path: String { get }
    /// Every tensor name in the file, in file order.
    var tensorNames: [String] { get }
    /// Shape and stored type of a tensor, nil if absent. Shapes are PyTorch order (outermost first).
    func tensorInfo(_ name: String) -> WeightInfo?
    /// The tensor converted to float32.
    /// - Throws: ``StepwiseError`` if it is absent or cannot be converted.
    func tensor(_ name: String) throws -> Tensor
    /// A rank-2 tensor's bytes where the file keeps them, in a format ``StoredMatrix`` reads in place,
    /// and the object that keeps them valid; nil when the file stores it otherwise (the default).
    func storedBytes(_ name: String) -> (format: StoredMatrix.Format, bytes: UnsafeRawBufferPointer, owner: AnyObject)?
}

/// What a weight file says about one tensor.
public struct WeightInfo: Sendable, Equatable {
    /// PyTorch order: outermost axis first.
    public var shape: [Int]
    /// The stored type as the file names it (`F32`, `BF16`, `Q4_1`, ...).
    public var dtype: String
    /// Bytes the tensor occupies in the file.
    public var byteCount: Int

    public init(shape: [Int], dtype: String, byteCount: Int) {
        self.shape = shape
        self.dtype = dtype
        self.byteCount = byteCount
    }
}

extension WeightSource {
    /// The tensor, checked to have `shape` and only finite values. Every model reads its weights
    /// through this, so a checkpoint with a NaN or infinity is refused at load, naming the first such
    /// tensor, instead of filling every later step with NaN.
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        try checkPresent(name, shape: shape)
        let t = try tensor(name)
        if let i = t.data.firstIndex(where: { !$0.isFinite }) { throw nonFinite(name, index: i, value: t.data[i]) }
        return t
    }

    /// Checks, before a byte is read, that the load was not cancelled and the file holds `name` with `shape`.
    private func checkPresent(_ name: String, shape: [Int]) throws {
        try ModelLoader.checkCancelled()
        guard let info = tensorInfo(name) else {
            throw StepwiseError.file(path, "has no tensor '\(name)'")
        }
        guard info.shape == shape else {
            throw StepwiseError.file(path, "tensor '\(name)' has shape \(info.shape), the config implies \(shape)")
        }
    }

    /// The error for a tensor holding a NaN or infinity at a flat index.
    private func nonFinite(_ name: String, index: Int, value: Float) -> StepwiseError {
        .file(path, "tensor '\(name)' has a non-finite value (\(value.isNaN ? "nan" : "\(value)")) at flat index \(index); refusing to load a corrupt checkpoint")
    }

    public func storedBytes(_ name: String) -> (format: StoredMatrix.Format, bytes: UnsafeRawBufferPointer, owner: AnyObject)? { nil }

    /// A `[rows, columns]` matrix read in place where the file keeps it (float32, float16 or bfloat16
    /// rows, or GGUF blocks), checked as ``tensor(_:shape:)`` checks: present, that shape, only finite
    /// values. Nil when the file stores it in another format (the caller reads it with
    /// ``tensor(_:shape:)`` instead), or float32 rows that are not 4-byte aligned.
    /// - Throws: ``StepwiseError`` if it is absent, mis-shaped or holds a non-finite value.
    public func storedMatrix(_ name: String, shape: [Int]) throws -> StoredMatrix? {
        try checkPresent(name, shape: shape)
        guard shape.count == 2, let (format, bytes, owner) = storedBytes(name), shape[1] % format.blockValues == 0,
              bytes.count == shape[0] * StoredMatrix.rowBytes(format, shape[1]),
              format != .f32 || Int(bitPattern: bytes.baseAddress) % 4 == 0 else { return nil }
        let matrix = StoredMatrix(format: format, rows: shape[0], columns: shape[1], bytes: bytes, owner: owner)
        if let (i, v) = matrix.firstNonFinite() { throw nonFinite(name, index: i, value: v) }
        return matrix
    }

    /// True if the file holds a tensor of that name.
    public func contains(_ name: String) -> Bool { tensorInfo(name) != nil }
}
