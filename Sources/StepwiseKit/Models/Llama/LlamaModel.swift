import Foundation

/// A Llama-family decoder (Llama 2/3, SmolLM2, Mistral, Qwen2, Qwen3, ...): token embedding, pre-RMSNorm
/// blocks with RoPE and grouped-query attention and a SwiGLU MLP, a final RMSNorm and a (tied or separate)
/// LM head. The config's ``LlamaConfig/Variant`` flags add what the variants add: biases on the
/// projections, q/k norms, a sliding window.
///
/// Reads Hugging Face checkpoints and GGUF files through one ``WeightSource`` with a
/// ``LlamaWeightLayout`` that says how the tensors are named and how q/k rows are ordered. Matrices stay
/// where the file keeps them, at its precision (``Projection``: GGUF blocks, float32/float16/bfloat16
/// safetensors rows), converted a few rows at a time as they multiply. Mirrors transformers' `LlamaForCausalLM`.
public final class LlamaModel: LanguageModel {
    public let info: ModelInfo
    public let tokenizer: any Tokenizer
    public let config: LlamaConfig
    public let layout: LlamaWeightLayout
    /// The rotary embedding, in the layout's pairing.
    public let rope: RoPE

    /// `[vocab, d_model]`, rows converted as they are looked up.
    let embedding: Projection
    let blocks: [LlamaBlock]
    /// The final RMSNorm.
    let finalNorm: Norm
    /// `[vocab, d_model]`; the same storage as `embedding` when tied.
    let lmHead: Projection
    /// True when the LM head is the embedding matrix.
    public let tiedEmbeddings: Bool

    // MARK: - Loading

    /// Builds the model from weights already opened.
    ///
    /// - Parameters:
    ///   - config: the hyperparameters (from `config.json` or GGUF `llama.*` metadata).
    ///   - weights: where the tensors are read from; every projection is `[out, in]` (PyTorch order).
    ///   - layout: tensor names and q/k row order (``LlamaWeightLayout``).
    ///   - tokenizer: the model's tokenizer.
    ///   - name: display name (default: the last path component of `weights.path`).
    ///   - source: the path shown by `info` (default: `weights.path`).
    ///   - details: further (label, value) facts for `info`, e.g. the file's quantisation.
    ///   - chatTemplate: the file's chat template, for `chat`.
    /// - Throws: ``StepwiseError`` if the config is inconsistent, a tensor is missing or mis-shaped, or the
    ///   file holds a tensor the model would not read and ``unusedTensors(layout:tied:)`` does not list.
    public init(config: LlamaConfig, weights file: any WeightSource, layout: LlamaWeightLayout, tokenizer: any Tokenizer,
                name: String? = nil, source: String? = nil, details: [(String, String)] = [],
                chatTemplate: String? = nil) throws {
        let path = source ?? file.path
        try config.validate(source: path)
        let D = config.hiddenSize, F = config.intermediateSize, V = config.vocabSize
        let H = config.numAttentionHeads, KV = config.numKeyValueHeads, d = config.headDim
        self.config = config
        self.layout = layout
        self.tokenizer = tokenizer
        let pairing = layout.ropePairing(for: config.variant)
        rope = RoPE(dimensions: d, theta: config.ropeTheta, pairing: pairing)
        // Every tensor is read through `weights`, which checks at the end that none was left over.
        let weights = WeightUsage(file)

        embedding = try Projection(weights, layout.embeddingName, shape: [V, D])
        finalNorm = .rms(weight: try weights.tensor(layout.finalNormName, shape: [D]), eps: config.rmsNormEps)
        if config.tieWordEmbeddings {
            lmHead = embedding
            tiedEmbeddings = true
        } else if weights.contains(layout.lmHeadName) {
            lmHead = try Projection(weights, layout.lmHeadName, shape: [V, D])
            tiedEmbeddings = false
        } else if layout == .gguf {
            lmHead = embedding  // llama.cpp: no output.weight means the head is token_embd
            tiedEmbeddings = true
        } else {
            throw StepwiseError.file(file.path, "has no tensor '\(layout.lmHeadName)' and the config does not tie it to the embeddings")
        }
        var blocks: [LlamaBlock] = []
        for l in 0..<config.numHiddenLayers {
            func w(_ part: LlamaWeightLayout.BlockWeight, _ shape: [Int]) throws -> Tensor {
                try weights.tensor(layout.name(part, layer: l), shape: shape)
            }
            func p(_ part: LlamaWeightLayout.BlockWeight, _ shape: [Int]) throws -> Projection {
                try Projection(weights, layout.name(part, layer: l), shape: shape)
            }
            /// The part when `present` (the config's flag for it), else nil.
            func optional(_ present: Bool, _ part: LlamaWeightLayout.BlockWeight, _ shape: [Int]) throws -> Tensor? {
                present ? try w(part, shape) : nil
            }
            var attention = LlamaAttention(layer: l, heads: H, kvHeads: KV, headDim: d,
                                           query: try p(.query, [H * d, D]), key: try p(.key, [KV * d, D]),
                                           value: try p(.value, [KV * d, D]), output: try p(.output, [D, H * d]))
            let qkvBias = config.queryKeyValueBias
            attention.queryBias = try optional(qkvBias, .queryBias, [H * d])
            attention.keyBias = try optional(qkvBias, .keyBias, [KV * d])
            attention.valueBias = try optional(qkvBias, .valueBias, [KV * d])
            attention.outputBias = try optional(config.outputBias, .outputBias, [D])
            attention.window = config.window(layer: l)
            if config.queryKeyNorm {
                attention.queryNorm = .rms(weight: try w(.queryNorm, [d]), eps: config.rmsNormEps)
                attention.keyNorm = .rms(weight: try w(.keyNorm, [d]), eps: config.rmsNormEps)
            }
            var mlp = LlamaMLP(layer: l, gate: try p(.gate, [F, D]), up: try p(.up, [F, D]), down: try p(.down, [D, F]))
            mlp.gateBias = try optional(config.mlpBias, .gateBias, [F])
            mlp.upBias = try optional(config.mlpBias, .upBias, [F])
            mlp.downBias = try optional(config.mlpBias, .downBias, [D])
            blocks.append(LlamaBlock(layer: l, attentionNorm: .rms(weight: try w(.attentionNorm, [D]), eps: config.rmsNormEps),
                                     mlpNorm: .rms(weight: try w(.mlpNorm, [D]), eps: config.rmsNormEps),
                                     attention: attention, mlp: mlp))
        }
        self.blocks = blocks
        let account = try weights.finish(family: "llama", knownUnused: Self.unusedTensors(layout: layout, tied: tiedEmbeddings))

        let L = config.numHiddenLayers
        let attnBiases = (config.queryKeyValueBias ? (H + 2 * KV) * d : 0) + (config.outputBias ? D : 0)
        let attnParams = L * (2 * H * d * D + 2 * KV * d * D + attnBiases)
        let mlpParams = L * (3 * F * D + (config.mlpBias ? 2 * F + D : 0))
        let counts: [(String, Int)] = [("embedding", V * D), ("attention", attnParams), ("mlp", mlpParams),
                                       ("norms", (2 * L + 1) * D + (config.queryKeyNorm ? 2 * L * d : 0)),
                                       ("lm_head", tiedEmbeddings ? 0 : V * D)]
        let g = H / KV
        let layoutText: String
        switch (layout, pairing) {
        case (.gguf, .adjacent): layoutText = "GGUF (q/k rows permuted; RoPE on adjacent pairs)"
        case (.gguf, .halves): layoutText = "GGUF (q/k rows in Hugging Face order; RoPE rotate_half: pairs i, i+d/2)"
        default: layoutText = "Hugging Face (RoPE rotate_half: pairs i, i+d/2)"
        }
        var facts: [(String, String)] = [
            ("variant", config.variantDescription),
            ("layout", layoutText),
            ("attention", KV == H ? "multi-head, \(H) heads" : "grouped-query: \(H) query heads share \(KV) key/value heads (\(g) each)"),
            ("RoPE", "θ = \(config.ropeTheta) over all \(d) head dimensions"),
            ("RMSNorm eps", "\(config.rmsNormEps)"),
            ("MLP", "SwiGLU: down(SiLU(gate(x)) ⊙ up(x))"),
            ("LM head", tiedEmbeddings ? "tied to the token embedding" : "separate matrix"),
        ]
        facts += details
        facts += account.details
        var info = ModelInfo(family: "llama", name: name ?? URL(fileURLWithPath: file.path).lastPathComponent,
                         source: path, layers: L, heads: H, kvHeads: KV, dModel: D, dHead: d, dMLP: F,
                         vocabularySize: V, contextLength: config.maxPositionEmbeddings, isCausal: true,
                         parameterCounts: counts, details: facts)
        info.chatTemplate = chatTemplate
        self.info = info
    }

    /// The tensors a Llama-family checkpoint may hold that the model does not read, and why.
    static func unusedTensors(layout: LlamaWeightLayout, tied: Bool) -> [UnusedTensorRule] {
        var rules: [UnusedTensorRule] = []
        if layout == .huggingFace {
            rules.append(UnusedTensorRule("model.layers.*.self_attn.rotary_emb.inv_freq",
                                          "RoPE's inverse frequencies, computed from rope_theta"))
            rules.append(UnusedTensorRule("model.rotary_emb.inv_freq", "RoPE's inverse frequencies, computed from rope_theta"))
        }
        if tied {
            rules.append(UnusedTensorRule(layout.lmHeadName, "the config ties the LM head to the token embedding, as transformers does"))
        }
        return rules
    }

    /// Loads a Hugging Face Llama, Mistral, Qwen2 or Qwen3 folder: `config.json` and a single `model.safetensors`.
    /// - Throws: ``StepwiseError`` if a file is missing or malformed.
    public static func load(folder: String, tokenizer: any Tokenizer) throws -> LlamaModel {
        let dir = URL(fileURLWithPath: folder)
        let configURL = dir.appendingPathComponent("config.json")
        guard let data = try? MappedFile.data(path: configURL.path) else {
            throw StepwiseError.file(configURL.path, "not found; a Hugging Face Llama folder needs config.json")
        }
        let config: LlamaConfig
        do {
            config = try JSONDecoder().decode(LlamaConfig.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw StepwiseError.file(configURL.path, "has no '\(key.stringValue)'")
        } catch let DecodingError.dataCorrupted(ctx) {
            throw StepwiseError.file(configURL.path, ctx.debugDescription)
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw StepwiseError.file(configURL.path, "'\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw StepwiseError.file(configURL.path, "is not a valid Llama config (\(error))")
        }
        try config.validate(source: configURL.path)
        let weightsPath = dir.appendingPathComponent("model.safetensors").path
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            let sharded = FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors.index.json").path)
            throw sharded ? StepwiseError(.unsupported, "\(folder): sharded checkpoints (model.safetensors.index.json) are not supported")
                          : StepwiseError.file(weightsPath, "not found")
        }
        let weights = try SafetensorsFile(path: weightsPath)
        return try LlamaModel(config: config, weights: weights, layout: .huggingFace, tokenizer: tokenizer,
                              name: dir.lastPathComponent, source: folder)
    }

    // MARK: - RoPE, for showing what it does

    /// The rotation angle (radians) of each dimension pair of a head at `position`, `[d_head/2]`;
    /// pair `i` is `rope.pairs[i]` (layout order) and turns by `position · θ^(−2i/d_head)`.
    public func ropeAngles(position: Int) -> [Float] {
        rope.angles(position: position)
    }

    /// A query or key vector of one head, `[d_head]` in this model's layout order, as RoPE turns it at `position`.
    public func ropeRotate(_ vector: [Float], position: Int) -> [Float] {
        precondition(vector.count == config.headDim, "ropeRotate: \(vector.count) values for d_head \(config.headDim)")
        var v = vector
        rope.apply(&v, rows: 1, heads: 1, start: position)
        return v
    }

    // MARK: - Forward

    public func forward(_ ids: [Int], cache: KVCache?, options: ForwardOptions) throws -> Trace {
        let start = cache?.length ?? 0
        try validate(ids, startingAt: start)
        if let cache {
            precondition(cache.keys.count == blocks.count, "LlamaModel: cache has \(cache.keys.count) layers, model \(blocks.count)")
        }
        let T = ids.count
        let labels = ids.map { tokenizer.label(for: $0) }
        let keyLabels = (cache?.labels { tokenizer.label(for: $0) } ?? []) + labels
        var r = TraceRecorder(tokenIDs: ids, queryLabels: labels, keyLabels: keyLabels, enabled: options.record,
                              patches: options.patches)
        r.applyBudget(of: options, model: info)
        let dModel = TraceRecorder.dModel
        let pos = r.pos

        var x = r.hook(.embed, embedding.gather(ids), title: "Token embeddings", formula: "embed = W_E[token]",
                       explanation: "Each token's row of the embedding matrix; Llama adds no position vector (RoPE rotates q and k instead).",
                       axes: [pos, dModel])
        // RoPE's tables are steps of their own; when a patch changes them, every layer rotates by the patched ones.
        var ropeTables: (cos: Tensor, sin: Tensor)?
        if r.wants(.ropeCos) || r.wants(.ropeSin) {
            let (c, s) = rope.cosSin(positions: start..<(start + T))
            let dHead = TraceRecorder.dHead
            let pairText = rope.pairing == .halves ? "dimensions i and i+\(config.headDim / 2)" : "dimensions 2i and 2i+1"
            let cos = r.hook(.ropeCos, c, title: "RoPE cos", formula: "cos(pos · θ^(−2i/d)), θ = \(config.ropeTheta)",
                             explanation: "The cosine of each dimension's rotation angle per position; \(pairText) share an angle.",
                             axes: [pos, dHead])
            let sin = r.hook(.ropeSin, s, title: "RoPE sin", formula: "sin(pos · θ^(−2i/d)), θ = \(config.ropeTheta)",
                             explanation: "The sine of the same angles; position 0 is not rotated at all.",
                             axes: [pos, dHead])
            if cos != c || sin != s { ropeTables = (cos, sin) }
        }
        let causal = options.causal ?? true
        // By index: the block is read in place (a copy of the struct would retain each of its weights).
        for l in blocks.indices {
            try options.checkCancelled(layer: l)
            x = blocks[l](x, start: start, cache: cache, rope: rope, ropeTables: ropeTables, causal: causal, recorder: &r)
        }
        if let cache {
            cache.length = start + T
            cache.tokenIDs += ids
        }
        let normed = finalNorm(x, at: .final, inputs: [.residPost(layer: blocks.count - 1)], recorder: &r)
        let head = lmHead
        r.hookLogits(normed, options: options, vocab: config.vocabSize,
                     formula: tiedEmbeddings ? "logits = ln_final · W_Eᵀ (tied)" : "logits = ln_final · W_U") { head($0) }
        return try r.finished()
    }
}
