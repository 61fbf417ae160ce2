import Foundation

/// What a path turned out to hold.
public enum LoadedModel {
    /// A model with its tokenizer.
    case model(any LanguageModel)
    /// Only tokenizer files: the tokenizer views work, no forward pass.
    case tokenizer(any Tokenizer)
}

/// Finds out what a path holds and loads it: a Hugging Face folder (GPT-2, BERT, or the Llama family —
/// llama, mistral, qwen2, qwen3 — by `config.json`'s `model_type`), a folder with only tokenizer files,
/// or a `.gguf` file.
public enum ModelLoader {
    /// The folder of the built-in teaching model that ships inside the package.
    public static var builtinPath: String? { builtinPath("builtin") }

    /// The built-in models, by the name `load` takes, and their folders under Resources/.
    public static let builtins = ["builtin": "builtin", "builtin:translate": "translate"]

    /// The folder of a built-in model (`builtin`, `builtin:translate`), nil if it is not in this build.
    public static func builtinPath(_ name: String) -> String? {
        guard let folder = builtins[name] else { return nil }
        return Bundle.module.resourceURL.map { $0.appendingPathComponent(folder).path }
            .flatMap { FileManager.default.fileExists(atPath: $0 + "/config.json") ? $0 : nil }
    }

    /// Runs `body` (a load) so that ``WeightSource/tensor(_:shape:)`` checks `isCancelled` between
    /// tensors: Ctrl-C stops a long load with an error, and the session keeps the model it had.
    public static func cancellable<T>(_ isCancelled: @escaping @Sendable () -> Bool, _ body: () throws -> T) rethrows -> T {
        let previous = cancellation.swap(isCancelled)
        defer { _ = cancellation.swap(previous) }
        return try body()
    }

    /// The cancellation check of the load under way (loads run one at a time, on the REPL's thread).
    static let cancellation = CancellationSlot()

    /// Throws ``StepwiseError/Kind/interrupted`` once the user pressed Ctrl-C during a load.
    static func checkCancelled() throws {
        if cancellation.isCancelled() {
            throw StepwiseError(.interrupted, "loading was interrupted (Ctrl-C); the model loaded before stays")
        }
    }

    /// The files a model or tokenizer folder may hold; each must be a regular file if present, so a
    /// named pipe or device in a downloaded folder is refused before anything opens it.
    static let folderFiles = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                              "special_tokens_map.json", "vocab.json", "merges.txt", "encoder.json", "vocab.bpe", "vocab.txt"]

    /// Loads `path`; `nil` or `builtin` loads the built-in model.
    /// - Throws: ``StepwiseError`` saying what was found and what could not be loaded.
    public static func load(_ path: String?) throws -> LoadedModel {
        let name = path ?? "builtin"
        if name == "builtin" || name.hasPrefix("builtin:") {
            guard let folder = builtins[name] else {
                throw StepwiseError.usage("no built-in model '\(name)': there are " + builtins.keys.sorted().map { "'\($0)'" }.joined(separator: " and "))
            }
            guard let b = builtinPath(name) else {
                throw StepwiseError(.file, "the built-in model '\(name)' is missing from this build (Resources/\(folder))")
            }
            return try load(b)
        }
        let path = name
        let expanded = Files.resolve(path, base: nil)
        // stat, never open, before knowing what is there: opening a FIFO or a device blocks or streams.
        let kind = FileKind.at(expanded)
        switch kind {
        case .regular, .directory: break
        case .missing: throw StepwiseError.file(path, "no such file or folder")
        default: throw StepwiseError.file(path, "is \(kind.phrase), not a model file or folder")
        }
        if kind == .regular {
            if expanded.lowercased().hasSuffix(".gguf") { return .model(try GGUFModels.loadModel(path: expanded)) }
            if URL(fileURLWithPath: expanded).lastPathComponent == "config.json" {
                return try load(URL(fileURLWithPath: expanded).deletingLastPathComponent().path)
            }
            throw StepwiseError.file(path, "is not a model: give a model folder (config.json + model.safetensors) or a .gguf file")
        }
        return try loadFolder(expanded, shownAs: path)
    }

    static func loadFolder(_ folder: String, shownAs: String) throws -> LoadedModel {
        let fm = FileManager.default
        for f in folderFiles {
            let kind = FileKind.at(folder + "/" + f)
            guard kind == .regular || kind == .missing else {
                throw StepwiseError.file(shownAs + "/" + f, "is \(kind.phrase), not a regular file")
            }
        }
        let configPath = folder + "/config.json"
        guard fm.fileExists(atPath: configPath) else {
            if let tok = try tokenizer(in: folder, family: nil) { return .tokenizer(tok) }
            let ggufs = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.lowercased().hasSuffix(".gguf") }.sorted()
            if let g = ggufs.first {
                try Files.requireRegularFile(folder + "/" + g, shownAs: shownAs + "/" + g, what: "GGUF file")
                return .model(try GGUFModels.loadModel(path: folder + "/" + g))
            }
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
        case _ where LlamaConfig.Variant(rawValue: type) != nil:
            model = try LlamaModel.load(folder: folder, tokenizer: tok)
        case "gemma3_text", "gemma3", "gemma2":
            model = try GemmaModel.load(folder: folder, tokenizer: tok)
        case "bart", "marian":
            model = try BARTModel.load(folder: folder, tokenizer: tok)
        case "t5":
            model = try T5Model.load(folder: folder, tokenizer: tok)
        default:
            throw StepwiseError(.unsupported, "\(configPath): model_type '\(type)' is not supported (gpt2, bert, \(LlamaConfig.Variant.allCases.map(\.rawValue).joined(separator: ", ")), gemma2, gemma3_text, bart, marian, t5)")
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
        if family == "marian" && !has("tokenizer.json") {
            throw StepwiseError(.unsupported, "\(folder): has no tokenizer.json; Marian's own tokenizer files (source.spm, target.spm, vocab.json) are not supported, and transformers' MarianTokenizer has no fast version that saves one: add a Unigram tokenizer.json built from source.spm with vocab.json's ids")
        }
        if has("tokenizer.json"), Unigram.modelType(tokenizerJSON: folder + "/tokenizer.json") == "Unigram" {
            return try Unigram.load(folder: folder, limit: limit)
        }
        if has("tokenizer.json"), family?.hasPrefix("gemma") == true || SentencePieceBPE.isSentencePiece(tokenizerJSON: folder + "/tokenizer.json") {
            return try SentencePieceBPE.load(tokenizerJSON: folder + "/tokenizer.json", folder: folder, limit: limit)
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
        sourceText = nil
        sourceIDs = []
        trace = nil
        history = []
        future = []
        cursor = 0
        interventions = []
    }
}

/// The cancellation check of the load running on this thread (a task-local would do, but loads run
/// outside any task). Per thread, so loads on other threads (tests run in parallel) are not affected.
final class CancellationSlot: @unchecked Sendable {
    private final class Box {
        let check: @Sendable () -> Bool
        init(_ check: @escaping @Sendable () -> Bool) { self.check = check }
    }

    private var key = pthread_key_t()

    init() {
        pthread_key_create(&key, { p in
            #if canImport(Glibc)
            if let p { Unmanaged<AnyObject>.fromOpaque(p).release() }
            #else
            Unmanaged<AnyObject>.fromOpaque(p).release()
            #endif
        })
    }

    /// Sets this thread's check; returns the one it replaces.
    func swap(_ new: @escaping @Sendable () -> Bool) -> @Sendable () -> Bool {
        let old = current()
        if let p = pthread_getspecific(key) { Unmanaged<AnyObject>.fromOpaque(p).release() }
        pthread_setspecific(key, Unmanaged<AnyObject>.passRetained(Box(new)).toOpaque())
        return old
    }

    private func current() -> @Sendable () -> Bool {
        guard let p = pthread_getspecific(key) else { return { false } }
        return (Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue() as! Box).check
    }

    func isCancelled() -> Bool { current()() }
}
