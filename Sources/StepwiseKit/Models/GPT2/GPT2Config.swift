import Foundation

/// The fields of a Hugging Face GPT-2 `config.json` that the forward pass needs.
///
/// Mirrors `transformers.GPT2Config`; absent optional fields take its defaults.
public struct GPT2Config: Codable, Sendable, Equatable {
    public var vocabSize: Int
    public var nPositions: Int
    public var nEmbd: Int
    public var nLayer: Int
    public var nHead: Int
    /// MLP width; nil means 4 · nEmbd.
    public var nInner: Int?
    public var activationFunction: String
    public var layerNormEpsilon: Float
    public var tieWordEmbeddings: Bool
    public var scaleAttnWeights: Bool
    public var scaleAttnByInverseLayerIdx: Bool
    public var bosTokenID: Int?
    public var eosTokenID: Int?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case nPositions = "n_positions"
        case nEmbd = "n_embd"
        case nLayer = "n_layer"
        case nHead = "n_head"
        case nInner = "n_inner"
        case activationFunction = "activation_function"
        case layerNormEpsilon = "layer_norm_epsilon"
        case tieWordEmbeddings = "tie_word_embeddings"
        case scaleAttnWeights = "scale_attn_weights"
        case scaleAttnByInverseLayerIdx = "scale_attn_by_inverse_layer_idx"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        nPositions = try c.decodeIfPresent(Int.self, forKey: .nPositions) ?? 1024
        nEmbd = try c.decode(Int.self, forKey: .nEmbd)
        nLayer = try c.decode(Int.self, forKey: .nLayer)
        nHead = try c.decode(Int.self, forKey: .nHead)
        nInner = try c.decodeIfPresent(Int.self, forKey: .nInner)
        activationFunction = try c.decodeIfPresent(String.self, forKey: .activationFunction) ?? "gelu_new"
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-5
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? true
        scaleAttnWeights = try c.decodeIfPresent(Bool.self, forKey: .scaleAttnWeights) ?? true
        scaleAttnByInverseLayerIdx = try c.decodeIfPresent(Bool.self, forKey: .scaleAttnByInverseLayerIdx) ?? false
        bosTokenID = try? c.decodeIfPresent(Int.self, forKey: .bosTokenID)
        eosTokenID = try? c.decodeIfPresent(Int.self, forKey: .eosTokenID)
    }

    /// Reads and checks `config.json`.
    /// - Throws: ``StepwiseError`` naming the file and the field that is missing or impossible.
    public static func load(_ path: String) throws -> GPT2Config {
        let data: Data
        do { data = try MappedFile.data(path: path) } catch {  // not Data(contentsOf:), which leaks on empty files
            throw StepwiseError.file(path, "cannot be read")
        }
        let config: GPT2Config
        do { config = try JSONDecoder().decode(GPT2Config.self, from: data) } catch let DecodingError.keyNotFound(key, _) {
            throw StepwiseError.file(path, "has no '\(key.stringValue)' (is this a GPT-2 config?)")
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
        guard (1...1_000_000).contains(vocabSize) else { throw bad("vocab_size \(vocabSize) is impossible") }
        guard (1...65_536).contains(nEmbd) else { throw bad("n_embd \(nEmbd) is impossible") }
        guard (1...1024).contains(nLayer) else { throw bad("n_layer \(nLayer) is impossible") }
        guard (1...1024).contains(nHead), nEmbd % nHead == 0 else { throw bad("n_head \(nHead) does not divide n_embd \(nEmbd)") }
        guard (1...1_000_000).contains(nPositions) else { throw bad("n_positions \(nPositions) is impossible") }
        guard (1...1_000_000).contains(dMLP) else { throw bad("n_inner \(dMLP) is impossible") }
        guard Activation(huggingFaceName: activationFunction) != nil else {
            throw StepwiseError(.unsupported, "\(path): activation_function '\(activationFunction)' is not supported (gelu, gelu_new, relu, silu)")
        }
        guard layerNormEpsilon.isFinite, layerNormEpsilon >= 0 else { throw bad("layer_norm_epsilon is not a finite number") }
    }

    public var dHead: Int { nEmbd / nHead }
    public var dMLP: Int { nInner ?? 4 * nEmbd }
}
