import Foundation

/// Builds a model and its tokenizer from a GGUF file's metadata and tensors.
public enum GGUFModels {
    /// Loads a Llama-architecture GGUF (weights dequantized to float32, tokenizer from `tokenizer.ggml.*`).
    /// - Throws: ``StepwiseError`` naming the file and the key or tensor that is missing or unsupported.
    public static func load(path: String) throws -> LlamaModel {
        let file = try GGUFFile(path: path)
        guard let arch = file.architecture else {
            throw StepwiseError.file(path, "has no general.architecture")
        }
        guard arch == "llama" else {
            throw StepwiseError(.unsupported, "\(path): architecture '\(arch)' is not supported (llama)")
        }
        let tokenizer = try Self.tokenizer(file)
        func int(_ key: String) throws -> Int {
            guard let v = file.architectureValue(key)?.int else {
                throw StepwiseError.file(path, "has no integer \(arch).\(key)")
            }
            return v
        }
        let vocab = file["tokenizer.ggml.tokens"]?.array?.count ?? tokenizer.vocabularySize
        let config = LlamaConfig(
            blockCount: try int("block_count"), embeddingLength: try int("embedding_length"),
            feedForwardLength: try int("feed_forward_length"), headCount: try int("attention.head_count"),
            headCountKV: file.architectureValue("attention.head_count_kv")?.int,
            rmsEpsilon: file.architectureValue("attention.layer_norm_rms_epsilon")?.float ?? 1e-5,
            ropeFreqBase: file.architectureValue("rope.freq_base")?.float,
            contextLength: try int("context_length"),
            ropeDimensionCount: file.architectureValue("rope.dimension_count")?.int,
            vocabularySize: vocab, tieWordEmbeddings: !file.contains("output.weight"))
        let name = file["general.name"]?.string ?? URL(fileURLWithPath: path).lastPathComponent
        var details = file.summary
        details.insert(("file", URL(fileURLWithPath: path).lastPathComponent), at: 0)
        return try LlamaModel(config: config, weights: file, layout: .gguf, tokenizer: tokenizer,
                              name: name, source: path, details: details, chatTemplate: chatTemplate(file))
    }

    /// The tokenizer a GGUF file describes.
    public static func tokenizer(_ file: GGUFFile) throws -> ByteLevelBPE {
        let path = file.path
        guard let model = file["tokenizer.ggml.model"]?.string else {
            throw StepwiseError.file(path, "has no tokenizer.ggml.model")
        }
        guard model == "gpt2" else {
            throw StepwiseError(.unsupported, "\(path): tokenizer model '\(model)' is not supported (gpt2 byte-level BPE)")
        }
        guard let tokens = file["tokenizer.ggml.tokens"]?.strings else {
            throw StepwiseError.file(path, "has no tokenizer.ggml.tokens string array")
        }
        let mergeLines = file["tokenizer.ggml.merges"]?.strings ?? []
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeLines.count)
        for (i, m) in mergeLines.enumerated() {
            let parts = m.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw StepwiseError.file(path, "tokenizer.ggml.merges[\(i)] '\(m)' is not two symbols")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        let preName = file["tokenizer.ggml.pre"]?.string ?? "default"
        guard let pre = PreTokenizerKind(ggufName: preName) else {
            throw StepwiseError(.unsupported, "\(path): pre-tokenizer '\(preName)' is not supported (gpt-2, llama3, smollm, qwen2)")
        }
        // Control tokens (type 3) and user-defined ones (type 4) are matched whole in the text.
        var special: [String: Int] = [:]
        if let types = file["tokenizer.ggml.token_type"]?.ints, types.count == tokens.count {
            for (id, t) in types.enumerated() where t == 3 || t == 4 { special[tokens[id]] = id }
        }
        let bos = file["tokenizer.ggml.bos_token_id"]?.int
        let eos = file["tokenizer.ggml.eos_token_id"]?.int
        for key in ["bos", "eos", "unknown", "padding"] {
            if let id = file["tokenizer.ggml.\(key)_token_id"]?.int, !tokens.indices.contains(id) {
                throw StepwiseError.file(path, "tokenizer.ggml.\(key)_token_id \(id) is outside the vocabulary (0..<\(tokens.count))")
            }
        }
        let specials = SpecialTokens(
            bos: bos, eos: eos,
            addBOS: file["tokenizer.ggml.add_bos_token"]?.bool ?? false,
            addEOS: file["tokenizer.ggml.add_eos_token"]?.bool ?? false,
            unknown: file["tokenizer.ggml.unknown_token_id"]?.int,
            padding: file["tokenizer.ggml.padding_token_id"]?.int)
        return try ByteLevelBPE(vocabulary: tokens, merges: merges, preTokenizer: pre, specialTokens: special,
                                special: specials, source: path)
    }

    /// The chat template stored in the file, if any.
    public static func chatTemplate(_ file: GGUFFile) -> String? {
        file["tokenizer.chat_template"]?.string
    }
}
