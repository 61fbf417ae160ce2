import Foundation

/// The hyperparameters of a BART-style encoder-decoder: BART itself (`model_type` `bart`) or Marian
/// (`marian`, the Opus-MT translation models), which transformers builds from the same layers with
/// sinusoidal positions, no embedding layer norm and, in its checkpoints, scaled embeddings.
///
/// Read strictly from a Hugging Face `config.json`; absent optional fields take transformers' defaults.
public struct BARTConfig: Sendable, Equatable {
    /// BART or Marian: how positions are made and whether the embeddings are layer-normalised.
    public enum Variant: String, Sendable {
        case bart, marian
    }

    public var variant: Variant
    public var vocabSize: Int
    public var dModel: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var encoderHeads: Int
    public var decoderHeads: Int
    public var encoderFFN: Int
    public var decoderFFN: Int
    public var activation: Activation
    public var activationName: String
    /// Positions each stack can read (BART's learned table has two more rows: its offset of 2).
    public var maxPositions: Int
    /// Token embeddings are multiplied by √d_model.
    public var scaleEmbedding: Bool
    /// The language-model head is the (decoder's) token embedding; else `lm_head.weight`.
    public var tieWordEmbeddings: Bool
    public var decoderStartTokenID: Int
    public var eosTokenID: Int?
    public var layerNormEps: Float = 1e-5

    /// BART's learned positions start at row 2 of their table (a fairseq legacy); Marian's sinusoids at 0.
    public var positionOffset: Int { variant == .bart ? 2 : 0 }
    /// BART layer-normalises the embedding sum (`layernorm_embedding`); Marian does not.
    public var hasEmbeddingNorm: Bool { variant == .bart }

    /// Reads and checks a Hugging Face `config.json`.
    /// - Throws: ``StepwiseError`` naming the file and the key that is missing, mistyped or unsupported.
    public init(configPath: String) throws {
        try self.init(json: ConfigFile.read(configPath), source: configPath)
        try validate(source: configPath)
    }

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
        func bool(_ key: String, default d: Bool) throws -> Bool {
            guard let v = c[key], v != .null else { return d }
            guard let b = v.bool else { throw fail("'\(key)' is \(v.shown), expected true or false") }
            return b
        }
        let type = c["model_type"]?.string ?? ""
        guard let variant = Variant(rawValue: type) else {
            throw StepwiseError(.unsupported, "\(source): model_type '\(type)' is not BART or Marian")
        }
        self.variant = variant
        vocabSize = try int("vocab_size")
        dModel = try int("d_model")
        encoderLayers = try int("encoder_layers")
        decoderLayers = try int("decoder_layers")
        encoderHeads = try int("encoder_attention_heads")
        decoderHeads = try int("decoder_attention_heads")
        encoderFFN = try int("encoder_ffn_dim")
        decoderFFN = try int("decoder_ffn_dim")
        maxPositions = try int("max_position_embeddings")
        scaleEmbedding = try bool("scale_embedding", default: false)
        tieWordEmbeddings = try bool("tie_word_embeddings", default: true)
        decoderStartTokenID = try int("decoder_start_token_id", default: variant == .bart ? 2 : try int("pad_token_id"))
        if let e = c["eos_token_id"], e != .null {
            guard let i = e.int else { throw fail("'eos_token_id' is \(e.shown), expected a whole number") }
            eosTokenID = i
        }
        activationName = c["activation_function"]?.string ?? "gelu"
        guard let act = Activation(huggingFaceName: activationName) else {
            throw StepwiseError(.unsupported, "\(source): activation_function '\(activationName)' is not supported (gelu, gelu_new, relu, silu/swish)")
        }
        activation = act
        // Variants transformers builds from the same file format, with layers this family does not have.
        for key in ["normalize_before", "add_final_layer_norm"] where try bool(key, default: false) {
            throw StepwiseError(.unsupported, "\(source): '\(key)' is true (an mBART-style pre-norm model); Stepwise's BART family is post-norm only")
        }
        if variant == .marian {
            let dv = try int("decoder_vocab_size", default: vocabSize)
            guard dv == vocabSize else {
                throw StepwiseError(.unsupported, "\(source): decoder_vocab_size \(dv) differs from vocab_size \(vocabSize); separate source and target vocabularies are not supported")
            }
            guard try bool("share_encoder_decoder_embeddings", default: true) else {
                throw StepwiseError(.unsupported, "\(source): share_encoder_decoder_embeddings is false; Marian models with separate embeddings are not supported")
            }
        }
    }

    /// Checks that the sizes fit together.
    func validate(source: String) throws {
        func fail(_ what: String) -> StepwiseError { StepwiseError.file(source, what) }
        let sizes = [("vocab_size", vocabSize, 10_000_000), ("d_model", dModel, 65_536),
                     ("encoder_layers", encoderLayers, 1024), ("decoder_layers", decoderLayers, 1024),
                     ("encoder_attention_heads", encoderHeads, 1024), ("decoder_attention_heads", decoderHeads, 1024),
                     ("encoder_ffn_dim", encoderFFN, 1_000_000), ("decoder_ffn_dim", decoderFFN, 1_000_000),
                     ("max_position_embeddings", maxPositions, 1_000_000)]
        for (name, v, _) in sizes where v <= 0 { throw fail("\(name) is \(v); it must be positive") }
        for (name, v, max) in sizes where v > max { throw fail("\(name) is \(v); more than \(max) is impossible") }
        for (name, h) in [("encoder_attention_heads", encoderHeads), ("decoder_attention_heads", decoderHeads)] where dModel % h != 0 {
            throw fail("\(name) \(h) does not divide d_model \(dModel)")
        }
        guard (0..<vocabSize).contains(decoderStartTokenID) else {
            throw fail("decoder_start_token_id \(decoderStartTokenID) is outside the vocabulary (0..<\(vocabSize))")
        }
        if let e = eosTokenID, !(0..<vocabSize).contains(e) {
            throw fail("eos_token_id \(e) is outside the vocabulary (0..<\(vocabSize))")
        }
    }
}
