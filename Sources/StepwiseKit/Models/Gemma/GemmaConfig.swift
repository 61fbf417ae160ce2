import Foundation

/// The hyperparameters of a Gemma 2 or Gemma 3 decoder.
///
/// Decoded from a Hugging Face `config.json` (`model_type` `gemma3_text` or `gemma2`; transformers 5
/// nests RoPE bases per layer type in `rope_parameters`, 4.x writes `rope_theta` and
/// `rope_local_base_freq`), or filled from GGUF `gemma3.*` metadata by ``GemmaGGUF``.
public struct GemmaConfig: Sendable, Equatable {
    /// Which Gemma: 2 (soft-capping, no q/k norms) or 3 (q/k norms, two RoPE bases).
    public enum Generation: String, Sendable {
        case gemma2, gemma3
    }

    /// Whether a layer attends to a sliding window of keys or to all of them.
    public enum LayerType: String, Sendable {
        case sliding = "sliding_attention"
        case full = "full_attention"
    }

    public var generation: Generation
    /// `d_model`.
    public var hiddenSize: Int
    /// `d_mlp`: width of the GeGLU gate and up projections.
    public var intermediateSize: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var numHiddenLayers: Int
    public var headDim: Int
    public var rmsNormEps: Float
    public var vocabSize: Int
    public var maxPositionEmbeddings: Int
    /// Scores are `q·k · query_pre_attn_scalar^(−1/2)` (256 for Gemma 3 270M, equal to d_head there).
    public var queryPreAttnScalar: Float
    /// Keys a sliding layer's query sees (itself and the `W − 1` before it).
    public var slidingWindow: Int
    /// One entry per layer.
    public var layerTypes: [LayerType]
    /// RoPE base of full-attention layers.
    public var ropeTheta: Float
    /// RoPE base of sliding layers (Gemma 3: 10000; Gemma 2 uses `ropeTheta` everywhere).
    public var ropeLocalTheta: Float
    /// Gemma 2: scores become `cap · tanh(scores / cap)` before the mask.
    public var attnLogitSoftcapping: Float?
    /// Gemma 2: logits become `cap · tanh(logits / cap)`.
    public var finalLogitSoftcapping: Float?
    public var tieWordEmbeddings: Bool
    /// The gate's activation (`gelu_pytorch_tanh`).
    public var hiddenActivation: Activation

    /// Gemma 3 normalizes queries and keys per head before RoPE.
    public var hasQKNorm: Bool { generation == .gemma3 }
    /// Query heads per key/value head.
    public var groupSize: Int { numAttentionHeads / numKeyValueHeads }

    public init(generation: Generation, hiddenSize: Int, intermediateSize: Int, numAttentionHeads: Int,
                numKeyValueHeads: Int, numHiddenLayers: Int, headDim: Int, rmsNormEps: Float, vocabSize: Int,
                maxPositionEmbeddings: Int, queryPreAttnScalar: Float, slidingWindow: Int, layerTypes: [LayerType],
                ropeTheta: Float, ropeLocalTheta: Float, attnLogitSoftcapping: Float? = nil,
                finalLogitSoftcapping: Float? = nil, tieWordEmbeddings: Bool = true,
                hiddenActivation: Activation = .geluTanh) {
        self.generation = generation
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.numHiddenLayers = numHiddenLayers
        self.headDim = headDim
        self.rmsNormEps = rmsNormEps
        self.vocabSize = vocabSize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.queryPreAttnScalar = queryPreAttnScalar
        self.slidingWindow = slidingWindow
        self.layerTypes = layerTypes
        self.ropeTheta = ropeTheta
        self.ropeLocalTheta = ropeLocalTheta
        self.attnLogitSoftcapping = attnLogitSoftcapping
        self.finalLogitSoftcapping = finalLogitSoftcapping
        self.tieWordEmbeddings = tieWordEmbeddings
        self.hiddenActivation = hiddenActivation
    }

    /// Gemma 3's layer pattern: every `period`-th layer global, the others sliding.
    public static func layerTypes(count: Int, period: Int) -> [LayerType] {
        (0..<count).map { period > 0 && ($0 + 1) % period == 0 ? .full : .sliding }
    }

    /// Reads a Hugging Face `config.json` (strictly, through ``ConfigFile``).
    /// - Throws: ``StepwiseError`` naming the file and the key that is missing, mistyped or unsupported.
    public init(configPath: String) throws {
        try self.init(json: ConfigFile.read(configPath), source: configPath)
    }

    /// Decodes a `config.json` tree.
    init(json root: JSONValue, source: String) throws {
        guard case .object(let c) = root else { throw StepwiseError.file(source, "is not a JSON object") }
        func fail(_ what: String) -> StepwiseError { StepwiseError.file(source, what) }
        func int(_ key: String, default d: Int? = nil) throws -> Int {
            guard let v = c[key], v != .null else {
                if let d { return d }
                throw fail("has no '\(key)'")
            }
            guard let i = v.int else { throw fail("'\(key)' is \(v.shown), expected a whole number") }
            return i
        }
        func float(_ key: String, in obj: JSONObject? = nil) throws -> Float? {
            guard let v = (obj ?? c)[key], v != .null else { return nil }
            guard case .number(let n) = v, n.double.isFinite else { throw fail("'\(key)' is \(v.shown), expected a number") }
            return Float(n.double)
        }
        let type = c["model_type"]?.string ?? ""
        switch type {
        case "gemma3_text", "gemma3": generation = .gemma3
        case "gemma2": generation = .gemma2
        default: throw StepwiseError(.unsupported, "\(source): model_type '\(type)' is not a Gemma 2 or Gemma 3 text model")
        }
        hiddenSize = try int("hidden_size")
        intermediateSize = try int("intermediate_size")
        numAttentionHeads = try int("num_attention_heads")
        numKeyValueHeads = try int("num_key_value_heads", default: numAttentionHeads)
        numHiddenLayers = try int("num_hidden_layers")
        headDim = try int("head_dim", default: numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        rmsNormEps = try float("rms_norm_eps") ?? 1e-6
        vocabSize = try int("vocab_size")
        maxPositionEmbeddings = try int("max_position_embeddings", default: 8192)
        queryPreAttnScalar = try float("query_pre_attn_scalar") ?? Float(headDim)
        slidingWindow = try int("sliding_window", default: 4096)
        attnLogitSoftcapping = try float("attn_logit_softcapping")
        finalLogitSoftcapping = try float("final_logit_softcapping")
        tieWordEmbeddings = c["tie_word_embeddings"]?.bool ?? true
        let act = c["hidden_activation"]?.string ?? c["hidden_act"]?.string ?? "gelu_pytorch_tanh"
        guard let activation = Activation(huggingFaceName: act) else {
            throw StepwiseError(.unsupported, "\(source): hidden_activation '\(act)' is not supported")
        }
        hiddenActivation = activation
        if case .array(let types)? = c["layer_types"] {
            layerTypes = try types.enumerated().map { i, t in
                guard let s = t.string, let lt = LayerType(rawValue: s) else {
                    throw fail("layer_types[\(i)] is \(t.shown), expected \"sliding_attention\" or \"full_attention\"")
                }
                return lt
            }
        } else if generation == .gemma2 {
            // transformers' Gemma 2: even layers slide, odd layers see everything.
            layerTypes = (0..<max(numHiddenLayers, 0)).map { $0 % 2 == 0 ? .sliding : .full }
        } else {
            let period = try int("sliding_window_pattern", default: try int("_sliding_window_pattern", default: 6))
            layerTypes = Self.layerTypes(count: max(numHiddenLayers, 0), period: period)
        }
        // RoPE: transformers 5 nests a base per layer type; 4.x writes rope_theta and rope_local_base_freq.
        var global = try float("rope_theta"), local = try float("rope_local_base_freq")
        if case .object(let nested)? = c["rope_parameters"] {
            for (key, target) in [("full_attention", 0), ("sliding_attention", 1)] {
                guard case .object(let p)? = nested[key] else { continue }
                if let t = p["rope_type"]?.string, t != "default" {
                    throw StepwiseError(.unsupported, "\(source): rope_type '\(t)' for \(key) is not supported (only the default RoPE)")
                }
                if target == 0 { global = try float("rope_theta", in: p) ?? global } else { local = try float("rope_theta", in: p) ?? local }
            }
            if nested["rope_theta"] != nil { global = try float("rope_theta", in: nested) ?? global }
            if let t = nested["rope_type"]?.string, t != "default" {
                throw StepwiseError(.unsupported, "\(source): rope_type '\(t)' is not supported (only the default RoPE)")
            }
        }
        if case .object(let scaling)? = c["rope_scaling"], let t = scaling["rope_type"]?.string ?? scaling["type"]?.string, t != "default" {
            throw StepwiseError(.unsupported, "\(source): rope_scaling '\(t)' is not supported (only the default RoPE)")
        }
        ropeTheta = global ?? 10000
        ropeLocalTheta = generation == .gemma2 ? ropeTheta : (local ?? 10000)
    }

    /// Checks that the sizes fit together.
    /// - Throws: ``StepwiseError`` naming `source` and the first inconsistency.
    public func validate(source: String) throws {
        func fail(_ what: String) -> StepwiseError { StepwiseError.file(source, what) }
        let sizes = [("hidden_size", hiddenSize, 65_536), ("intermediate_size", intermediateSize, 1_000_000),
                     ("num_attention_heads", numAttentionHeads, 1024), ("num_key_value_heads", numKeyValueHeads, 1024),
                     ("num_hidden_layers", numHiddenLayers, 1024), ("head_dim", headDim, 65_536),
                     ("vocab_size", vocabSize, 10_000_000), ("max_position_embeddings", maxPositionEmbeddings, 100_000_000),
                     ("sliding_window", slidingWindow, 100_000_000)]
        for (name, v, _) in sizes where v <= 0 { throw fail("\(name) is \(v); it must be positive") }
        for (name, v, max) in sizes where v > max { throw fail("\(name) is \(v); more than \(max) is impossible") }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw fail("\(numAttentionHeads) attention heads are not a multiple of \(numKeyValueHeads) key/value heads")
        }
        guard headDim % 2 == 0 else { throw fail("head_dim \(headDim) is odd; RoPE rotates pairs") }
        guard layerTypes.count == numHiddenLayers else {
            throw fail("layer_types has \(layerTypes.count) entries for \(numHiddenLayers) layers")
        }
        for (name, v) in [("rms_norm_eps", rmsNormEps), ("rope_theta", ropeTheta), ("rope_local_base_freq", ropeLocalTheta),
                          ("query_pre_attn_scalar", queryPreAttnScalar)] where !(v > 0 && v.isFinite) {
            throw fail("\(name) is \(v); it must be a positive number")
        }
        for (name, v) in [("attn_logit_softcapping", attnLogitSoftcapping), ("final_logit_softcapping", finalLogitSoftcapping)] {
            if let v, !(v > 0 && v.isFinite) { throw fail("\(name) is \(v); it must be a positive number or null") }
        }
    }
}
