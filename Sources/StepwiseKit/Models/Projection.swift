/// One weight matrix `[out, in]` of a model, or several of one width stacked (q, k and v; gate and up),
/// kept at the file's precision where the file allows it.
///
/// A matrix stored in a format ``StoredMatrix`` reads in place (GGUF blocks, float32/float16/bfloat16
/// safetensors rows) stays in the mapped file: products convert it a few rows at a time as they
/// multiply, and an embedding lookup converts only the rows it reads. Anything else (GGUF Q2_K, Q3_K,
/// F64; a matrix built in memory) is converted once and packed for the float32 kernel (``PackedMatrix``).
/// Either way a product gives the same values as the float32 kernel on the float32 matrix.
struct Projection: Sendable {
    enum Storage: Sendable {
        case stored(StoredMatrix)
        case packed(PackedMatrix)
    }
    let storage: Storage
    /// The row counts of the stacked matrices, in order (one entry for a single matrix).
    let parts: [Int]

    /// Reads `name` as `[out, in]` from `weights`, in place when its format allows.
    /// - Throws: ``StepwiseError`` if the tensor is missing, mis-shaped or not finite.
    init(_ weights: any WeightSource, _ name: String, shape: [Int]) throws {
        if let stored = try weights.storedMatrix(name, shape: shape) {
            storage = .stored(stored)
        } else {
            storage = .packed(PackedMatrix(try weights.tensor(name, shape: shape)))
        }
        parts = [shape[0]]
    }

    /// A matrix built in memory, packed.
    init(_ weight: Tensor) {
        storage = .packed(PackedMatrix(weight))
        parts = [weight.shape[0]]
    }

    private init(storage: Storage, parts: [Int]) {
        self.storage = storage
        self.parts = parts
    }

    /// The rows of several matrices of one width, one after another, so one product serves them all
    /// (see ``StoredMatrix/init(stacking:)``). Stored parts stay stored; otherwise the stack is packed.
    /// - Precondition: the parts have one width.
    init(stacking projections: [Projection]) {
        let stored = projections.compactMap { p -> StoredMatrix? in if case .stored(let s) = p.storage { s } else { nil } }
        if stored.count == projections.count, let stack = StoredMatrix(stacking: stored) {
            self.init(storage: .stored(stack), parts: projections.flatMap(\.parts))
        } else {
            let dense = projections.map { $0.dense() }
            precondition(dense.allSatisfy { $0.shape[1] == dense[0].shape[1] }, "Projection: stacked parts differ in width")
            let all = Tensor(shape: [dense.reduce(0) { $0 + $1.shape[0] }, dense[0].shape[1]], data: dense.flatMap(\.data))
            self.init(storage: .packed(PackedMatrix(all)), parts: projections.flatMap(\.parts))
        }
    }

    /// Output features.
    var rows: Int {
        switch storage {
        case .stored(let s): s.rows
        case .packed(let p): p.rows
        }
    }

    /// Input features.
    var columns: Int {
        switch storage {
        case .stored(let s): s.columns
        case .packed(let p): p.columns
        }
    }

    /// The stored format, nil when packed in float32.
    var storedFormats: [StoredMatrix.Format]? {
        if case .stored(let s) = storage { return s.formats }
        return nil
    }

    /// `x · Wᵀ`, `[..., out]`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        switch storage {
        case .stored(let s): s.linear(x)
        case .packed(let p): p.linear(x)
        }
    }

    /// The product with a stack, one tensor per stacked matrix: `[..., parts[i]]` each.
    func linearParts(_ x: Tensor) -> [Tensor] {
        self(x).splitLastAxis(parts)
    }

    /// Rows `ids` in float32, `[ids.count, in]` (an embedding lookup).
    func gather(_ ids: [Int]) -> Tensor {
        switch storage {
        case .stored(let s): s.gather(ids)
        case .packed(let p): p.unpacked().gatherRows(ids)
        }
    }

    /// The whole matrix in float32 (for the analysis commands; a large vocabulary makes this big).
    func dense() -> Tensor {
        switch storage {
        case .stored(let s): s.dequantized()
        case .packed(let p): p.unpacked()
        }
    }
}

/// `W_O` `[d_model, heads·d_head]` split by head for ``AttentionMath/perHeadResult(z:outputSlices:heads:)``:
/// each head's `[d_model, d_head]` slice packed once (a matrix in memory), or read in place from a stored
/// matrix's columns.
public struct OutputSlices: Sendable {
    enum Storage: Sendable {
        case packed([PackedMatrix])
        case stored(StoredMatrix, dHead: Int)
    }
    let storage: Storage
    /// Rows of every slice: the residual stream's width.
    public let dModel: Int
    public let heads: Int

    /// Packs each head's slice of `wO`.
    public init(_ wO: Tensor, heads: Int) {
        let (dModel, inner) = (wO.shape[0], wO.shape[1])
        let dHead = inner / heads
        storage = .packed((0..<heads).map { h in
            PackedMatrix(wO.sliced([.all, .range(h * dHead, (h + 1) * dHead, 1)]).reshaped([dModel, dHead]))
        })
        self.dModel = dModel
        self.heads = heads
    }

    /// The slices of a model's output projection: in place when it is stored, else packed.
    init(_ projection: Projection, heads: Int) {
        switch projection.storage {
        case .stored(let s): self.init(storage: .stored(s, dHead: s.columns / heads), dModel: s.rows, heads: heads)
        case .packed: self.init(projection.dense(), heads: heads)
        }
    }

    private init(storage: Storage, dModel: Int, heads: Int) {
        self.storage = storage
        self.dModel = dModel
        self.heads = heads
    }

    /// Head `h`'s output for its `z` `[pos, d_head]`: `[pos, d_model]`.
    func result(head h: Int, _ zh: Tensor) -> Tensor {
        switch storage {
        case .packed(let slices): slices[h].linear(zh)
        case .stored(let s, let dHead): s.linear(zh, columns: (h * dHead)..<((h + 1) * dHead))
        }
    }
}
