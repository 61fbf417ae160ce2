import Foundation

/// The hyperparameters of a Llama-family decoder (Llama 2/3, SmolLM2, Mistral, Qwen2, Qwen3, ...).
///
/// Decodes a Hugging Face `config.json` (`rope_theta` may sit at the top level or, in transformers 5
/// configs, inside `rope_parameters`); `model_type` picks the ``Variant``, which says what the config's
/// flags mean (Qwen2 always has q/k/v biases, Qwen3 q/k norms, Mistral a sliding window). Or it is filled
/// from GGUF `llama.*` metadata with
/// ``init(blockCount:embeddingLength:feedForwardLength:headCount:headCountKV:rmsEpsilon:ropeFreqBase:contextLength:ropeDimensionCount:vocabularySize:tieWordEmbeddings:)``.
public struct LlamaConfig: Codable, Sendable, Equatable {
    /// `d_model`.
    public var hiddenSize: Int
    /// `d_mlp`: width of the SwiGLU gate and up projections.
    public var intermediateSize: Int
    /// Query heads.
    public var numAttentionHeads: Int
    /// Key/value heads (fewer than query heads under grouped-query attention).
    public var numKeyValueHeads: Int
    public var numHiddenLayers: Int
    public var rmsNormEps: Float
    /// RoPE base θ: pair `i` of a head rotates by `position · θ^(−2i/d_rot)`.
    public var ropeTheta: Float
    public var maxPositionEmbeddings: Int
    public var vocabSize: Int
    /// True when the LM head reuses the token embedding matrix.
    public var tieWordEmbeddings: Bool
    /// Width of one head; nil means `hiddenSize / numAttentionHeads`.
    public var headDimension: Int?
    /// Dimensions of each head that RoPE rotates (GGUF `rope.dimension_count`); nil means all of them.
    public var ropeDimensionCount: Int?

    // MARK: Variant flags

    /// The checkpoint family within the Llama architecture: `model_type` of a Hugging Face config, or
    /// GGUF `general.architecture`.
    public enum Variant: String, Sendable, CaseIterable {
        /// transformers' `LlamaForCausalLM`: optional `attention_bias` (q, k, v, o) and `mlp_bias`.
        case llama
        /// `MistralForCausalLM`: no biases; attention may slide over the last `sliding_window` keys.
        case mistral
        /// `Qwen2ForCausalLM`: biases on q, k and v (never on o), no MLP biases.
        case qwen2
        /// `Qwen3ForCausalLM`: an RMSNorm over each head of q and of k before RoPE; `attention_bias` optional.
        case qwen3
    }

    public var variant: Variant = .llama
    /// Biases on the q, k and v projections.
    public var queryKeyValueBias = false
    /// A bias on the output projection o.
    public var outputBias = false
    /// Biases on the gate, up and down projections.
    public var mlpBias = false
    /// RMSNorm (eps `rmsNormEps`, one weight per head dimension) over every q and k head before RoPE.
    public var queryKeyNorm = false
    /// How many keys a query of a sliding layer sees, itself included (`kv > q − window`); nil: all earlier keys.
    public var slidingWindow: Int?
    /// Which layers slide, when not all do (transformers' `layer_types`); nil: every layer, when
    /// `slidingWindow` is set.
    public var slidingLayers: [Bool]?

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case numHiddenLayers = "num_hidden_layers"
        case rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case ropeParameters = "rope_parameters"
        case maxPositionEmbeddings = "max_position_embeddings"
        case vocabSize = "vocab_size"
        case tieWordEmbeddings = "tie_word_embeddings"
        case headDimension = "head_dim"
        case ropeDimensionCount = "rope_dimension_count"
        case modelType = "model_type"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case slidingWindow = "sliding_window"
        case useSlidingWindow = "use_sliding_window"
        case maxWindowLayers = "max_window_layers"
        case layerTypes = "layer_types"
        case ropeScaling = "rope_scaling"
    }

    /// transformers 4 configs: `"rope_scaling": {"type": "linear", "factor": 2.0}` (or null).
    struct RopeScaling: Codable, Equatable {
        var type: String?
        var ropeType: String?
        enum CodingKeys: String, CodingKey {
            case type
            case ropeType = "rope_type"
        }
    }

    /// transformers 5 nests RoPE settings: `"rope_parameters": {"rope_theta": 100000.0, "rope_type": "default"}`.
    struct RopeParameters: Codable, Equatable {
        var ropeTheta: Float?
        var ropeType: String?
        enum CodingKeys: String, CodingKey {
            case ropeTheta = "rope_theta"
            case ropeType = "rope_type"
        }
    }

    /// Creates a config from explicit values (Hugging Face names).
    public init(hiddenSize: Int, intermediateSize: Int, numAttentionHeads: Int, numKeyValueHeads: Int,
                numHiddenLayers: Int, rmsNormEps: Float, ropeTheta: Float, maxPositionEmbeddings: Int,
                vocabSize: Int, tieWordEmbeddings: Bool, headDimension: Int? = nil, ropeDimensionCount: Int? = nil) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.numHiddenLayers = numHiddenLayers
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.vocabSize = vocabSize
        self.tieWordEmbeddings = tieWordEmbeddings
        self.headDimension = headDimension
        self.ropeDimensionCount = ropeDimensionCount
    }

    /// Creates a config from GGUF `llama.*` metadata.
    ///
    /// - Parameters:
    ///   - blockCount: `llama.block_count`.
    ///   - embeddingLength: `llama.embedding_length`.
    ///   - feedForwardLength: `llama.feed_forward_length`.
    ///   - headCount: `llama.attention.head_count`.
    ///   - headCountKV: `llama.attention.head_count_kv` (equal to `headCount` when the file omits it).
    ///   - rmsEpsilon: `llama.attention.layer_norm_rms_epsilon`.
    ///   - ropeFreqBase: `llama.rope.freq_base` (10000 when the file omits it).
    ///   - contextLength: `llama.context_length`.
    ///   - ropeDimensionCount: `llama.rope.dimension_count`, nil when absent.
    ///   - vocabularySize: rows of `token_embd.weight` (or `llama.vocab_size`).
    ///   - tieWordEmbeddings: true when the file has no `output.weight`.
    public init(blockCount: Int, embeddingLength: Int, feedForwardLength: Int, headCount: Int, headCountKV: Int? = nil,
                rmsEpsilon: Float, ropeFreqBase: Float? = nil, contextLength: Int, ropeDimensionCount: Int? = nil,
                vocabularySize: Int, tieWordEmbeddings: Bool) {
        self.init(hiddenSize: embeddingLength, intermediateSize: feedForwardLength, numAttentionHeads: headCount,
                  numKeyValueHeads: headCountKV ?? headCount, numHiddenLayers: blockCount, rmsNormEps: rmsEpsilon,
                  ropeTheta: ropeFreqBase ?? 10000, maxPositionEmbeddings: contextLength, vocabSize: vocabularySize,
                  tieWordEmbeddings: tieWordEmbeddings, headDimension: nil, ropeDimensionCount: ropeDimensionCount)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        rmsNormEps = try c.decodeIfPresent(Float.self, forKey: .rmsNormEps) ?? 1e-6
        let nested = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        if let type = nested?.ropeType, type != "default" {
            throw DecodingError.dataCorruptedError(forKey: .ropeParameters, in: c,
                debugDescription: "rope_type '\(type)' is not supported (only the default RoPE)")
        }
        if let scaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling),
           let type = scaling.ropeType ?? scaling.type, type != "default" {
            throw DecodingError.dataCorruptedError(forKey: .ropeScaling, in: c,
                debugDescription: "rope_scaling type '\(type)' is not supported (only the default RoPE)")
        }
        ropeTheta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? nested?.ropeTheta ?? 10000
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        headDimension = try c.decodeIfPresent(Int.self, forKey: .headDimension)
        ropeDimensionCount = try c.decodeIfPresent(Int.self, forKey: .ropeDimensionCount)

        // What the flags mean depends on the variant, as in transformers' modeling files.
        let type = try c.decodeIfPresent(String.self, forKey: .modelType) ?? "llama"
        guard let v = Variant(rawValue: type) else {
            throw DecodingError.dataCorruptedError(forKey: .modelType, in: c,
                debugDescription: "model_type '\(type)' is not a Llama-family type (\(Variant.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        variant = v
        let attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
        let window = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
        switch v {
        case .llama:
            (queryKeyValueBias, outputBias) = (attentionBias, attentionBias)
            mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? false
        case .mistral:
            // MistralAttention has no biases and slides every layer when sliding_window is set.
            slidingWindow = window
        case .qwen2, .qwen3:
            if v == .qwen2 {
                queryKeyValueBias = true
            } else {
                (queryKeyValueBias, outputBias, queryKeyNorm) = (attentionBias, attentionBias, true)
                headDimension = headDimension ?? 128  // Qwen3Config's default
            }
            // The window applies only with use_sliding_window, on the layers layer_types (or
            // max_window_layers) marks as sliding.
            if try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow) ?? false, let window {
                slidingWindow = window
                if let types = try c.decodeIfPresent([String].self, forKey: .layerTypes) {
                    slidingLayers = types.map { $0 == "sliding_attention" }
                } else {
                    let first = try c.decodeIfPresent(Int.self, forKey: .maxWindowLayers) ?? 28
                    slidingLayers = (0..<numHiddenLayers).map { $0 >= first }
                }
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(RopeParameters(ropeTheta: ropeTheta, ropeType: "default"), forKey: .ropeParameters)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encodeIfPresent(headDimension, forKey: .headDimension)
        try c.encodeIfPresent(ropeDimensionCount, forKey: .ropeDimensionCount)
        // The variant's own flags; combinations only a GGUF file can hold (a q bias without an o bias
        // on a llama) are written as the nearest config transformers knows.
        try c.encode(variant.rawValue, forKey: .modelType)
        switch variant {
        case .llama:
            try c.encode(queryKeyValueBias, forKey: .attentionBias)
            try c.encode(mlpBias, forKey: .mlpBias)
        case .mistral:
            try c.encodeIfPresent(slidingWindow, forKey: .slidingWindow)
        case .qwen2, .qwen3:
            if variant == .qwen3 { try c.encode(queryKeyValueBias, forKey: .attentionBias) }
            try c.encode(slidingWindow != nil, forKey: .useSlidingWindow)
            try c.encodeIfPresent(slidingWindow, forKey: .slidingWindow)
            if slidingWindow != nil {
                try c.encode((0..<numHiddenLayers).map { window(layer: $0) != nil ? "sliding_attention" : "full_attention" },
                             forKey: .layerTypes)
            }
        }
    }

    // MARK: - Derived sizes

    /// Width of one attention head.
    public var headDim: Int { headDimension ?? hiddenSize / numAttentionHeads }
    /// Query heads per key/value head.
    public var groupSize: Int { numAttentionHeads / numKeyValueHeads }

    /// The sliding window of layer `layer`, nil when it attends to every earlier key.
    public func window(layer: Int) -> Int? {
        guard let slidingWindow else { return nil }
        guard let slidingLayers else { return slidingWindow }
        return slidingLayers.indices.contains(layer) && slidingLayers[layer] ? slidingWindow : nil
    }

    /// What sets this variant apart from a plain Llama, for `info`: `qwen2: q/k/v biases`.
    public var variantDescription: String {
        var parts: [String] = []
        if queryKeyValueBias && outputBias { parts.append("q/k/v/o biases") }
        else if queryKeyValueBias { parts.append("q/k/v biases") }
        else if outputBias { parts.append("an o bias") }
        if mlpBias { parts.append("gate/up/down biases") }
        if queryKeyNorm { parts.append("q/k RMSNorm per head before RoPE") }
        if let w = slidingWindow {
            let n = (0..<numHiddenLayers).filter { window(layer: $0) != nil }.count
            parts.append("sliding window of \(w) keys" + (n == numHiddenLayers ? "" : " on \(n) of \(numHiddenLayers) layers"))
        }
        return variant.rawValue + ": " + (parts.isEmpty ? "no biases" : parts.joined(separator: ", "))
    }

    /// Checks that the sizes fit together.
    /// - Throws: ``StepwiseError`` naming `source` and the first inconsistency.
    public func validate(source: String) throws {
        func fail(_ what: String) -> StepwiseError { StepwiseError.file(source, what) }
        // Upper bounds keep products such as heads × head_dim from overflowing (a crash, not an error)
        // and refuse sizes no checkpoint has before anything is allocated.
        let sizes = [("hidden_size", hiddenSize, 65_536), ("intermediate_size", intermediateSize, 1_000_000),
                     ("num_attention_heads", numAttentionHeads, 1024), ("num_key_value_heads", numKeyValueHeads, 1024),
                     ("num_hidden_layers", numHiddenLayers, 1024), ("vocab_size", vocabSize, 10_000_000),
                     ("max_position_embeddings", maxPositionEmbeddings, 100_000_000)]
        for (name, v, _) in sizes where v <= 0 { throw fail("\(name) is \(v); it must be positive") }
        for (name, v, max) in sizes where v > max { throw fail("\(name) is \(v); more than \(max) is impossible") }
        // Checked after the head count, which it may divide by.
        guard headDim > 0 else { throw fail("head_dim is \(headDim); it must be positive") }
        guard headDim <= 65_536 else { throw fail("head_dim is \(headDim); more than 65536 is impossible") }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw fail("\(numAttentionHeads) attention heads are not a multiple of \(numKeyValueHeads) key/value heads")
        }
        guard headDim % 2 == 0 else { throw fail("head_dim \(headDim) is odd; RoPE rotates pairs") }
        if let r = ropeDimensionCount, r != headDim {
            throw StepwiseError(.unsupported, "\(source): RoPE over \(r) of \(headDim) head dimensions (partial rotary) is not supported")
        }
        guard rmsNormEps > 0, rmsNormEps.isFinite, ropeTheta > 0, ropeTheta.isFinite else {
            throw fail("rms_norm_eps \(rmsNormEps) and rope_theta \(ropeTheta) must be positive")
        }
        if let w = slidingWindow, w <= 0 { throw fail("sliding_window is \(w); it must be positive") }
        if let s = slidingLayers, s.count != numHiddenLayers {
            throw fail("layer_types has \(s.count) entries for \(numHiddenLayers) layers")
        }
    }
}
