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
        // W_Q, W_K, W_V: the stack's three parts.
        let stack = a.qkv.dense(), D = config.hiddenSize
        var qkv: [Tensor] = [], row = 0
        for n in a.qkv.parts {
            qkv.append(Tensor(shape: [n, D], data: Array(stack.data[(row * D)..<((row + n) * D)])))
            row += n
        }
        return HeadWeights(layer: layer, head: head, kvHead: kvh,
                           wQ: HeadWeights.inputSlice(qkv[0], head: head, dHead: dh),
                           wK: HeadWeights.inputSlice(qkv[1], head: kvh, dHead: dh),
                           wV: HeadWeights.inputSlice(qkv[2], head: kvh, dHead: dh),
                           wO: HeadWeights.outputSlice(a.output.dense(), head: head, dHead: dh),
                           bQ: a.queryBias.map { HeadWeights.biasSlice($0, head: head, dHead: dh) },
                           bK: a.keyBias.map { HeadWeights.biasSlice($0, head: kvh, dHead: dh) },
                           bV: a.valueBias.map { HeadWeights.biasSlice($0, head: kvh, dHead: dh) },
                           bO: a.outputBias, rotary: true)
    }

    public func tokenEmbeddings(_ ids: [Int]) -> Tensor { embedding.gather(ids) }

    public func unembed(residual: Tensor) -> Tensor {
        // As the end of `forward`: RMSNorm without weight, then the weight, then the LM head.
        lmHead(finalNorm(residual))
    }

    public func unembeddingRows(_ ids: [Int]) -> Tensor { lmHead.gather(ids) }
}

/// What direct logit attribution needs: the final RMSNorm (no centring, no bias) and o_proj's bias, which
/// only a Llama config with `attention_bias` (or a Qwen3 one) has.
extension LlamaModel: LogitAttributing {
    public var finalNormParameters: (weight: Tensor, bias: Tensor?, centers: Bool) { (finalNorm.weight, nil, false) }

    public func attentionOutputBias(layer: Int) -> Tensor? { blocks[layer].attention.outputBias }
}
