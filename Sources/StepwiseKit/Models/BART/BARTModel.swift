import Foundation

/// BART and Marian: an encoder that reads the source with bidirectional attention and a decoder that
/// writes the target with causal self-attention and cross-attention to the encoder's output, read
/// from a Hugging Face folder (`BartForConditionalGeneration`, `MarianMTModel`).
///
/// Mirrors transformers' `modeling_bart.py` and `modeling_marian.py`: token embeddings (times √d_model
/// when `scale_embedding`), learned positions offset by 2 (BART) or sinusoids (Marian), BART's embedding
/// layer norm, post-LN layers, and logits `x · Eᵀ + final_logits_bias`. One forward pass records both
/// stacks: `encoder.L.*` steps over the source, then `decoder.L.*` over the target (see
/// ``forward(_:cache:options:)``).
public final class BARTModel: LanguageModel, @unchecked Sendable {
    public let config: BARTConfig
    public let info: ModelInfo
    public let tokenizer: any Tokenizer

    let encoderEmbedding: Tensor  // [vocab, d]
    let decoderEmbedding: Tensor  // [vocab, d]
    /// `[vocab, d]`: the decoder's embedding when tied, else `lm_head.weight`.
    let unembed: Tensor
    let finalLogitsBias: Tensor?  // [vocab]
    /// Rows of position embeddings, `[maxPositions + offset, d]`: learned (BART) or sinusoids (Marian).
    let encoderPositions: Tensor
    let decoderPositions: Tensor
    let encoderEmbedNorm: Norm?
    let decoderEmbedNorm: Norm?
    let encoderLayers: [BARTEncoderLayer]
    let decoderLayers: [BARTDecoderLayer]

    /// Builds the model from its config and weights.
    /// - Throws: ``StepwiseError`` if a tensor is missing or has the wrong shape, or the file holds a
    ///   tensor the model would not read that ``unusedTensors(config:)`` does not list.
    public init(config: BARTConfig, weights file: any WeightSource, tokenizer: any Tokenizer, name: String, source: String) throws {
        self.config = config
        self.tokenizer = tokenizer
        let (d, V) = (config.dModel, config.vocabSize)
        let weights = WeightUsage(file)
        // BartModel checkpoints lack the `model.` prefix of BartForConditionalGeneration's.
        let prefix = weights.contains("model.shared.weight") || weights.contains("model.encoder.embed_tokens.weight") ? "model." : ""
        func w(_ name: String, _ shape: [Int]) throws -> Tensor { try weights.tensor(prefix + name, shape: shape) }
        // Tied checkpoints store the shared embedding once; untied ones give each stack its own.
        func embedding(_ stack: String) throws -> Tensor {
            weights.contains(prefix + stack + ".embed_tokens.weight") ? try w(stack + ".embed_tokens.weight", [V, d]) : try w("shared.weight", [V, d])
        }
        encoderEmbedding = try embedding("encoder")
        decoderEmbedding = try embedding("decoder")
        if config.tieWordEmbeddings || !weights.contains("lm_head.weight") {
            unembed = decoderEmbedding
        } else {
            unembed = try weights.tensor("lm_head.weight", shape: [V, d])
        }
        finalLogitsBias = weights.contains("final_logits_bias") ? try weights.tensor("final_logits_bias", shape: [1, V]).reshaped([V]) : nil
        let rows = config.maxPositions + config.positionOffset
        switch config.variant {
        case .bart:
            encoderPositions = try w("encoder.embed_positions.weight", [rows, d])
            decoderPositions = try w("decoder.embed_positions.weight", [rows, d])
        case .marian:
            encoderPositions = Self.sinusoids(positions: rows, dimensions: d)
            decoderPositions = encoderPositions
        }
        if config.hasEmbeddingNorm {
            func norm(_ stack: String) throws -> Norm {
                .layerNorm(weight: try w(stack + ".layernorm_embedding.weight", [d]), bias: try w(stack + ".layernorm_embedding.bias", [d]),
                           eps: config.layerNormEps)
            }
            encoderEmbedNorm = try norm("encoder")
            decoderEmbedNorm = try norm("decoder")
        } else {
            encoderEmbedNorm = nil
            decoderEmbedNorm = nil
        }
        encoderLayers = try (0..<config.encoderLayers).map { l in
            try BARTEncoderLayer(layer: l, config: config, load: { try w("encoder.layers.\(l).\($0)", $1) })
        }
        decoderLayers = try (0..<config.decoderLayers).map { l in
            try BARTDecoderLayer(layer: l, config: config, load: { try w("decoder.layers.\(l).\($0)", $1) })
        }
        let account = try weights.finish(family: config.variant.rawValue, knownUnused: Self.unusedTensors(prefix: prefix))
        let variant = config.variant == .bart
            ? "BART: learned positions (offset 2), embedding layer norm"
            : "Marian: sinusoidal positions, no embedding layer norm"
        var counts: [(String, Int)] = [("token embedding", V * d)]
        if unembed.data.count > 0, !config.tieWordEmbeddings, weights.contains("lm_head.weight") { counts.append(("unembedding", V * d)) }
        if config.variant == .bart { counts.append(("position embedding", 2 * rows * d)) }
        counts += [("encoder", encoderLayers.reduce(0) { $0 + $1.parameterCount }),
                   ("decoder", decoderLayers.reduce(0) { $0 + $1.parameterCount })]
        var info = ModelInfo(
            family: config.variant.rawValue, name: name, source: source, layers: config.decoderLayers, heads: config.decoderHeads,
            kvHeads: config.decoderHeads, dModel: d, dHead: d / config.decoderHeads, dMLP: config.decoderFFN,
            vocabularySize: V, contextLength: config.maxPositions, isCausal: true, parameterCounts: counts,
            details: [
                ("architecture", "encoder-decoder (\(config.encoderLayers) encoder + \(config.decoderLayers) decoder layers, \(config.encoderHeads)/\(config.decoderHeads) heads): bidirectional encoder, causal decoder with cross-attention, post-LayerNorm, \(config.activationName) MLP"),
                ("variant", variant + (config.scaleEmbedding ? ", embeddings × √d_model" : "")),
                ("head", (config.tieWordEmbeddings ? "tied to the token embedding" : "its own lm_head") + (finalLogitsBias == nil ? "" : ", plus final_logits_bias")),
                ("decoder start", tokenizer.label(for: config.decoderStartTokenID) + " (id \(config.decoderStartTokenID))"),
            ] + account.details)
        info.encoderLayers = config.encoderLayers
        info.decoderStartID = config.decoderStartTokenID
        self.info = info
    }

    /// The tensors a BART or Marian checkpoint may hold that the model does not read, and why.
    static func unusedTensors(prefix: String) -> [UnusedTensorRule] {
        [
            UnusedTensorRule(prefix + "shared.weight", "the shared embedding an untied checkpoint also keeps; each stack reads its own embed_tokens"),
            UnusedTensorRule(prefix + "encoder.embed_positions.weight", "Marian's sinusoidal positions, computed again at load"),
            UnusedTensorRule(prefix + "decoder.embed_positions.weight", "Marian's sinusoidal positions, computed again at load"),
            UnusedTensorRule("lm_head.weight", "a tied head's saved copy of the token embedding"),
        ]
    }

    /// Marian's sinusoidal positions `[positions, dimensions]`: sines in the first half, cosines in the
    /// second (not interleaved), angle `pos / 10000^(2i/d)` for column pair `i`, computed in float64 as
    /// transformers does.
    static func sinusoids(positions: Int, dimensions d: Int) -> Tensor {
        var data = [Float](repeating: 0, count: positions * d)
        let half = (d + 1) / 2
        for p in 0..<positions {
            for j in 0..<d {
                let angle = Double(p) / pow(10000, Double(2 * (j / 2)) / Double(d))
                if j % 2 == 0 { data[p * d + j / 2] = Float(sin(angle)) } else { data[p * d + half + j / 2] = Float(cos(angle)) }
            }
        }
        return Tensor(shape: [positions, d], data: data)
    }

    /// Loads a Hugging Face BART or Marian folder: `config.json`, `model.safetensors` and its tokenizer.
    public static func load(folder: String, tokenizer: any Tokenizer) throws -> BARTModel {
        let config = try BARTConfig(configPath: folder + "/config.json")
        let weights = try SafetensorsFile(path: folder + "/model.safetensors")
        return try BARTModel(config: config, weights: weights, tokenizer: tokenizer,
                             name: URL(fileURLWithPath: folder).lastPathComponent, source: folder)
    }

    /// Runs the decoder on `ids` with cross-attention to `options.source`, encoding the source first.
    ///
    /// With recording on, the trace holds the encoder's steps (`encoder.hook_embed` … `encoder.L.hook_resid_post`)
    /// and then the decoder's (`decoder.hook_embed` … `decoder.L.cross_attn.hook_pattern` … `logits`). With a
    /// `cache`, the encoder runs once per source: its cross-attention keys and values are kept in the cache
    /// (recorded passes run it again, so every recorded trace shows both stacks).
    /// - Throws: ``StepwiseError`` if there is no source, an id is out of range, or a sequence is longer
    ///   than `max_position_embeddings`.
    public func forward(_ ids: [Int], cache: KVCache?, options: ForwardOptions) throws -> Trace {
        guard let source = options.source else {
            throw StepwiseError.usage("\(info.name) is an encoder-decoder model: give it a source sentence first ('source TEXT')")
        }
        let start = cache?.length ?? 0
        try validate(source)
        try validate(ids, startingAt: start)
        let labels = ids.map { tokenizer.label(for: $0) }
        let keyLabels = (cache?.labels { tokenizer.label(for: $0) } ?? []) + labels
        let sourceLabels = source.map { tokenizer.label(for: $0) }
        var rec = TraceRecorder(tokenIDs: ids, queryLabels: labels, keyLabels: keyLabels, enabled: options.record,
                                patches: options.patches)
        rec.applyBudget(of: options, model: info)
        rec.setSource(ids: source, labels: sourceLabels)

        // MARK: Encoder (once per source when generating)
        let lastEncoder: HookName = .stack(.encoder, .residPost(layer: config.encoderLayers - 1))
        let cross: [(k: Tensor, v: Tensor)]
        if let cache, !options.record, cache.crossSource == source, cache.crossKeys.count == decoderLayers.count {
            cross = zip(cache.crossKeys, cache.crossValues).map { ($0, $1) }
        } else {
            rec.enter(.encoder, queryLabels: sourceLabels, keyLabels: sourceLabels, start: 0)
            let encoded = try encode(source, options: options, recorder: &rec)
            cross = decoderLayers.map { $0.crossAttention.keysValues(encoded) }
            if let cache {
                cache.crossKeys = cross.map(\.k)
                cache.crossValues = cross.map(\.v)
                cache.crossSource = source
            }
        }

        // MARK: Decoder
        rec.enter(.decoder, queryLabels: labels, keyLabels: keyLabels, start: start)
        var x = try embed(ids, start: start, table: decoderEmbedding, positions: decoderPositions, norm: decoderEmbedNorm,
                          what: "target", recorder: &rec)
        for (l, layer) in decoderLayers.enumerated() {
            try options.checkCancelled(layer: l)
            x = layer(x, residInput: l == 0 ? embedOutput(decoderEmbedNorm) : .residPost(layer: l - 1), start: start, cache: cache,
                      cross: cross[l], encoderOutput: lastEncoder, sourceLabels: sourceLabels, options: options, recorder: &rec)
        }

        // MARK: Unembedding
        let last: HookName = .stack(.decoder, .residPost(layer: config.decoderLayers - 1))
        let (rows, axis, note) = rec.logitRows(x, options, vocab: config.vocabSize)
        let logits = rows.linear(unembed, bias: finalLogitsBias)
        let tied = config.tieWordEmbeddings ? "the token embedding (tied)" : "the unembedding lm_head"
        _ = rec.hook(.logits, logits, title: "Logits",
                     formula: "logits = x · W_Uᵀ" + (finalLogitsBias == nil ? "" : " + final_logits_bias"),
                     explanation: "The decoder's final vector at each target position is compared with every token's row of \(tied): a higher score means the model thinks that token comes next." + note,
                     axes: [axis, Axis("vocab")], inputs: [last], always: true)
        try rec.checkFinite()
        if let cache {
            cache.length += ids.count
            cache.tokenIDs += ids
        }
        return try rec.finished()
    }

    /// The encoder's output `[source_pos, d]` for `source`, through the encoder's hook points.
    private func encode(_ source: [Int], options: ForwardOptions, recorder rec: inout TraceRecorder) throws -> Tensor {
        var x = try embed(source, start: 0, table: encoderEmbedding, positions: encoderPositions, norm: encoderEmbedNorm,
                          what: "source", recorder: &rec)
        for (l, layer) in encoderLayers.enumerated() {
            try options.checkCancelled(layer: l)
            x = layer(x, residInput: l == 0 ? embedOutput(encoderEmbedNorm) : .residPost(layer: l - 1), recorder: &rec)
        }
        return x
    }

    /// The step the first layer reads: the embedding norm's output, or the embedding sum.
    private func embedOutput(_ norm: Norm?) -> HookName { norm == nil ? .embedSum : .normOut(.embed) }

    /// Token and position embeddings of one stack, summed (and layer-normalised in BART).
    private func embed(_ ids: [Int], start: Int, table: Tensor, positions: Tensor, norm: Norm?, what: String,
                       recorder rec: inout TraceRecorder) throws -> Tensor {
        let pos = rec.pos, dModel = TraceRecorder.dModel, d = config.dModel
        let s = config.scaleEmbedding ? Float(d).squareRoot() : 1
        var tokens = table.gatherRows(ids)
        if s != 1 { tokens = tokens * s }
        let embed = rec.hook(.embed, tokens, title: "Token embedding",
                             formula: s == 1 ? "embed[p] = W_E[token_id[p]]" : String(format: "embed[p] = W_E[token_id[p]] · √d_model (√%d = %.3f)", d, s),
                             explanation: "Each \(what) token id picks its row of the embedding matrix W_E: one vector of \(d) numbers per token.",
                             axes: [pos, dModel])
        let rows = (start..<(start + ids.count)).map { $0 + config.positionOffset }
        let posEmbed = rec.hook(.posEmbed, positions.gatherRows(rows),
                                title: "Position embedding",
                                formula: config.variant == .bart ? "pos_embed[p] = W_pos[p + 2]" : "pos_embed[p, i] = sin or cos(p / 10000^(2i/d))",
                                explanation: config.variant == .bart
                                    ? "Each position picks its row of the learned position matrix (BART's table starts at row 2), so the model can tell word order."
                                    : "Fixed sinusoids of the position (sines in the first half, cosines in the second), so the model can tell word order.",
                                axes: [pos, dModel])
        let sum = rec.hook(.embedSum, embed + posEmbed, title: "Embedding sum", formula: "sum = embed + pos_embed",
                           explanation: "Token and position embeddings added together" + (norm == nil ? ": the input to layer 0." : ", before the embedding layer norm."),
                           axes: [pos, dModel], inputs: [.embed, .posEmbed])
        guard let norm else { return sum }
        return norm(sum, at: .embed, inputs: [.embedSum], label: "embeddings", recorder: &rec)
    }
}
