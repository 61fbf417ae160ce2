import Foundation

/// The hyperparameters of a T5 encoder-decoder: T5 v1.0 (ReLU MLP, LM head tied to the shared embedding
/// and fed the decoder output times `d_model^(−1/2)`) and v1.1 / Flan-T5 (gated-GELU MLP, a separate LM head).
///
/// Decoded from a Hugging Face `config.json` (`model_type` `t5`) as transformers' `T5Config` reads it:
/// absent optional fields take its defaults (`num_decoder_layers` = `num_layers`, 32 buckets up to distance
/// 128, ε 1e-6, `relu`, tied embeddings, `<pad>` = 0, `</s>` = 1), and the keys transformers 5 writes when
/// it saves a config (`dense_act_fn`, `is_gated_act`, `scale_decoder_outputs`) win over what it derives.
public struct T5Config: Sendable, Equatable {
    /// `d_model`: the width of the residual stream.
    public var dModel: Int
    /// `d_kv`: each head's query, key and value size; `d_kv · num_heads` need not be `d_model`.
    public var dKV: Int
    /// `d_ff`: the MLP's hidden width.
    public var dFF: Int
    /// Encoder blocks.
    public var numLayers: Int
    /// Decoder blocks.
    public var numDecoderLayers: Int
    public var numHeads: Int
    /// Buckets of the relative position bias (half per direction in the bidirectional encoder).
    public var relativeAttentionNumBuckets: Int
    /// Distances at or beyond this share the last bucket.
    public var relativeAttentionMaxDistance: Int
    public var layerNormEpsilon: Float
    /// `relu` (v1.0) or `gated-gelu` (v1.1, Flan-T5): `{act}` or `gated-{act}`.
    public var feedForwardProj: String
    /// The MLP's activation (`gated-gelu` means `gelu_new`, the tanh approximation, as in transformers).
    public var activation: Activation
    /// `DenseGatedActDense` (`act(wi_0 x) ⊙ wi_1 x`) rather than `DenseReluDense` (`act(wi x)`).
    public var isGatedAct: Bool
    /// `tie_word_embeddings`: true for v1.0, false for v1.1 and Flan-T5.
    public var tieWordEmbeddings: Bool
    /// Multiply the decoder output by `d_model^(−1/2)` before the LM head (v1.0's tied head).
    public var scaleDecoderOutputs: Bool
    public var vocabSize: Int
    /// The id the decoder starts from (`<pad>`, 0, in T5).
    public var decoderStartTokenID: Int
    /// Ids that end generation (`</s>`, 1).
    public var eosTokenIDs: [Int]
    public var padTokenID: Int?

    /// Reads a Hugging Face `config.json` (strictly, through ``ConfigFile``) and checks it.
    /// - Throws: ``StepwiseError`` naming the file and the field that is missing, mistyped or impossible.
    public init(configPath: String) throws {
        try self.init(json: ConfigFile.read(configPath), source: configPath)
        try validate(source: configPath)
    }

    /// Decodes a `config.json` tree.
    init(json root: JSONValue, source: String) throws {
        guard case .object(let c) = root else { throw StepwiseError.file(source, "is not a JSON object") }
        func fail(_ what: String) -> StepwiseError { StepwiseError.file(source, what) }
        func present(_ key: String) -> JSONValue? {
            guard let v = c[key], v != .null else { return nil }
            return v
        }
        func int(_ key: String, default d: Int? = nil) throws -> Int {
            guard let v = present(key) else {
                if let d { return d }
                throw fail("has no '\(key)' (is this a T5 config?)")
            }
            guard let i = v.int else { throw fail("'\(key)' is \(v.shown), expected a whole number") }
            return i
        }
        func bool(_ key: String) throws -> Bool? {
            guard let v = present(key) else { return nil }
            guard let b = v.bool else { throw fail("'\(key)' is \(v.shown), expected true or false") }
            return b
        }
        let type = c["model_type"]?.string ?? ""
        guard type == "t5" else {
            throw StepwiseError(.unsupported, "\(source): model_type '\(type)' is not a T5 model")
        }
        dModel = try int("d_model")
        dKV = try int("d_kv")
        dFF = try int("d_ff")
        numLayers = try int("num_layers")
        numDecoderLayers = try int("num_decoder_layers", default: numLayers)
        numHeads = try int("num_heads")
        relativeAttentionNumBuckets = try int("relative_attention_num_buckets", default: 32)
        relativeAttentionMaxDistance = try int("relative_attention_max_distance", default: 128)
        vocabSize = try int("vocab_size")
        if let v = present("layer_norm_epsilon") {
            guard case .number(let n) = v, n.double.isFinite else { throw fail("'layer_norm_epsilon' is \(v.shown), expected a number") }
            layerNormEpsilon = Float(n.double)
        } else {
            layerNormEpsilon = 1e-6
        }

        // transformers: "{act}" or "gated-{act}"; "gated-gelu" runs gelu_new for backward compatibility.
        let proj: String
        if let v = present("feed_forward_proj") {
            guard let s = v.string else { throw fail("'feed_forward_proj' is \(v.shown), expected a string such as \"relu\" or \"gated-gelu\"") }
            proj = s
        } else {
            proj = "relu"
        }
        let parts = proj.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard (parts.count == 1 || (parts.count == 2 && parts[0] == "gated")), !parts.last!.isEmpty else {
            throw fail("'feed_forward_proj' is \"\(proj)\"; it must be \"{activation}\" or \"gated-{activation}\", e.g. \"relu\" or \"gated-gelu\"")
        }
        feedForwardProj = proj
        var actName = proj == "gated-gelu" ? "gelu_new" : parts.last!
        if let v = present("dense_act_fn") {
            guard let s = v.string else { throw fail("'dense_act_fn' is \(v.shown), expected a string") }
            actName = s
        }
        guard let act = Activation(huggingFaceName: actName) else {
            throw StepwiseError(.unsupported, "\(source): the MLP activation '\(actName)' (from feed_forward_proj \"\(proj)\") is not supported (relu, gelu, gelu_new, silu)")
        }
        activation = act
        isGatedAct = try bool("is_gated_act") ?? (parts[0] == "gated" && parts.count == 2)

        // transformers 5 always ties the weights in memory but scales the decoder output only when the
        // config does not say tie_word_embeddings false (its scale_decoder_outputs, when written, wins).
        tieWordEmbeddings = try bool("tie_word_embeddings") ?? true
        scaleDecoderOutputs = try bool("scale_decoder_outputs") ?? tieWordEmbeddings

        decoderStartTokenID = try int("decoder_start_token_id")
        if let v = present("eos_token_id") {
            if let i = v.int {
                eosTokenIDs = [i]
            } else if let a = v.array, !a.isEmpty, a.allSatisfy({ $0.int != nil }) {
                eosTokenIDs = a.map { $0.int! }
            } else {
                throw fail("'eos_token_id' is \(v.shown), expected a token id or a list of them")
            }
        } else {
            eosTokenIDs = [1]
        }
        // transformers' default is 0; null says there is none.
        if c["pad_token_id"] == nil {
            padTokenID = 0
        } else {
            padTokenID = present("pad_token_id") == nil ? nil : try int("pad_token_id")
        }
    }

    /// Checks that the sizes are possible and fit together.
    /// - Throws: ``StepwiseError`` naming `source` and the first bad field.
    public func validate(source: String) throws {
        func fail(_ what: String) -> StepwiseError { StepwiseError.file(source, what) }
        let sizes = [("d_model", dModel, 65_536), ("d_kv", dKV, 65_536), ("d_ff", dFF, 1_000_000),
                     ("num_layers", numLayers, 1024), ("num_decoder_layers", numDecoderLayers, 1024),
                     ("num_heads", numHeads, 1024), ("relative_attention_num_buckets", relativeAttentionNumBuckets, 100_000),
                     ("relative_attention_max_distance", relativeAttentionMaxDistance, 100_000_000),
                     ("vocab_size", vocabSize, 10_000_000)]
        for (name, v, _) in sizes where v <= 0 { throw fail("\(name) is \(v); it must be positive") }
        for (name, v, max) in sizes where v > max { throw fail("\(name) is \(v); more than \(max) is impossible") }
        guard dKV * numHeads <= 1 << 20 else {
            throw fail("d_kv \(dKV) × num_heads \(numHeads) is \(dKV * numHeads); more than \(1 << 20) is impossible")
        }
        // The encoder's buckets are split in two halves, each with an exact half below max_exact.
        guard relativeAttentionNumBuckets >= 4 else {
            throw fail("relative_attention_num_buckets is \(relativeAttentionNumBuckets); T5's buckets need at least 4 (an exact and a logarithmic part per direction)")
        }
        // The decoder's exact buckets are the first half; the logarithmic ones divide by log(max_distance / that).
        let maxExact = relativeAttentionNumBuckets / 2
        guard relativeAttentionMaxDistance > maxExact else {
            throw fail("relative_attention_max_distance is \(relativeAttentionMaxDistance); it must exceed \(maxExact), the decoder's exact buckets (relative_attention_num_buckets / 2)")
        }
        guard layerNormEpsilon > 0, layerNormEpsilon.isFinite else {
            throw fail("layer_norm_epsilon is \(layerNormEpsilon); it must be a positive number")
        }
        var ids: [(String, Int)] = [("decoder_start_token_id", decoderStartTokenID)]
        ids += eosTokenIDs.map { ("eos_token_id", $0) }
        if let padTokenID { ids.append(("pad_token_id", padTokenID)) }
        for (name, id) in ids where !(0..<vocabSize).contains(id) {
            throw fail("\(name) is \(id); it must be a token id below vocab_size \(vocabSize)")
        }
    }
}
