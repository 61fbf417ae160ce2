import Foundation

/// A Gemma 2 / Gemma 3 decoder: a token embedding scaled by √d_model, sandwich-norm blocks (RMSNorm of
/// the `(1 + w)` kind before and after attention and the MLP), multi-query attention with q/k norms
/// (Gemma 3), RoPE with a local base on sliding-window layers and a global base on the others, a
/// GeGLU MLP, a final RMSNorm and the tied LM head; Gemma 2's soft-capping of scores and logits when
/// the config asks for it.
///
/// Reads Hugging Face checkpoints and GGUF files through one ``WeightSource`` with a
/// ``GemmaWeightLayout``. Mirrors transformers' `Gemma3ForCausalLM` (eager attention, float32).
public final class GemmaModel: LanguageModel {
    public let info: ModelInfo
    public let tokenizer: any Tokenizer
    public let config: GemmaConfig
    public let layout: GemmaWeightLayout

    /// `[vocab, d_model]`, unscaled, as the file stores it (rows converted as they are looked up).
    let embedding: Projection
    /// `√d_model` in float32, as transformers' `Gemma3TextScaledWordEmbedding` multiplies it.
    let embedScale: Float
    let blocks: [GemmaBlock]
    let finalNorm: Norm
    /// `[vocab, d_model]`; the embedding when tied.
    let lmHead: Projection
    public let tiedEmbeddings: Bool

    /// Builds the model from weights already opened.
    /// - Throws: ``StepwiseError`` if the config is inconsistent or a tensor is missing or mis-shaped.
    public init(config: GemmaConfig, weights file: any WeightSource, layout: GemmaWeightLayout, tokenizer: any Tokenizer,
                name: String? = nil, source: String? = nil, details: [(String, String)] = [],
                chatTemplate: String? = nil) throws {
        let path = source ?? file.path
        // Every tensor is read through `weights`, which checks at the end that none was left over.
        let weights = WeightUsage(file)
        try config.validate(source: path)
        let D = config.hiddenSize, F = config.intermediateSize, V = config.vocabSize
        let H = config.numAttentionHeads, KV = config.numKeyValueHeads, d = config.headDim
        self.config = config
        self.layout = layout
        self.tokenizer = tokenizer
        let onePlus = layout.normsStoreOnePlus, eps = config.rmsNormEps
        func norm(_ name: String, _ n: Int) throws -> Norm {
            .gemma(weight: try weights.tensor(name, shape: [n]), eps: eps, storesOnePlus: onePlus)
        }
        embedding = try Projection(weights, layout.embeddingName, shape: [V, D])
        embedScale = Float(D).squareRoot()
        finalNorm = try norm(layout.finalNormName, D)
        if weights.contains(layout.lmHeadName) && !config.tieWordEmbeddings {
            lmHead = try Projection(weights, layout.lmHeadName, shape: [V, D])
            tiedEmbeddings = false
        } else if config.tieWordEmbeddings || layout == .gguf {
            lmHead = embedding
            tiedEmbeddings = true
        } else {
            throw StepwiseError.file(weights.path, "has no tensor '\(layout.lmHeadName)' and the config does not tie it to the embeddings")
        }
        let local = RoPE(dimensions: d, theta: config.ropeLocalTheta, pairing: .halves)
        let global = RoPE(dimensions: d, theta: config.ropeTheta, pairing: .halves)
        var blocks: [GemmaBlock] = []
        for l in 0..<config.numHiddenLayers {
            func n(_ part: GemmaWeightLayout.BlockWeight, _ size: Int) throws -> Norm { try norm(layout.name(part, layer: l), size) }
            func p(_ part: GemmaWeightLayout.BlockWeight, _ shape: [Int]) throws -> Projection {
                try Projection(weights, layout.name(part, layer: l), shape: shape)
            }
            let sliding = config.layerTypes[l] == .sliding
            let output = try p(.output, [D, H * d])
            let attention = GemmaAttention(
                layer: l, heads: H, kvHeads: KV, headDim: d,
                qkv: Projection(stacking: [try p(.query, [H * d, D]), try p(.key, [KV * d, D]), try p(.value, [KV * d, D])]),
                output: output, outputPerHead: OutputSlices(output, heads: H),
                queryNorm: config.hasQKNorm ? try n(.queryNorm, d) : nil, keyNorm: config.hasQKNorm ? try n(.keyNorm, d) : nil,
                rope: sliding ? local : global, window: sliding ? config.slidingWindow : nil,
                queryScalar: config.queryPreAttnScalar, softcap: config.attnLogitSoftcapping)
            let mlp = GemmaMLP(layer: l, gateUp: Projection(stacking: [try p(.gate, [F, D]), try p(.up, [F, D])]), down: try p(.down, [D, F]),
                               activation: config.hiddenActivation)
            blocks.append(GemmaBlock(layer: l, ln1: try n(.ln1, D), ln1Post: try n(.ln1Post, D), ln2: try n(.ln2, D),
                                     ln2Post: try n(.ln2Post, D), attention: attention, mlp: mlp))
        }
        self.blocks = blocks
        var unused: [UnusedTensorRule] = []
        if layout == .huggingFace { unused.append(UnusedTensorRule("model.rotary_emb*.inv_freq", "RoPE's inverse frequencies, computed from the config")) }
        if tiedEmbeddings { unused.append(UnusedTensorRule(layout.lmHeadName, "the config ties the LM head to the token embedding, as transformers does")) }
        let account = try weights.finish(family: config.generation.rawValue, knownUnused: unused)

        let L = config.numHiddenLayers
        let slidingCount = config.layerTypes.filter { $0 == .sliding }.count
        let counts: [(String, Int)] = [("embedding", V * D), ("attention", L * (2 * H * d * D + 2 * KV * d * D)),
                                       ("mlp", L * 3 * F * D), ("norms", (4 * L + 1) * D + (config.hasQKNorm ? 2 * L * d : 0)),
                                       ("lm_head", tiedEmbeddings ? 0 : V * D)]
        let globals = (0..<L).filter { config.layerTypes[$0] == .full }.map(String.init).joined(separator: ", ")
        var facts: [(String, String)] = [
            ("variant", config.generation == .gemma3 ? "Gemma 3: q/k norms, sandwich norms, local and global layers"
                                                     : "Gemma 2: sandwich norms, soft-capping, local and global layers"),
            ("attention", KV == 1 ? "multi-query: \(H) query heads share 1 key/value head"
                                  : (KV == H ? "multi-head, \(H) heads" : "grouped-query: \(H) query heads share \(KV) key/value heads")),
            ("layers", "\(slidingCount) local (sliding window of \(config.slidingWindow) keys, RoPE θ = \(AttentionMath.formatted(config.ropeLocalTheta))), "
                + "\(L - slidingCount) global (\(globals.isEmpty ? "none" : "layer " + globals), RoPE θ = \(AttentionMath.formatted(config.ropeTheta)))"),
            ("scores", "q·k / √\(AttentionMath.formatted(config.queryPreAttnScalar)) (query_pre_attn_scalar)"
                + (config.attnLogitSoftcapping.map { ", soft-capped at \(AttentionMath.formatted($0))" } ?? "")),
            ("norms", "RMSNorm x/√(mean(x²)+\(config.rmsNormEps))·(1 + w), before and after attention and the MLP"),
            ("MLP", "GeGLU: down(GELU_tanh(gate(x)) ⊙ up(x))"),
            ("embedding", "W_E[token] · √\(D) = · \(String(format: "%.4f", embedScale))"),
            ("LM head", (tiedEmbeddings ? "tied to the token embedding" : "separate matrix")
                + (config.finalLogitSoftcapping.map { ", logits soft-capped at \(AttentionMath.formatted($0))" } ?? "")),
        ]
        facts += details
        facts += account.details
        var info = ModelInfo(family: config.generation.rawValue, name: name ?? URL(fileURLWithPath: weights.path).lastPathComponent,
                             source: path, layers: L, heads: H, kvHeads: KV, dModel: D, dHead: d, dMLP: F,
                             vocabularySize: V, contextLength: config.maxPositionEmbeddings, isCausal: true,
                             parameterCounts: counts, details: facts)
        info.chatTemplate = chatTemplate
        self.info = info
    }

    /// Loads a Hugging Face Gemma folder: `config.json` and a single `model.safetensors`.
    public static func load(folder: String, tokenizer: any Tokenizer) throws -> GemmaModel {
        let configPath = folder + "/config.json"
        let config = try GemmaConfig(configPath: configPath)
        try config.validate(source: configPath)
        let weightsPath = folder + "/model.safetensors"
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            let sharded = FileManager.default.fileExists(atPath: folder + "/model.safetensors.index.json")
            throw sharded ? StepwiseError(.unsupported, "\(folder): sharded checkpoints (model.safetensors.index.json) are not supported")
                          : StepwiseError.file(weightsPath, "not found")
        }
        return try GemmaModel(config: config, weights: try SafetensorsFile(path: weightsPath), layout: .huggingFace,
                              tokenizer: tokenizer, name: URL(fileURLWithPath: folder).lastPathComponent, source: folder)
    }

    // MARK: - Forward

    public func forward(_ ids: [Int], cache: KVCache?, options: ForwardOptions) throws -> Trace {
        let start = cache?.length ?? 0
        try validate(ids, startingAt: start)
        if let cache {
            precondition(cache.keys.count == blocks.count, "GemmaModel: cache has \(cache.keys.count) layers, model \(blocks.count)")
        }
        let T = ids.count, D = config.hiddenSize
        let labels = ids.map { tokenizer.label(for: $0) }
        let keyLabels = (cache?.labels { tokenizer.label(for: $0) } ?? []) + labels
        var r = TraceRecorder(tokenIDs: ids, queryLabels: labels, keyLabels: keyLabels, enabled: options.record,
                              patches: options.patches)
        r.applyBudget(of: options, model: info)
        let pos = r.pos
        let s = embedScale
        var x = r.hook(.embed, embedding.gather(ids) * s, title: "Token embeddings (scaled)",
                       formula: "embed = W_E[token] · √\(D)  (√\(D) = \(String(format: "%.4f", s)))",
                       explanation: "Each token's row of the embedding matrix, scaled up by √d_model as Gemma does; no position vector (RoPE rotates q and k).",
                       axes: [pos, TraceRecorder.dModel])
        let causal = options.causal ?? true
        // By index: the block is read in place (a copy of the struct would retain each of its weights).
        for l in blocks.indices {
            try options.checkCancelled(layer: l)
            x = blocks[l](x, start: start, cache: cache, causal: causal, recorder: &r)
        }
        if let cache {
            cache.length = start + T
            cache.tokenIDs += ids
        }
        let normed = finalNorm(x, at: .final, inputs: [.residPost(layer: blocks.count - 1)], recorder: &r)
        var formula = tiedEmbeddings ? "logits = ln_final · W_Eᵀ (tied)" : "logits = ln_final · W_U"
        if let cap = config.finalLogitSoftcapping {
            formula += ", then \(AttentionMath.formatted(cap)) · tanh(logits / \(AttentionMath.formatted(cap)))"
        }
        r.hookLogits(normed, options: options, vocab: config.vocabSize, formula: formula) { [self] in logits(normed: $0) }
        return try r.finished()
    }
}

extension GemmaModel: Unembedding {
    public func unembed(residual: Tensor) -> Tensor { logits(normed: finalNorm(residual)) }

    /// The head on final-norm outputs, then the soft-cap where the config has one: what the pass's logits step computes.
    func logits(normed: Tensor) -> Tensor {
        let logits = lmHead(normed)
        return config.finalLogitSoftcapping.map { AttentionMath.softcapped(logits, cap: $0) } ?? logits
    }

    public func unembeddingRows(_ ids: [Int]) -> Tensor { lmHead.gather(ids) }
}
