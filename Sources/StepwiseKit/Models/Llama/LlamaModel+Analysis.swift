/// Per-head weights and the unembedding of a Llama model, for the analysis commands.
extension LlamaModel: HeadWeightsProviding, Unembedding {
    /// The slices of query head `head`; `W_K` and `W_V` are those of the key/value head it reads.
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
                           rotary: true)
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
