import Foundation

/// The fields of a Hugging Face BERT `config.json` that the forward pass needs.
///
/// Mirrors `transformers.BertConfig`; absent optional fields take its defaults.
public struct BERTConfig: Codable, Sendable, Equatable {
    /// Must be `bert`.
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct: String
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    /// Only `absolute` (learned position rows) is supported.
    public var positionEmbeddingType: String
    public var padTokenID: Int?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings"
        case typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps"
        case positionEmbeddingType = "position_embedding_type"
        case padTokenID = "pad_token_id"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? "bert"
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? 4 * hiddenSize
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 512
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 2
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-12
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? "absolute"
        padTokenID = try? c.decodeIfPresent(Int.self, forKey: .padTokenID)
    }

    /// Reads and checks `config.json`.
    /// - Throws: ``StepwiseError`` naming the file and the field that is missing, impossible or unsupported.
    public static func load(_ path: String) throws -> BERTConfig {
        let data: Data
        do { data = try MappedFile.data(path: path) } catch {  // not Data(contentsOf:), which leaks on empty files
            throw StepwiseError.file(path, "cannot be read")
        }
        let config: BERTConfig
        do { config = try JSONDecoder().decode(BERTConfig.self, from: data) } catch let DecodingError.keyNotFound(key, _) {
            throw StepwiseError.file(path, "has no '\(key.stringValue)' (is this a BERT config?)")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw StepwiseError.file(path, "field '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw StepwiseError.file(path, "is not valid JSON")
        }
        try config.validate(path)
        return config
    }

    func validate(_ path: String) throws {
        func bad(_ what: String) -> StepwiseError { StepwiseError.file(path, what) }
        guard modelType == "bert" else {
            throw StepwiseError(.unsupported, "\(path): model_type is '\(modelType)', expected 'bert'")
        }
        guard (1...1_000_000).contains(vocabSize) else { throw bad("vocab_size \(vocabSize) is impossible") }
        guard (1...65_536).contains(hiddenSize) else { throw bad("hidden_size \(hiddenSize) is impossible") }
        guard (1...1024).contains(numHiddenLayers) else { throw bad("num_hidden_layers \(numHiddenLayers) is impossible") }
        guard (1...1024).contains(numAttentionHeads), hiddenSize % numAttentionHeads == 0 else {
            throw bad("num_attention_heads \(numAttentionHeads) does not divide hidden_size \(hiddenSize)")
        }
        guard (1...1_000_000).contains(intermediateSize) else { throw bad("intermediate_size \(intermediateSize) is impossible") }
        guard (1...1_000_000).contains(maxPositionEmbeddings) else { throw bad("max_position_embeddings \(maxPositionEmbeddings) is impossible") }
        guard (1...1024).contains(typeVocabSize) else { throw bad("type_vocab_size \(typeVocabSize) is impossible") }
        guard Activation(huggingFaceName: hiddenAct) != nil else {
            throw StepwiseError(.unsupported, "\(path): hidden_act '\(hiddenAct)' is not supported (gelu, gelu_new, relu, silu)")
        }
        guard positionEmbeddingType == "absolute" else {
            throw StepwiseError(.unsupported, "\(path): position_embedding_type '\(positionEmbeddingType)' is not supported (only absolute)")
        }
        guard layerNormEps.isFinite, layerNormEps >= 0 else { throw bad("layer_norm_eps is not a finite number") }
    }

    public var dHead: Int { hiddenSize / numAttentionHeads }
}
