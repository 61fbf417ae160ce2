import Foundation

/// GPT-2: learned positions, pre-LayerNorm blocks, multi-head causal attention, GELU MLP.
///
/// Mirrors `transformers.models.gpt2.modeling_gpt2.GPT2LMHeadModel`. Weights come from a
/// ``WeightSource``; GPT-2's `Conv1D` stores `[in, out]`, so projections are transposed once at load.
public final class GPT2Model: LanguageModel, @unchecked Sendable {
    public let config: GPT2Config
    public let info: ModelInfo
    public let tokenizer: any Tokenizer

    let wte: Tensor  // [vocab, d]
    let wpe: Tensor  // [positions, d]
    let blocks: [GPT2Block]
    let lnFinal: Norm
    let unembed: Tensor  // [vocab, d]

    /// Builds the model from its config and weights.
    /// - Throws: ``StepwiseError`` if a tensor is missing or has the wrong shape, or the file holds a tensor
    ///   the model would not read that ``unusedTensors(prefix:tied:)`` does not list.
    public init(config: GPT2Config, weights file: any WeightSource, tokenizer: any Tokenizer, name: String, source: String) throws {
        self.config = config
        self.tokenizer = tokenizer
        let d = config.nEmbd
        let weights = WeightUsage(file)
        // Checkpoints saved by GPT2LMHeadModel prefix every name with `transformer.`; GPT2Model's do not.
        let prefix = weights.contains("transformer.wte.weight") ? "transformer." : ""
        func w(_ name: String, _ shape: [Int]) throws -> Tensor { try weights.tensor(prefix + name, shape: shape) }
        wte = try w("wte.weight", [config.vocabSize, d])
        wpe = try w("wpe.weight", [config.nPositions, d])
        blocks = try (0..<config.nLayer).map { l in
            try GPT2Block(layer: l, config: config, load: { try w("h.\(l).\($0)", $1) })
        }
        lnFinal = .layerNorm(weight: try w("ln_f.weight", [d]), bias: try w("ln_f.bias", [d]), eps: config.layerNormEpsilon)
        if !config.tieWordEmbeddings, weights.contains("lm_head.weight") {
            unembed = try weights.tensor("lm_head.weight", shape: [config.vocabSize, d])
        } else {
            unembed = wte
        }
        let tied = unembed == wte
        let account = try weights.finish(family: "gpt2", knownUnused: Self.unusedTensors(prefix: prefix, tied: tied))
        let perLayer = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * config.dMLP + config.dMLP) + (config.dMLP * d + d)
        info = ModelInfo(
            family: "gpt2", name: name, source: source, layers: config.nLayer, heads: config.nHead,
            kvHeads: config.nHead, dModel: d, dHead: config.dHead, dMLP: config.dMLP,
            vocabularySize: config.vocabSize, contextLength: config.nPositions, isCausal: true,
            parameterCounts: [
                ("token embedding", config.vocabSize * d), ("position embedding", config.nPositions * d),
                ("blocks", perLayer * config.nLayer), ("final layer norm", 2 * d),
            ] + (tied ? [] : [("unembedding", config.vocabSize * d)]),
            details: [
                ("architecture", "GPT-2: learned positions, pre-LayerNorm, \(config.activationFunction) MLP"),
                ("unembedding", tied ? "tied to the token embedding" : "separate lm_head"),
                ("layer norm eps", "\(config.layerNormEpsilon)"),
            ] + account.details)
    }

    /// The tensors a GPT-2 checkpoint may hold that the model does not read, and why.
    static func unusedTensors(prefix: String, tied: Bool) -> [UnusedTensorRule] {
        var rules = [
            UnusedTensorRule(prefix + "h.*.attn.bias", "the causal-mask buffer older checkpoints saved; Stepwise builds the mask"),
            UnusedTensorRule(prefix + "h.*.attn.masked_bias", "the masked-score constant older checkpoints saved"),
        ]
        if tied {
            rules.append(UnusedTensorRule("lm_head.weight", "the config ties the unembedding to the token embedding, as transformers does"))
        }
        return rules
    }

    /// Loads a Hugging Face GPT-2 folder: `config.json`, `model.safetensors` and tokenizer files.
    public static func load(folder: String, tokenizer: any Tokenizer) throws -> GPT2Model {
        let config = try GPT2Config.load(folder + "/config.json")
        let weights = try SafetensorsFile(path: folder + "/model.safetensors")
        return try GPT2Model(config: config, weights: weights, tokenizer: tokenizer,
                             name: URL(fileURLWithPath: folder).lastPathComponent, source: folder)
    }

    public func forward(_ ids: [Int], cache: KVCache?, options: ForwardOptions) throws -> Trace {
        let start = cache?.length ?? 0
        try validate(ids, startingAt: start)
        let labels = ids.map { tokenizer.label(for: $0) }
        let keyLabels = (cache?.labels { tokenizer.label(for: $0) } ?? []) + labels
        var rec = TraceRecorder(tokenIDs: ids, queryLabels: labels, keyLabels: keyLabels, enabled: options.record,
                                patches: options.patches)
        rec.applyBudget(of: options, model: info)
        let (t, d) = (ids.count, config.nEmbd)
        let dModel = TraceRecorder.dModel
        let pos = rec.pos

        // MARK: Embedding
        let embed = rec.hook(.embed, wte.gatherRows(ids), title: "Token embedding", formula: "embed[p] = W_E[token_id[p]]",
                             explanation: "Each token id picks its row of the embedding matrix W_E: one vector of \(d) numbers per token.",
                             axes: [pos, dModel])
        let posEmbed = rec.hook(.posEmbed, wpe.gatherRows(Array(start..<(start + t))), title: "Position embedding",
                                formula: "pos_embed[p] = W_pos[p]",
                                explanation: "Each position picks its row of the learned position matrix W_pos, so the model can tell word order.",
                                axes: [pos, dModel])
        var x = embed + posEmbed

        // MARK: Blocks
        // By index: the block is read in place (a copy of the struct would retain each of its weights).
        for l in blocks.indices {
            try options.checkCancelled(layer: l)
            x = blocks[l](x, start: start, cache: cache, options: options, recorder: &rec)
        }

        // MARK: Unembedding
        let out = lnFinal(x, at: .final, inputs: [.residPost(layer: config.nLayer - 1)], recorder: &rec)
        _ = rec.hook(.logits, out.linear(unembed), title: "Logits", formula: "logits = ln_final(x) · W_Uᵀ",
                     explanation: "The final vector at each position is compared with every token's unembedding: a higher score means the model thinks that token comes next.",
                     axes: [pos, Axis("vocab")], inputs: [.normOut(.final)], always: true)
        if let cache {
            cache.length += t
            cache.tokenIDs += ids
        }
        return try rec.finished()
    }
}
