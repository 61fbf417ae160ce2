/// Per-head weights and the unembedding of GPT-2, for the analysis commands.
extension GPT2Model: HeadWeightsProviding, Unembedding {
    public func headWeights(layer: Int, head: Int) -> HeadWeights {
        precondition(blocks.indices.contains(layer) && (0..<config.nHead).contains(head),
                     "GPT2Model.headWeights: head \(layer).\(head) out of range")
        let b = blocks[layer], d = config.nEmbd, dh = config.dHead
        // wQKV is [3d, d]: rows 0..<d are W_Q, d..<2d W_K, 2d..<3d W_V (PyTorch [out, in]).
        let q = b.wQKV.rows(0, d), k = b.wQKV.rows(d, 2 * d), v = b.wQKV.rows(2 * d, 3 * d)
        let bias = b.bQKV.data
        func bslice(_ part: Int) -> Tensor {
            let lo = part * d + head * dh
            return Tensor(shape: [dh], data: Array(bias[lo..<(lo + dh)]))
        }
        return HeadWeights(layer: layer, head: head, kvHead: head,
                           wQ: HeadWeights.inputSlice(q, head: head, dHead: dh),
                           wK: HeadWeights.inputSlice(k, head: head, dHead: dh),
                           wV: HeadWeights.inputSlice(v, head: head, dHead: dh),
                           wO: HeadWeights.outputSlice(b.wO, head: head, dHead: dh),
                           bQ: bslice(0), bK: bslice(1), bV: bslice(2), bO: b.bO)
    }

    public func tokenEmbeddings(_ ids: [Int]) -> Tensor { wte.gatherRows(ids) }

    public func unembed(residual: Tensor) -> Tensor {
        // The same operations, in the same order, as the end of `forward`, so the last layer matches `logits` exactly.
        lnFinal(residual).linear(unembed)
    }

    public func unembeddingRows(_ ids: [Int]) -> Tensor { unembed.gatherRows(ids) }
}

/// What direct logit attribution needs: the final LayerNorm and each layer's attention output bias.
extension GPT2Model: LogitAttributing {
    public var finalNormParameters: (weight: Tensor, bias: Tensor?, centers: Bool) { (lnFinal.weight, lnFinal.bias, true) }

    public func attentionOutputBias(layer: Int) -> Tensor? { blocks[layer].bO }
}
