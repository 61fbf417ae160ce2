import Foundation

/// BERT: a bidirectional, post-LayerNorm encoder with learned positions and token types, read from a
/// Hugging Face folder (e.g. sentence-transformers/all-MiniLM-L6-v2).
///
/// Mirrors `transformers.BertModel` (`BertEmbeddings`, `BertEncoder`, `BertPooler`). There is no
/// language-model head: the trace ends with the pooler output and the mean-pooled sentence embedding,
/// and has no `logits` step. Every token has token type 0 (segment A).
public final class BERTModel: LanguageModel, @unchecked Sendable {
    public let config: BERTConfig
    public let info: ModelInfo
    public let tokenizer: any Tokenizer

    let wordEmbeddings: Tensor  // [vocab, d]
    let positionEmbeddings: Tensor  // [positions, d]
    let tokenTypeEmbeddings: Tensor  // [types, d]
    let embedLN: Norm
    let blocks: [BERTBlock]
    /// `pooler.dense` weight `[d, d]` and bias `[d]`, when the checkpoint has them.
    let pooler: (weight: Tensor, bias: Tensor)?

    /// Builds the model from its config and weights.
    /// - Throws: ``StepwiseError`` if a tensor is missing or has the wrong shape, or the file holds a tensor
    ///   the model would not read that ``unusedTensors(prefix:)`` does not list.
    public init(config: BERTConfig, weights file: any WeightSource, tokenizer: any Tokenizer, name: String, source: String) throws {
        self.config = config
        self.tokenizer = tokenizer
        let d = config.hiddenSize
        let weights = WeightUsage(file)
        // BertForMaskedLM / BertForPreTraining checkpoints prefix every name with `bert.`; BertModel's do not.
        let prefix = weights.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        func w(_ name: String, _ shape: [Int]) throws -> Tensor { try weights.tensor(prefix + name, shape: shape) }
        wordEmbeddings = try w("embeddings.word_embeddings.weight", [config.vocabSize, d])
        positionEmbeddings = try w("embeddings.position_embeddings.weight", [config.maxPositionEmbeddings, d])
        tokenTypeEmbeddings = try w("embeddings.token_type_embeddings.weight", [config.typeVocabSize, d])
        embedLN = .layerNorm(weight: try w("embeddings.LayerNorm.weight", [d]), bias: try w("embeddings.LayerNorm.bias", [d]),
                                eps: config.layerNormEps)
        blocks = try (0..<config.numHiddenLayers).map { l in
            try BERTBlock(layer: l, config: config, load: { try w("encoder.layer.\(l).\($0)", $1) })
        }
        if weights.contains(prefix + "pooler.dense.weight") {
            pooler = (try w("pooler.dense.weight", [d, d]), try w("pooler.dense.bias", [d]))
        } else {
            pooler = nil
        }
        let account = try weights.finish(family: "bert", knownUnused: Self.unusedTensors(prefix: prefix))
        if tokenizer.vocabularySize > config.vocabSize {
            throw StepwiseError.file(source, "the tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(config.vocabSize) embeddings")
        }
        info = ModelInfo(
            family: "bert", name: name, source: source, layers: config.numHiddenLayers, heads: config.numAttentionHeads,
            kvHeads: config.numAttentionHeads, dModel: d, dHead: config.dHead, dMLP: config.intermediateSize,
            vocabularySize: config.vocabSize, contextLength: config.maxPositionEmbeddings, isCausal: false,
            parameterCounts: [
                ("token embedding", config.vocabSize * d), ("position embedding", config.maxPositionEmbeddings * d),
                ("token type embedding", config.typeVocabSize * d), ("embedding layer norm", 2 * d),
                ("blocks", blocks.reduce(0) { $0 + $1.parameterCount }),
            ] + (pooler == nil ? [] : [("pooler", d * d + d)]),
            details: [
                ("architecture", "BERT encoder: bidirectional attention, post-LayerNorm, learned positions, \(config.hiddenAct) MLP"),
                ("output", "no language-model head: pooler output and mean-pooled, L2-normalised sentence embedding"),
                ("layer norm eps", "\(config.layerNormEps)"),
                ("token types", "\(config.typeVocabSize) (all tokens use type 0)"),
            ] + account.details)
    }

    /// The tensors a BERT checkpoint may hold that the model does not read, and why. The pre-training
    /// heads are real parameters (BertForPreTraining and BertForMaskedLM checkpoints carry them), so
    /// `info` names them under a warning.
    static func unusedTensors(prefix: String) -> [UnusedTensorRule] {
        [
            UnusedTensorRule(prefix + "embeddings.position_ids", "the position ids 0, 1, 2, …, a buffer"),
            UnusedTensorRule(prefix + "embeddings.token_type_ids", "a buffer of token type 0 for every position"),
            UnusedTensorRule("cls.*", "a pre-training head (masked LM or next sentence); Stepwise's BERT ends at the pooler and the sentence embedding",
                             kind: .ignored),
        ]
    }

    /// Loads a Hugging Face BERT folder: `config.json` (model_type `bert`), `model.safetensors`, and
    /// `tokenizer.json` or `vocab.txt`.
    /// - Throws: ``StepwiseError`` naming the file that is missing, malformed or unsupported.
    public static func load(folder: String) throws -> BERTModel {
        let config = try BERTConfig.load(folder + "/config.json")
        let weights = try SafetensorsFile(path: folder + "/model.safetensors")
        let tokenizer = try WordPiece.load(folder: folder)
        return try BERTModel(config: config, weights: weights, tokenizer: tokenizer,
                             name: URL(fileURLWithPath: folder).lastPathComponent, source: folder)
    }

    /// Runs the encoder on `ids` (normally `[CLS] … [SEP]`, see ``Tokenizer/encodeForModel(_:)``).
    ///
    /// Records the embeddings, every layer's steps, `pooler.hook_out` `[1, d_model]` (when the checkpoint
    /// has a pooler) and `hook_sentence_embedding` `[d_model]`. With `options.record == false` only those
    /// last two are kept. `options.causal == true` applies a causal mask (a teaching switch; default none).
    /// - Throws: ``StepwiseError`` (`.unsupported`) if a cache is passed (an encoder does not generate), or
    ///   if an id is out of range or the sequence exceeds `max_position_embeddings`.
    public func forward(_ ids: [Int], cache: KVCache?, options: ForwardOptions) throws -> Trace {
        if cache != nil {
            throw StepwiseError(.unsupported, "BERT is an encoder: it reads the whole text at once and does not generate, so it takes no KV cache")
        }
        try validate(ids)
        let labels = ids.map { tokenizer.label(for: $0) }
        var rec = TraceRecorder(tokenIDs: ids, queryLabels: labels, keyLabels: labels, enabled: options.record,
                                patches: options.patches)
        rec.applyBudget(of: options, model: info)
        let (t, d) = (ids.count, config.hiddenSize)
        let dModel = TraceRecorder.dModel
        let pos = rec.pos

        // MARK: Embeddings
        let embed = rec.hook(.embed, wordEmbeddings.gatherRows(ids), title: "Token embedding", formula: "embed[p] = W_E[token_id[p]]",
                             explanation: "Each token id picks its row of the word-embedding matrix W_E: one vector of \(d) numbers per token.",
                             axes: [pos, dModel])
        let posEmbed = rec.hook(.posEmbed, positionEmbeddings.gatherRows(Array(0..<t)), title: "Position embedding",
                                formula: "pos_embed[p] = W_pos[p]",
                                explanation: "Each position picks its row of the learned position matrix W_pos, so the model can tell word order.",
                                axes: [pos, dModel])
        // Every token in segment A.
        let typeEmbed = rec.hook(.tokenTypeEmbed, tokenTypeEmbeddings.gatherRows(Array(repeating: 0, count: t)),
                                 title: "Token type embedding", formula: "token_type_embed[p] = W_type[0]",
                                 explanation: "BERT also adds a segment vector (sentence A or B); every token here is in segment A, so all rows are W_type[0].",
                                 axes: [pos, dModel])
        let sum = rec.hook(.embedSum, embed + posEmbed + typeEmbed, title: "Embedding sum",
                           formula: "sum = embed + pos_embed + token_type_embed",
                           explanation: "The three embeddings added together, before BERT's embedding layer norm.",
                           axes: [pos, dModel], inputs: [.embed, .posEmbed, .tokenTypeEmbed])
        let embedLNOut = embedLN(sum, at: .embed, inputs: [.embedSum], label: "embeddings", hookOut: false, recorder: &rec)
        var x = rec.hook(.normOut(.embed), embedLNOut,
                         title: "Norm output (embeddings)", formula: "normalized · w + b",
                         explanation: "The learned per-dimension gain and bias of the embedding layer norm: the input to layer 0.",
                         axes: [pos, dModel], inputs: [.normNormalized(.embed)])

        // MARK: Encoder
        for (l, block) in blocks.enumerated() {
            try options.checkCancelled(layer: l)
            x = block(x, options: options, recorder: &rec)
        }
        let last: [HookName] = [.residPost(layer: config.numHiddenLayers - 1)]

        // MARK: Outputs
        if let pooler {
            _ = rec.hook(.poolerOut, x.rows(0, 1).linear(pooler.weight, bias: pooler.bias).map { tanh($0) }, title: "Pooler output",
                         formula: "pooled = tanh(h[CLS] · W_pool + b_pool)",
                         explanation: "The final vector of the first token ([CLS]) through one dense layer and tanh: BERT's summary of the whole text for classifiers.",
                         axes: [Axis("pos", labels: Array(labels.prefix(1))), dModel], inputs: last, always: true)
        }
        _ = rec.hook(.sentenceEmbedding, Self.meanPooled(x), title: "Sentence embedding",
                     formula: "e = mean_p h[p] / ‖mean_p h[p]‖",
                     explanation: "The final vectors of all \(t) positions averaged, then scaled to length 1 (sentence-transformers' mean pooling + normalize): texts with similar meaning point the same way.",
                     axes: [dModel], inputs: last, always: true)
        return try rec.finished()
    }

    /// Mean over positions of `x` `[pos, d]`, L2-normalised: `[d]`.
    static func meanPooled(_ x: Tensor) -> Tensor {
        let (t, d) = (x.shape[0], x.shape[1])
        var mean = [Float](repeating: 0, count: d)
        for i in 0..<t { for j in 0..<d { mean[j] += x.data[i * d + j] } }
        var norm: Float = 0
        for j in 0..<d { mean[j] /= Float(t); norm += mean[j] * mean[j] }
        let inv = 1 / Swift.max(norm.squareRoot(), 1e-12)
        return Tensor(shape: [d], data: mean.map { $0 * inv })
    }

    /// The sentence embedding of a text: `[CLS] text [SEP]` through the encoder, mean-pooled and
    /// L2-normalised, as sentence-transformers' all-MiniLM-L6-v2 computes it.
    /// - Returns: `[d_model]`, unit length.
    /// - Throws: ``StepwiseError`` if the text is too long for the model.
    public func sentenceEmbedding(_ text: String) throws -> Tensor {
        let trace = try forward(try tokenizer.encodeForModel(text), cache: nil, options: ForwardOptions(record: false))
        return trace["hook_sentence_embedding"]!.tensor
    }

    /// Cosine similarity of two texts' sentence embeddings, in −1...1 (1 = same direction).
    /// - Throws: ``StepwiseError`` if either text is too long for the model.
    public func similarity(_ a: String, _ b: String) throws -> Float {
        let (ea, eb) = (try sentenceEmbedding(a), try sentenceEmbedding(b))
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for (x, y) in zip(ea.data, eb.data) { dot += x * y; na += x * x; nb += y * y }
        return dot / Swift.max((na * nb).squareRoot(), 1e-12)
    }
}
