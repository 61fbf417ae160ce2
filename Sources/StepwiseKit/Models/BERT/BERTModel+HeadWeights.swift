/// Per-head weights of BERT, for `weights` (an encoder has no unembedding, so no logit lens).
extension BERTModel: HeadWeightsProviding {
    public func headWeights(layer: Int, head: Int) -> HeadWeights {
        precondition(blocks.indices.contains(layer) && (0..<config.numAttentionHeads).contains(head),
                     "BERTModel.headWeights: head \(layer).\(head) out of range")
        let b = blocks[layer], dh = config.dHead
        return HeadWeights(layer: layer, head: head, kvHead: head,
                           wQ: HeadWeights.inputSlice(b.wQ, head: head, dHead: dh),
                           wK: HeadWeights.inputSlice(b.wK, head: head, dHead: dh),
                           wV: HeadWeights.inputSlice(b.wV, head: head, dHead: dh),
                           wO: HeadWeights.outputSlice(b.wO, head: head, dHead: dh),
                           bQ: HeadWeights.biasSlice(b.bQ, head: head, dHead: dh),
                           bK: HeadWeights.biasSlice(b.bK, head: head, dHead: dh),
                           bV: HeadWeights.biasSlice(b.bV, head: head, dHead: dh), bO: b.bO)
    }

    public func tokenEmbeddings(_ ids: [Int]) -> Tensor { wordEmbeddings.gatherRows(ids) }
}
