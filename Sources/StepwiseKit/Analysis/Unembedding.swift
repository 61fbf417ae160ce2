/// A decoder that can turn any residual-stream vector into next-token logits (for the logit lens).
public protocol Unembedding: LanguageModel {
    /// Applies the final norm and the unembedding to residual vectors.
    /// - Parameter residual: `[pos, d_model]`.
    /// - Returns: logits `[pos, vocab]`, computed exactly as the model's last step computes `logits`.
    func unembed(residual: Tensor) -> Tensor
    /// Rows `ids` of the unembedding `W_U` in PyTorch layout `[vocab, d_model]` (logits = normed · W_Uᵀ):
    /// `[ids.count, d_model]`.
    func unembeddingRows(_ ids: [Int]) -> Tensor
}
