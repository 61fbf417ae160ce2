import Foundation

/// Builds a Gemma model from a GGUF file (`general.architecture` `gemma3` or `gemma2`) and its
/// SentencePiece tokenizer.
///
/// llama.cpp's converter writes no `query_pre_attn_scalar`, local RoPE base or layer pattern: as
/// llama.cpp does, the scores are scaled by `1/√key_length`, local layers use RoPE base 10000, and
/// Gemma 3 makes every 6th layer global (Gemma 2 every 2nd); Gemma 2's soft-capping values come from
/// `gemma2.attn_logit_softcapping` / `gemma2.final_logit_softcapping`.
public enum GemmaGGUF {
    /// Loads the model.
    /// - Throws: ``StepwiseError`` naming the file and the key or tensor that is missing or unsupported.
    public static func load(_ file: GGUFFile) throws -> GemmaModel {
        let path = file.path
        guard let arch = try file.text("general.architecture"), arch == "gemma3" || arch == "gemma2" else {
            throw StepwiseError(.unsupported, "\(path): not a Gemma 2 or Gemma 3 GGUF")
        }
        func key(_ s: String) -> String { "\(arch).\(s)" }
        func int(_ s: String) throws -> Int {
            guard let v = try file.integer(key(s)) else { throw StepwiseError.file(path, "has no integer \(key(s))") }
            return v
        }
        let layers = try int("block_count"), dModel = try int("embedding_length"), heads = try int("attention.head_count")
        let headDim = try file.integer(key("attention.key_length")) ?? (heads > 0 ? dModel / heads : 0)
        if let v = try file.integer(key("attention.value_length")), v != headDim {
            throw StepwiseError(.unsupported, "\(path): value heads of \(v) dimensions beside key heads of \(headDim) are not supported")
        }
        guard let vocab = file.arrayCount("tokenizer.ggml.tokens") else {
            throw StepwiseError.file(path, "has no tokenizer.ggml.tokens string array")
        }
        guard let embed = file.ggufTensorInfo("token_embd.weight") else {
            throw StepwiseError.file(path, "has no tensor 'token_embd.weight'")
        }
        if embed.ne.count == 2, embed.ne[1] != vocab {
            throw StepwiseError.file(path, "tensor 'token_embd.weight' has \(embed.ne[1]) rows but tokenizer.ggml.tokens has \(vocab) tokens; the vocabulary does not belong to these weights")
        }
        let generation: GemmaConfig.Generation = arch == "gemma3" ? .gemma3 : .gemma2
        let period = generation == .gemma3 ? 6 : 2
        // Gemma 2 alternates starting with a sliding layer; Gemma 3 makes layers 5, 11, ... global.
        let types: [GemmaConfig.LayerType] = generation == .gemma3
            ? GemmaConfig.layerTypes(count: layers, period: period)
            : (0..<layers).map { $0 % 2 == 0 ? .sliding : .full }
        let config = GemmaConfig(
            generation: generation, hiddenSize: dModel, intermediateSize: try int("feed_forward_length"),
            numAttentionHeads: heads, numKeyValueHeads: try file.integer(key("attention.head_count_kv")) ?? heads,
            numHiddenLayers: layers, headDim: headDim,
            rmsNormEps: try file.number(key("attention.layer_norm_rms_epsilon")).map(Float.init) ?? 1e-6,
            vocabSize: vocab, maxPositionEmbeddings: try int("context_length"),
            queryPreAttnScalar: Float(headDim),
            slidingWindow: try file.integer(key("attention.sliding_window")) ?? 4096, layerTypes: types,
            ropeTheta: try file.number(key("rope.freq_base")).map(Float.init) ?? 10000,
            ropeLocalTheta: generation == .gemma3 ? 10000 : (try file.number(key("rope.freq_base")).map(Float.init) ?? 10000),
            attnLogitSoftcapping: try file.number(key("attn_logit_softcapping")).map(Float.init),
            finalLogitSoftcapping: try file.number(key("final_logit_softcapping")).map(Float.init),
            tieWordEmbeddings: !file.contains("output.weight"))
        try config.validate(source: path)
        let tokenizer = try Self.tokenizer(file)
        let name = try file.text("general.name") ?? URL(fileURLWithPath: path).lastPathComponent
        var details = file.summary
        details.insert(("file", URL(fileURLWithPath: path).lastPathComponent), at: 0)
        return try GemmaModel(config: config, weights: file, layout: .gguf, tokenizer: tokenizer, name: name,
                              source: path, details: details, chatTemplate: try file.text("tokenizer.chat_template"))
    }

    /// The SentencePiece tokenizer of a GGUF file (`tokenizer.ggml.model = llama`): pieces, scores, token
    /// types (3 control and 4 user-defined are matched whole), BOS/EOS and whether BOS is added.
    /// - Throws: ``StepwiseError`` naming the file and the `tokenizer.ggml.*` key that is missing or inconsistent.
    public static func tokenizer(_ file: GGUFFile) throws -> SentencePieceBPE {
        let path = file.path
        guard let model = try file.text("tokenizer.ggml.model") else {
            throw StepwiseError.file(path, "has no tokenizer.ggml.model")
        }
        guard model == "llama" else {
            throw StepwiseError(.unsupported, "\(path): tokenizer model '\(model)' is not SentencePiece BPE (llama)")
        }
        guard let tokens = try file.stringArray("tokenizer.ggml.tokens") else {
            throw StepwiseError.file(path, "has no tokenizer.ggml.tokens string array")
        }
        guard let scoreValue = file["tokenizer.ggml.scores"] else {
            throw StepwiseError.file(path, "has no tokenizer.ggml.scores; SentencePiece BPE merges by score")
        }
        guard let scores = scoreValue.floats else {
            throw StepwiseError.file(path, "tokenizer.ggml.scores is \(GGUFFile.shown(scoreValue)), expected an array of float32")
        }
        guard scores.count == tokens.count else {
            throw StepwiseError.file(path, "tokenizer.ggml.scores has \(scores.count) entries but tokenizer.ggml.tokens has \(tokens.count); there must be one score per token")
        }
        let types = try file.integerArray("tokenizer.ggml.token_type")
        if let types, types.count != tokens.count {
            throw StepwiseError.file(path, "tokenizer.ggml.token_type has \(types.count) entries but tokenizer.ggml.tokens has \(tokens.count); there must be one type per token")
        }
        var ids: [String: Int] = [:]
        for key in ["bos", "eos", "unknown", "padding"] {
            let k = "tokenizer.ggml.\(key)_token_id"
            guard let v = file[k] else { continue }
            guard v.isInteger, let id = v.int, tokens.indices.contains(id) else {
                throw StepwiseError.file(path, "\(k) is \(GGUFFile.shown(v)), expected a token id in 0..<\(tokens.count)")
            }
            ids[key] = id
        }
        let special = SpecialTokens(bos: ids["bos"], eos: ids["eos"],
                                    addBOS: try file.flag("tokenizer.ggml.add_bos_token") ?? true,
                                    addEOS: try file.flag("tokenizer.ggml.add_eos_token") ?? false,
                                    unknown: ids["unknown"], padding: ids["padding"])
        let specialIDs = (types ?? []).enumerated().filter { $0.element == 3 || $0.element == 4 }.map(\.offset)
        return try SentencePieceBPE(pieces: tokens, priority: .scores(scores), specialIDs: specialIDs, special: special,
                                    addSpacePrefix: try file.flag("tokenizer.ggml.add_space_prefix") ?? true, source: path)
    }
}

extension GGUFModels {
    /// Loads any GGUF model Stepwise knows, by `general.architecture`.
    /// - Throws: ``StepwiseError`` naming the file and what is missing or unsupported.
    public static func loadModel(path: String) throws -> any LanguageModel {
        let file = try GGUFFile(path: path)
        switch try file.text("general.architecture") {
        case "gemma3", "gemma2": return try GemmaGGUF.load(file)
        default: return try load(file)
        }
    }
}
