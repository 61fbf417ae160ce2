import Foundation

/// T5 (v1.0, v1.1, Flan-T5): an encoder and a decoder of pre-norm blocks sharing one token embedding, with a
/// learned relative position bias instead of position embeddings, RMS-style norms, unscaled attention
/// scores, and a ReLU or gated-GELU MLP; the LM head is the shared embedding fed the decoder output times
/// `d_model^(−1/2)` (v1.0) or a matrix of its own (v1.1, Flan-T5).
///
/// Reads a Hugging Face folder and mirrors transformers' `T5ForConditionalGeneration` (`modeling_t5.py`,
/// eager attention, float32, dropout off). One forward pass runs the encoder on `options.source` and the
/// decoder on the ids, and records both stacks: `encoder.hook_embed`, `encoder.hook_position_bias`,
/// `encoder.L.…`, `encoder_final_ln.…`, then `decoder.hook_embed` … `decoder.L.cross_attn.hook_pattern` …
/// `decoder_final_ln.…` and `logits`.
public final class T5Model: LanguageModel {
    public let info: ModelInfo
    public let tokenizer: any Tokenizer
    public let config: T5Config

    /// `shared.weight` `[vocab, d_model]`: both stacks' token embedding (and the tied LM head).
    let shared: Tensor
    let encoderBlocks: [T5Block]
    let decoderBlocks: [T5Block]
    let encoderBias: T5PositionBias
    let decoderBias: T5PositionBias
    let encoderFinalNorm: Norm
    let decoderFinalNorm: Norm
    /// `[vocab, d_model]`: `shared` when tied, else `lm_head.weight`.
    let lmHead: Projection
    /// The logits read the shared embedding (true) or a matrix of their own.
    public let tiedHead: Bool
    /// `d_model^(−1/2)` when the config scales the decoder output before the head (v1.0), else nil.
    let outputScale: Float?

    /// The tensors a T5 checkpoint may hold that the model does not read, and why.
    static let unusedTensors: [UnusedTensorRule] = [
        UnusedTensorRule("encoder.embed_tokens.weight", "the encoder's copy of shared.weight (transformers ties them)"),
        UnusedTensorRule("decoder.embed_tokens.weight", "the decoder's copy of shared.weight (transformers ties them)"),
        UnusedTensorRule("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight",
                         "a position bias for cross-attention, which T5 never applies (transformers skips it on load)",
                         kind: .ignored),
    ]

    /// Builds the model from its config and weights.
    /// - Throws: ``StepwiseError`` if a tensor is missing or mis-shaped, or the file holds one T5 does not use.
    public init(config: T5Config, weights file: any WeightSource, tokenizer: any Tokenizer, name: String? = nil,
                source: String? = nil) throws {
        let path = source ?? file.path
        let weights = WeightUsage(file)
        try config.validate(source: path)
        self.config = config
        self.tokenizer = tokenizer
        let D = config.dModel, F = config.dFF, V = config.vocabSize, H = config.numHeads, d = config.dKV
        let inner = H * d, eps = config.layerNormEpsilon
        func norm(_ name: String) throws -> Norm { .rms(weight: try weights.tensor(name, shape: [D]), eps: eps) }
        func p(_ name: String, _ shape: [Int]) throws -> Projection { try Projection(weights, name, shape: shape) }
        func attention(_ prefix: String, layer: Int) throws -> T5Attention {
            let o = try p(prefix + ".o.weight", [D, inner])
            return T5Attention(layer: layer, heads: H, dHead: d, query: try p(prefix + ".q.weight", [inner, D]),
                               key: try p(prefix + ".k.weight", [inner, D]), value: try p(prefix + ".v.weight", [inner, D]),
                               output: o, outputPerHead: OutputSlices(o, heads: H))
        }
        func mlp(_ prefix: String, layer: Int) throws -> T5MLP {
            if config.isGatedAct {
                return T5MLP(layer: layer, wi: try p(prefix + ".wi_0.weight", [F, D]), linear: try p(prefix + ".wi_1.weight", [F, D]),
                             wo: try p(prefix + ".wo.weight", [D, F]), activation: config.activation)
            }
            return T5MLP(layer: layer, wi: try p(prefix + ".wi.weight", [F, D]), linear: nil,
                         wo: try p(prefix + ".wo.weight", [D, F]), activation: config.activation)
        }
        func bias(_ stack: String, bidirectional: Bool) throws -> T5PositionBias {
            T5PositionBias(table: try weights.tensor("\(stack).block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                                                     shape: [config.relativeAttentionNumBuckets, H]),
                           numBuckets: config.relativeAttentionNumBuckets, maxDistance: config.relativeAttentionMaxDistance,
                           bidirectional: bidirectional)
        }

        shared = try weights.tensor("shared.weight", shape: [V, D])
        encoderBlocks = try (0..<config.numLayers).map { l in
            let b = "encoder.block.\(l).layer"
            return T5Block(layer: l, ln1: try norm(b + ".0.layer_norm.weight"), attention: try attention(b + ".0.SelfAttention", layer: l),
                           lnCross: nil, crossAttention: nil, lnMLP: try norm(b + ".1.layer_norm.weight"),
                           mlp: try mlp(b + ".1.DenseReluDense", layer: l))
        }
        decoderBlocks = try (0..<config.numDecoderLayers).map { l in
            let b = "decoder.block.\(l).layer"
            return T5Block(layer: l, ln1: try norm(b + ".0.layer_norm.weight"), attention: try attention(b + ".0.SelfAttention", layer: l),
                           lnCross: try norm(b + ".1.layer_norm.weight"), crossAttention: try attention(b + ".1.EncDecAttention", layer: l),
                           lnMLP: try norm(b + ".2.layer_norm.weight"), mlp: try mlp(b + ".2.DenseReluDense", layer: l))
        }
        encoderBias = try bias("encoder", bidirectional: true)
        decoderBias = try bias("decoder", bidirectional: false)
        encoderFinalNorm = try norm("encoder.final_layer_norm.weight")
        decoderFinalNorm = try norm("decoder.final_layer_norm.weight")

        // transformers 5 ties lm_head to shared.weight unless the file holds an lm_head.weight with other
        // values; the config alone decides the d_model^(-1/2) rescale.
        var headNote: String
        if weights.contains("lm_head.weight") {
            let head = try weights.tensor("lm_head.weight", shape: [V, D])
            if head.data == shared.data {
                tiedHead = true
                headNote = "tied to the shared embedding (the file's lm_head.weight is the same matrix)"
            } else {
                tiedHead = false
                headNote = config.tieWordEmbeddings ? "lm_head.weight, which differs from shared.weight, so it is used (as transformers does) although the config ties them"
                                                    : "lm_head.weight, a matrix of its own"
            }
            lmHead = Projection(tiedHead ? shared : head)
        } else if config.tieWordEmbeddings {
            tiedHead = true
            headNote = "tied to the shared embedding"
            lmHead = Projection(shared)
        } else {
            throw StepwiseError.file(weights.path, "has no tensor 'lm_head.weight', and config.json's tie_word_embeddings is false (a T5 v1.1 / Flan-T5 head of its own)")
        }
        // As transformers multiplies: the double d_model ** -0.5, rounded to float32.
        outputScale = config.scaleDecoderOutputs ? Float(pow(Double(D), -0.5)) : nil
        if let s = outputScale { headNote += String(format: ", fed the decoder output × d_model^−½ = × %.4f", s) }
        let account = try weights.finish(family: "t5", knownUnused: Self.unusedTensors)

        let (Le, Ld) = (config.numLayers, config.numDecoderLayers)
        let mlpMatrices = config.isGatedAct ? 3 : 2
        let counts: [(String, Int)] = [
            ("shared embedding", V * D), ("position bias", 2 * config.relativeAttentionNumBuckets * H),
            ("encoder attention", Le * 4 * inner * D), ("encoder mlp", Le * mlpMatrices * F * D), ("encoder norms", (2 * Le + 1) * D),
            ("decoder attention", Ld * 8 * inner * D), ("decoder mlp", Ld * mlpMatrices * F * D), ("decoder norms", (3 * Ld + 1) * D),
            ("lm_head", tiedHead ? 0 : V * D),
        ]
        let act = config.isGatedAct ? "gated \(config.activation.rawValue): wo(act(wi_0 x) ⊙ wi_1 x)" : "\(config.activation.rawValue): wo(act(wi x))"
        let facts: [(String, String)] = [
            ("variant", config.isGatedAct ? "T5 v1.1 / Flan-T5 (feed_forward_proj \(config.feedForwardProj))"
                                          : "T5 v1.0 (feed_forward_proj \(config.feedForwardProj))"),
            ("stacks", "encoder \(Le) blocks (bidirectional), decoder \(Ld) blocks (causal self-attention, then cross-attention to the encoder)"),
            ("attention", "\(H) heads of d_kv \(d) (\(inner) wide, d_model \(D)); scores q·kᵀ with no 1/√d_kv, plus the position bias in self-attention"),
            ("position bias", "learned per head and bucket of distance, in each stack's block 0; encoder: \(encoderBias.layout); decoder: \(decoderBias.layout)"),
            ("norms", "RMS-style x/√(mean(x²)+\(config.layerNormEpsilon))·w, no bias, before every sublayer and after each stack"),
            ("MLP", act + " (no biases)"),
            ("LM head", headNote),
            ("decoder start", "id \(config.decoderStartTokenID) \(tokenizer.label(for: config.decoderStartTokenID)); generation ends at "
                + config.eosTokenIDs.map { "\($0) \(tokenizer.label(for: $0))" }.joined(separator: ", ")),
        ] + account.details
        var info = ModelInfo(family: "t5", name: name ?? URL(fileURLWithPath: weights.path).lastPathComponent, source: path,
                             layers: Ld, heads: H, kvHeads: H, dModel: D, dHead: d, dMLP: F, vocabularySize: V,
                             contextLength: nil, isCausal: true, parameterCounts: counts, details: facts)
        info.encoderLayers = Le
        info.decoderStartID = config.decoderStartTokenID
        self.info = info
    }

    /// Loads a Hugging Face T5 folder: `config.json` (model_type `t5`) and a single `model.safetensors`.
    /// - Throws: ``StepwiseError`` naming the file that is missing, malformed or unsupported.
    public static func load(folder: String, tokenizer: any Tokenizer) throws -> T5Model {
        let config = try T5Config(configPath: folder + "/config.json")
        let weightsPath = folder + "/model.safetensors"
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            let sharded = FileManager.default.fileExists(atPath: folder + "/model.safetensors.index.json")
            throw sharded ? StepwiseError(.unsupported, "\(folder): sharded checkpoints (model.safetensors.index.json) are not supported")
                          : StepwiseError.file(weightsPath, "not found")
        }
        return try T5Model(config: config, weights: try SafetensorsFile(path: weightsPath), tokenizer: tokenizer,
                           name: URL(fileURLWithPath: folder).lastPathComponent, source: folder)
    }

    // MARK: - Forward

    /// Runs the encoder on `options.source` and the decoder on `ids` (which start with the decoder start
    /// token, `<pad>`). With a cache, `ids` continue the cached decoder tokens; the encoder's cross-attention
    /// keys and values are computed once per source and kept in the cache (the encoder runs again, and is
    /// recorded, whenever the pass records, or a patch or kept step needs it).
    /// - Throws: ``StepwiseError`` without a source, for ids outside the vocabulary, or a failed patch.
    public func forward(_ ids: [Int], cache: KVCache?, options: ForwardOptions) throws -> Trace {
        guard let source = options.source else {
            throw StepwiseError.usage("T5 is an encoder-decoder model: give it a source sentence first ('source TEXT')")
        }
        guard !source.isEmpty else {
            throw StepwiseError.usage("the source has no tokens: T5's encoder needs at least one ('source TEXT')")
        }
        if let bad = source.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw StepwiseError(.model, "source token id \(bad) is outside the vocabulary (0..<\(config.vocabSize))")
        }
        let start = cache?.length ?? 0
        try validate(ids, startingAt: start)
        if let cache {
            precondition(cache.keys.count == decoderBlocks.count, "T5Model: cache has \(cache.keys.count) layers, decoder \(decoderBlocks.count)")
        }
        let label = { [tokenizer] (id: Int) in tokenizer.label(for: id) }
        let sourceLabels = source.map(label), labels = ids.map(label)
        let keyLabels = (cache?.labels(label) ?? []) + labels
        var r = TraceRecorder(tokenIDs: ids, queryLabels: labels, keyLabels: keyLabels, enabled: options.record,
                              patches: options.patches)
        r.applyBudget(of: options, model: info)
        r.setSource(ids: source, labels: sourceLabels)
        let causal = options.causal ?? true
        let encodedStep: HookName = .stack(.encoder, .normOut(.final))

        // MARK: Encoder (or the cross keys and values it gave this source before)
        var cross: [T5CrossState?]
        if let cache, !options.record, cache.crossSource == source, cache.crossKeys.count == decoderBlocks.count,
           cache.crossValues.count == decoderBlocks.count, !Self.needsEncoder(options) {
            cross = (0..<decoderBlocks.count).map {
                T5CrossState(keys: cache.crossKeys[$0], values: cache.crossValues[$0], encoded: nil, encodedStep: encodedStep,
                             sourceLabels: sourceLabels)
            }
        } else {
            r.enter(.encoder, queryLabels: sourceLabels, keyLabels: sourceLabels, start: 0)
            let encoded = try encode(source, options: options, recorder: &r)
            cross = decoderBlocks.map { _ in
                T5CrossState(keys: nil, values: nil, encoded: encoded, encodedStep: encodedStep, sourceLabels: sourceLabels)
            }
        }

        // MARK: Decoder
        r.enter(.decoder, queryLabels: labels, keyLabels: keyLabels, start: start)
        let T = ids.count, S = start + T
        let pos = r.pos
        var x = r.hook(.embed, shared.gatherRows(ids), title: "Token embeddings (decoder)", formula: "embed = shared[token]",
                       explanation: "Each target token's row of the embedding the encoder and decoder share; no position vector (the position bias says where tokens are).",
                       axes: [pos, TraceRecorder.dModel])
        let bias = recordBias(decoderBias, queries: T, keys: S, start: start, recorder: &r)
        for (l, block) in decoderBlocks.enumerated() {
            try options.checkCancelled(layer: l)
            x = block(x, bias: bias, start: start, cache: cache, causal: causal, cross: &cross[l], recorder: &r)
        }
        if let cache {
            cache.length = S
            cache.tokenIDs += ids
            if cross.first??.encoded != nil {
                cache.crossKeys = cross.map { $0!.keys! }
                cache.crossValues = cross.map { $0!.values! }
                cache.crossSource = source
            }
        }
        let normed = decoderFinalNorm(x, at: .final, inputs: [.residPost(layer: decoderBlocks.count - 1)], recorder: &r)
        let (rows, logitPos, logitNote) = r.logitRows(normed, options, vocab: config.vocabSize)
        let logits: Tensor, formula: String
        if let s = outputScale {
            logits = lmHead(rows * s)
            formula = "logits = (decoder_final_ln · d_model^−½) · W_Eᵀ  (d_model^−½ = \(String(format: "%.4f", s)); tied to the shared embedding)"
        } else {
            logits = lmHead(rows)
            formula = tiedHead ? "logits = decoder_final_ln · W_Eᵀ (tied to the shared embedding)" : "logits = decoder_final_ln · W_U (lm_head)"
        }
        let why = outputScale == nil ? "" : " T5 v1.0 scales the decoder output down by √d_model first, since the head is the embedding matrix itself."
        _ = r.hook(.logits, logits, title: "Logits", formula: formula,
                   explanation: "A score for every vocabulary entry as the next target token; softmax turns them into probabilities." + why + logitNote,
                   axes: [logitPos, Axis("vocab")], inputs: [.stack(.decoder, .normOut(.final))], always: true)
        return try r.finished()
    }

    /// True when a patch or a kept step names an encoder step or the cross-attention keys and values,
    /// so the encoder must run even though the cache holds what it gave.
    static func needsEncoder(_ options: ForwardOptions) -> Bool {
        func touches(_ h: HookName) -> Bool {
            guard case .stack(let stack, let inner) = h else { return false }
            if stack == .encoder { return true }
            switch inner {
            case .cross(.k), .cross(.v): return true
            default: return false
            }
        }
        return options.patches.contains { touches($0.hook) } || options.keep.contains(where: touches)
    }

    /// The encoder over `source`, recorded in the encoder stack: embedding, position bias, blocks, final norm.
    /// - Returns: the final norm's output `[sourcePos, d_model]`, what cross-attention reads.
    func encode(_ source: [Int], options: ForwardOptions, recorder r: inout TraceRecorder) throws -> Tensor {
        let S = source.count
        let pos = r.pos
        var x = r.hook(.embed, shared.gatherRows(source), title: "Token embeddings (encoder)", formula: "embed = shared[token]",
                       explanation: "Each source token's row of the embedding the encoder and decoder share; T5 adds no position vector.",
                       axes: [pos, TraceRecorder.dModel])
        let bias = recordBias(encoderBias, queries: S, keys: S, start: 0, recorder: &r)
        var none: T5CrossState? = nil
        for (l, block) in encoderBlocks.enumerated() {
            try options.checkCancelled(layer: l)
            x = block(x, bias: bias, start: 0, cache: nil, causal: false, cross: &none, recorder: &r)
        }
        return encoderFinalNorm(x, at: .final, inputs: [.residPost(layer: encoderBlocks.count - 1)], recorder: &r)
    }

    /// The stack's position bias for these queries and keys, through its hook point `hook_position_bias`.
    func recordBias(_ b: T5PositionBias, queries: Int, keys: Int, start: Int, recorder r: inout TraceRecorder) -> Tensor {
        let stack = r.stack == .encoder ? "encoder" : "decoder"
        let axes = [TraceRecorder.head, r.queryPos, r.keyPos]
        return r.hook(.positionBias, b(queries: queries, keys: keys, start: start),
                      title: "Relative position bias (\(stack))",
                      formula: "position_bias[h, q, k] = relative_attention_bias[bucket(k − q), h]; \(b.layout)",
                      explanation: "A learned number per head for how far each key is from each query, added to every \(stack) block's self-attention scores: T5's only notion of word order.",
                      axes: axes)
    }
}
