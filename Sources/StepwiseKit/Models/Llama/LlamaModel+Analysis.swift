/// Per-head weights and the unembedding of a Llama model, for the analysis commands.
extension LlamaModel: HeadWeightsProviding, Unembedding {
    /// The slices of query head `head` (and of its biases, when the variant has them); `W_K` and `W_V` are
    /// those of the key/value head it reads. Qwen3's q/k norms sit between the projections and the scores,
    /// so its circuits read the weights without them.
    /// Rows are in the checkpoint's layout order (GGUF permutes q and k rows the same way, so q·k is unchanged).
    public func headWeights(layer: Int, head: Int) -> HeadWeights {
        let H = config.numAttentionHeads, KV = config.numKeyValueHeads, dh = config.headDim
        precondition(blocks.indices.contains(layer) && (0..<H).contains(head),
                     "LlamaModel.headWeights: head \(layer).\(head) out of range")
        let a = blocks[layer].attention
        let kvh = head / (H / KV)
        return HeadWeights(layer: layer, head: head, kvHead: kvh,
                           wQ: HeadWeights.inputSlice(a.query.unpacked(), head: head, dHead: dh),
                           wK: HeadWeights.inputSlice(a.key.unpacked(), head: kvh, dHead: dh),
                           wV: HeadWeights.inputSlice(a.value.unpacked(), head: kvh, dHead: dh),
                           wO: HeadWeights.outputSlice(a.output, head: head, dHead: dh),
                           bQ: a.queryBias.map { HeadWeights.biasSlice($0, head: head, dHead: dh) },
                           bK: a.keyBias.map { HeadWeights.biasSlice($0, head: kvh, dHead: dh) },
                           bV: a.valueBias.map { HeadWeights.biasSlice($0, head: kvh, dHead: dh) },
                           bO: a.outputBias, rotary: true)
    }

    public var tokenEmbedding: Tensor { embedding }

    public func unembed(residual: Tensor) -> Tensor {
        // As the end of `forward`: RMSNorm without weight, then the weight, then the LM head.
        finalNorm(residual).linear(lmHead)
    }

    public var unembeddingMatrix: Tensor { lmHead }
}

/// What direct logit attribution needs: the final RMSNorm (no centring, no bias) and o_proj's bias, which
/// only a Llama config with `attention_bias` (or a Qwen3 one) has.
extension LlamaModel: LogitAttributing {
    public var finalNormParameters: (weight: Tensor, bias: Tensor?, centers: Bool) { (finalNorm.weight, nil, false) }

    public func attentionOutputBias(layer: Int) -> Tensor? { blocks[layer].attention.outputBias }
}
