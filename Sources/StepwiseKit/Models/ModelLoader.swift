import Foundation

/// What a path turned out to hold.
public enum LoadedModel {
    /// A model with its tokenizer.
    case model(any LanguageModel)
    /// Only tokenizer files: the tokenizer views work, no forward pass.
    case tokenizer(any Tokenizer)
}

/// Finds out what a path holds and loads it: a Hugging Face folder (GPT-2, BERT or Llama by
/// `config.json`'s `model_type`), a folder with only tokenizer files, or a `.gguf` file.
public enum ModelLoader {
    /// The folder of the built-in teaching model that ships inside the package.
    public static var builtinPath: String? {
        Bundle.module.resourceURL.map { $0.appendingPathComponent("builtin").path }
            .flatMap { FileManager.default.fileExists(atPath: $0 + "/config.json") ? $0 : nil }
    }

    /// Loads `path`; `nil` or `builtin` loads the built-in model.
    /// - Throws: ``StepwiseError`` saying what was found and what could not be loaded.
    public static func load(_ path: String?) throws -> LoadedModel {
        guard let path, path != "builtin" else {
            guard let b = builtinPath else {
                throw StepwiseError(.file, "the built-in model is missing from this build (Resources/builtin)")
            }
            return try load(b)
        }
        let expanded = NSString(string: path).expandingTildeInPath
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: expanded, isDirectory: &isDir) else {
            throw StepwiseError.file(path, "no such file or folder")
        }
        if !isDir.boolValue {
            if expanded.lowercased().hasSuffix(".gguf") { return .model(try GGUFModels.load(path: expanded)) }
            if URL(fileURLWithPath: expanded).lastPathComponent == "config.json" {
                return try load(URL(fileURLWithPath: expanded).deletingLastPathComponent().path)
            }
            throw StepwiseError.file(path, "is not a model: give a model folder (config.json + model.safetensors) or a .gguf file")
        }
        return try loadFolder(expanded, shownAs: path)
    }

    static func loadFolder(_ folder: String, shownAs: String) throws -> LoadedModel {
        let fm = FileManager.default
        let configPath = folder + "/config.json"
        guard fm.fileExists(atPath: configPath) else {
            if let tok = try tokenizer(in: folder, family: nil) { return .tokenizer(tok) }
            let ggufs = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.lowercased().hasSuffix(".gguf") }.sorted()
            if let g = ggufs.first { return .model(try GGUFModels.load(path: folder + "/" + g)) }
            throw StepwiseError.file(shownAs, "has no config.json, no tokenizer files (tokenizer.json, vocab.json + merges.txt, encoder.json + vocab.bpe, vocab.txt) and no .gguf file")
        }
        let type = try modelType(configPath)
        // The config's vocabulary size bounds the tokenizer before it is built: a vocabulary of millions
        // of pieces for a 300-row embedding fails at its first impossible id, not after every table is made.
        let limit = (try? ConfigFile.read(configPath))?["vocab_size"]?.int.flatMap { $0 > 0 ? VocabularyLimit(size: $0, source: "config.json's vocab_size") : nil }
        guard fm.fileExists(atPath: folder + "/model.safetensors") else {
            let others = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".bin") || $0.contains("safetensors") }
            throw StepwiseError.file(shownAs, "has no model.safetensors" + (others.isEmpty ? "" : " (found \(others.sorted().joined(separator: ", ")); sharded and PyTorch .bin checkpoints are not supported: save with safe_serialization)"))
        }
        guard let tok = try tokenizer(in: folder, family: type, limit: limit) else {
            throw StepwiseError.file(shownAs, "has weights but no tokenizer files")
        }
        let model: any LanguageModel
        switch type {
        case "gpt2":
            model = try GPT2Model.load(folder: folder, tokenizer: tok)
        case "bert":
            model = try BERTModel.load(folder: folder)
        case "llama", "mistral", "qwen2":
            model = try LlamaModel.load(folder: folder, tokenizer: tok)
        default:
            throw StepwiseError(.unsupported, "\(configPath): model_type '\(type)' is not supported (gpt2, bert, llama)")
        }
        // A tokenizer with more pieces than the embedding has rows would hand the model ids it cannot
        // look up; a larger embedding (padded vocabularies) is fine.
        if model.tokenizer.vocabularySize > model.info.vocabularySize {
            throw StepwiseError.file(shownAs, "the tokenizer has \(model.tokenizer.vocabularySize) pieces but config.json's vocab_size is \(model.info.vocabularySize); the tokenizer files do not belong to these weights")
        }
        return .model(model)
    }

    static func modelType(_ configPath: String) throws -> String {
        let root = try ConfigFile.read(configPath)
        guard let v = root["model_type"] else {
            throw StepwiseError.file(configPath, "has no model_type")
        }
        guard let t = v.string else {
            throw StepwiseError.file(configPath, "field 'model_type' has the wrong type: it is \(v.shown), expected a string")
        }
        return t
    }

    /// The tokenizer in a folder, nil when there are no tokenizer files.
    static func tokenizer(in folder: String, family: String?, limit: VocabularyLimit? = nil) throws -> (any Tokenizer)? {
        let fm = FileManager.default
        let has = { (f: String) in fm.fileExists(atPath: folder + "/" + f) }
        if family == "bert" || (!has("tokenizer.json") && has("vocab.txt") && !has("vocab.json")) {
            if has("tokenizer.json") || has("vocab.txt") { return try WordPiece.load(folder: folder, limit: limit) }
            return nil
        }
        if has("tokenizer.json") || (has("vocab.json") && has("merges.txt")) || (has("encoder.json") && has("vocab.bpe")) {
            return try ByteLevelBPE.load(folder: folder, limit: limit)
        }
        return nil
    }
}

extension Session {
    /// Replaces the model with what `path` holds (`nil`: the built-in model). On failure the session
    /// is unchanged.
    public mutating func load(path: String?) throws {
        let loaded = try ModelLoader.load(path)
        switch loaded {
        case .model(let m):
            model = m
            tokenizer = m.tokenizer
        case .tokenizer(let t):
            model = nil
            tokenizer = t
        }
        source = path ?? "builtin"
        promptText = nil
        ids = []
        trace = nil
        history = []
        future = []
        cursor = 0
        interventions = []
    }
}
