/// One attention head's slices of the attention weights, in TransformerLens's orientation
/// (`x · W_Q` with `x` a row vector of the residual stream).
///
/// Under grouped-query attention several query heads share one key/value head: `W_K` and `W_V` are
/// then the slices of key/value head ``kvHead``.
public struct HeadWeights: Sendable {
    public var layer: Int
    public var head: Int
    /// The key/value head this query head reads (equals ``head`` without grouped-query attention).
    public var kvHead: Int
    /// `[d_model, d_head]`.
    public var wQ: Tensor
    /// `[d_model, d_head]`.
    public var wK: Tensor
    /// `[d_model, d_head]`.
    public var wV: Tensor
    /// `[d_head, d_model]`.
    public var wO: Tensor
    /// `[d_head]` each, nil when the model has no biases.
    public var bQ: Tensor?
    public var bK: Tensor?
    public var bV: Tensor?
    /// The output bias `[d_model]`, shared by all heads of the layer (nil when absent).
    public var bO: Tensor?
    /// True when queries and keys are rotated by RoPE, so q·k also depends on the distance between positions.
    public var rotary: Bool

    public init(layer: Int, head: Int, kvHead: Int, wQ: Tensor, wK: Tensor, wV: Tensor, wO: Tensor,
                bQ: Tensor? = nil, bK: Tensor? = nil, bV: Tensor? = nil, bO: Tensor? = nil, rotary: Bool = false) {
        precondition(wQ.rank == 2 && wK.shape == wQ.shape && wV.shape == wQ.shape,
                     "HeadWeights: W_Q \(wQ.shape), W_K \(wK.shape), W_V \(wV.shape) must all be [d_model, d_head]")
        precondition(wO.shape == [wQ.shape[1], wQ.shape[0]], "HeadWeights: W_O \(wO.shape) must be [d_head, d_model]")
        self.layer = layer
        self.head = head
        self.kvHead = kvHead
        self.wQ = wQ
        self.wK = wK
        self.wV = wV
        self.wO = wO
        self.bQ = bQ
        self.bK = bK
        self.bV = bV
        self.bO = bO
        self.rotary = rotary
    }

    public var dModel: Int { wQ.shape[0] }
    public var dHead: Int { wQ.shape[1] }

    /// Slices head `h` of a PyTorch-layout projection `[heads·d_head, d_model]` into `[d_model, d_head]`.
    static func inputSlice(_ weight: Tensor, head h: Int, dHead: Int) -> Tensor {
        weight.rows(h * dHead, (h + 1) * dHead).transposed(0, 1)
    }

    /// Slices head `h` of a PyTorch-layout output projection `[d_model, heads·d_head]` into `[d_head, d_model]`.
    static func outputSlice(_ weight: Tensor, head h: Int, dHead: Int) -> Tensor {
        weight.sliced([.all, .range(h * dHead, (h + 1) * dHead, 1)]).transposed(0, 1)
    }

    /// Slices head `h` of a bias `[heads·d_head]`.
    static func biasSlice(_ bias: Tensor, head h: Int, dHead: Int) -> Tensor {
        Tensor(shape: [dHead], data: Array(bias.data[(h * dHead)..<((h + 1) * dHead)]))
    }
}

/// A model whose attention weights can be read per head (for `weights` and the circuit summaries).
public protocol HeadWeightsProviding: LanguageModel {
    /// The slices of head `head` in layer `layer`.
    /// - Precondition: `layer` and `head` are in range.
    func headWeights(layer: Int, head: Int) -> HeadWeights
    /// Rows `ids` of the token embedding `W_E`: `[ids.count, d_model]`.
    func tokenEmbeddings(_ ids: [Int]) -> Tensor
}
