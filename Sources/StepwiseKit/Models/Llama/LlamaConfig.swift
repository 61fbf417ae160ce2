import Foundation

/// The hyperparameters of a Llama-family decoder (Llama 2/3, SmolLM2, ...).
///
/// Decodes a Hugging Face `config.json` (`rope_theta` may sit at the top level or, in transformers 5
/// configs, inside `rope_parameters`), or is filled from GGUF `llama.*` metadata with
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
        ropeTheta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? nested?.ropeTheta ?? 10000
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        headDimension = try c.decodeIfPresent(Int.self, forKey: .headDimension)
        ropeDimensionCount = try c.decodeIfPresent(Int.self, forKey: .ropeDimensionCount)
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
    }

    // MARK: - Derived sizes

    /// Width of one attention head.
    public var headDim: Int { headDimension ?? hiddenSize / numAttentionHeads }
    /// Query heads per key/value head.
    public var groupSize: Int { numAttentionHeads / numKeyValueHeads }

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
    }
}
