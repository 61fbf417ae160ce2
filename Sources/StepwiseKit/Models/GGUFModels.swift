import Foundation

/// Builds a model and its tokenizer from a GGUF file's metadata and tensors.
public enum GGUFModels {
    /// The `general.architecture` values the Llama family reads, and the variant each one is.
    static let llamaArchitectures: [String: LlamaConfig.Variant] = ["llama": .llama, "qwen2": .qwen2, "qwen3": .qwen3]

    /// Loads a Llama-, Qwen2- or Qwen3-architecture GGUF (weights dequantized to float32, tokenizer from
    /// `tokenizer.ggml.*`). Keys are read under the architecture's prefix (`qwen2.block_count`). Qwen2
    /// files carry `blk.N.attn_{q,k,v}.bias`, Qwen3 files `blk.N.attn_{q,k}_norm.weight`; a llama file's
    /// optional biases (llama.cpp reads them when present) are read when layer 0 has them.
    /// - Throws: ``StepwiseError`` naming the file and the key or tensor that is missing or unsupported.
    public static func load(path: String) throws -> LlamaModel {
        try load(GGUFFile(path: path))
    }

    /// Loads a Llama-family model from a GGUF file already opened (so a caller that read
    /// `general.architecture` to choose the family does not open the file twice).
    public static func load(_ file: GGUFFile) throws -> LlamaModel {
        let path = file.path
        guard let arch = try file.text("general.architecture") else {
            throw StepwiseError.file(path, "has no general.architecture")
        }
        guard let variant = llamaArchitectures[arch] else {
            throw StepwiseError(.unsupported, "\(path): architecture '\(arch)' is not supported (\((llamaArchitectures.keys + ["gemma2", "gemma3"]).sorted().joined(separator: ", ")))")
        }
        func key(_ suffix: String) -> String { "\(arch).\(suffix)" }
        func int(_ suffix: String) throws -> Int {
            guard let v = try file.integer(key(suffix)) else {
                throw StepwiseError.file(path, "has no integer \(key(suffix))")
            }
            return v
        }
        // Cheap checks first: every size, and the vocabulary against the embedding, before the
        // tokenizer (a dictionary per piece) is built.
        let blockCount = try int("block_count"), embeddingLength = try int("embedding_length")
        let feedForward = try int("feed_forward_length"), headCount = try int("attention.head_count")
        let contextLength = try int("context_length")
        let headCountKV = try file.integer(key("attention.head_count_kv"))
        let rmsEpsilon = try file.number(key("attention.layer_norm_rms_epsilon")).map(Float.init) ?? 1e-5
        let ropeFreqBase = try file.number(key("rope.freq_base")).map(Float.init)
        let ropeDimensions = try file.integer(key("rope.dimension_count"))
        guard let vocab = file.arrayCount("tokenizer.ggml.tokens") else {
            throw StepwiseError.file(path, "has no tokenizer.ggml.tokens string array")
        }
        if let declared = try file.integer(key("vocab_size")), declared != vocab {
            throw StepwiseError.file(path, "\(key("vocab_size")) is \(declared) but tokenizer.ggml.tokens has \(vocab) tokens; the file contradicts itself")
        }
        guard let embed = file.ggufTensorInfo("token_embd.weight") else {
            throw StepwiseError.file(path, "has no tensor 'token_embd.weight'")
        }
        if embed.ne.count == 2, embed.ne[1] != vocab {
            throw StepwiseError.file(path, "tensor 'token_embd.weight' has \(embed.ne[1]) rows but tokenizer.ggml.tokens has \(vocab) tokens; the vocabulary does not belong to these weights")
        }
        // Qwen3 heads are wider than embedding_length / head_count: attention.key_length says how wide.
        let keyLength = try file.integer(key("attention.key_length"))
        let valueLength = try file.integer(key("attention.value_length"))
        if let keyLength, let valueLength, keyLength != valueLength {
            throw StepwiseError(.unsupported, "\(path): \(key("attention.key_length")) \(keyLength) differs from \(key("attention.value_length")) \(valueLength); heads of two widths are not supported")
        }
        let tokenizer = try Self.tokenizer(file)
        var config = LlamaConfig(
            blockCount: blockCount, embeddingLength: embeddingLength,
            feedForwardLength: feedForward, headCount: headCount,
            headCountKV: headCountKV, rmsEpsilon: rmsEpsilon, ropeFreqBase: ropeFreqBase,
            contextLength: contextLength, ropeDimensionCount: ropeDimensions,
            vocabularySize: vocab, tieWordEmbeddings: !file.contains("output.weight"))
        if let k = keyLength ?? valueLength, headCount > 0, k != embeddingLength / headCount { config.headDimension = k }
        config.variant = variant
        // What llama.cpp's loader reads for each architecture: qwen2 requires q/k/v biases and has no
        // o bias, qwen3 requires q/k norms; llama reads each bias when the file has it.
        switch variant {
        case .qwen2:
            config.queryKeyValueBias = true
        case .qwen3:
            config.queryKeyNorm = true
        case .llama, .mistral:
            let p = LlamaWeightLayout.gguf
            config.queryKeyValueBias = [.queryBias, .keyBias, .valueBias].contains { file.contains(p.name($0, layer: 0)) }
            config.outputBias = file.contains(p.name(.outputBias, layer: 0))
            config.mlpBias = [.gateBias, .upBias, .downBias].contains { file.contains(p.name($0, layer: 0)) }
        }
        let name = try file.text("general.name") ?? URL(fileURLWithPath: path).lastPathComponent
        var details = file.summary
        details.insert(("file", URL(fileURLWithPath: path).lastPathComponent), at: 0)
        return try LlamaModel(config: config, weights: file, layout: .gguf, tokenizer: tokenizer,
                              name: name, source: path, details: details, chatTemplate: try file.text("tokenizer.chat_template"))
    }

    /// The tokenizer a GGUF file describes.
    /// - Throws: ``StepwiseError`` naming the file and the `tokenizer.ggml.*` key that is missing, of the
    ///   wrong type, or inconsistent with the token list.
    public static func tokenizer(_ file: GGUFFile) throws -> ByteLevelBPE {
        let path = file.path
        guard let model = try file.text("tokenizer.ggml.model") else {
            throw StepwiseError.file(path, "has no tokenizer.ggml.model")
        }
        guard model == "gpt2" else {
            throw StepwiseError(.unsupported, "\(path): tokenizer model '\(model)' is not supported (gpt2 byte-level BPE)")
        }
        guard let tokens = try file.stringArray("tokenizer.ggml.tokens") else {
            throw StepwiseError.file(path, "has no tokenizer.ggml.tokens string array")
        }
        guard tokens.count <= ByteLevelBPE.maxID else {
            throw StepwiseError.file(path, "tokenizer.ggml.tokens has \(tokens.count) tokens, more than the \(ByteLevelBPE.maxID) Stepwise accepts")
        }
        let types = try file.integerArray("tokenizer.ggml.token_type")
        if let types, types.count != tokens.count {
            throw StepwiseError.file(path, "tokenizer.ggml.token_type has \(types.count) entries but tokenizer.ggml.tokens has \(tokens.count); there must be one type per token")
        }
        let mergeLines = try file.stringArray("tokenizer.ggml.merges") ?? []
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeLines.count)
        for (i, m) in mergeLines.enumerated() {
            let parts = m.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw StepwiseError.file(path, "tokenizer.ggml.merges[\(i)] '\(m)' is not two symbols")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        let preName = try file.text("tokenizer.ggml.pre") ?? "default"
        guard let pre = PreTokenizerKind(ggufName: preName) else {
            throw StepwiseError(.unsupported, "\(path): pre-tokenizer '\(preName)' is not supported (gpt-2, llama3, smollm, qwen2)")
        }
        // Control tokens (type 3) and user-defined ones (type 4) are matched whole in the text.
        var special: [String: Int] = [:]
        if let types {
            for (id, t) in types.enumerated() where t == 3 || t == 4 { special[tokens[id]] = id }
        }
        var ids: [String: Int] = [:]
        for key in ["bos", "eos", "unknown", "padding"] {
            let k = "tokenizer.ggml.\(key)_token_id"
            guard let v = file[k] else { continue }
            guard v.isInteger else {
                throw StepwiseError.file(path, "\(k) is \(GGUFFile.shown(v)), expected an integer token id")
            }
            guard let id = v.int, tokens.indices.contains(id) else {
                throw StepwiseError.file(path, "\(k) \(v.description) is outside the vocabulary (0..<\(tokens.count))")
            }
            ids[key] = id
        }
        let specials = SpecialTokens(
            bos: ids["bos"], eos: ids["eos"],
            addBOS: try file.flag("tokenizer.ggml.add_bos_token") ?? false,
            addEOS: try file.flag("tokenizer.ggml.add_eos_token") ?? false,
            unknown: ids["unknown"], padding: ids["padding"])
        return try ByteLevelBPE(vocabulary: tokens, merges: merges, preTokenizer: pre, specialTokens: special,
                                special: specials, source: path)
    }

    /// The chat template stored in the file, if any.
    public static func chatTemplate(_ file: GGUFFile) -> String? {
        file["tokenizer.chat_template"]?.string
    }
}
