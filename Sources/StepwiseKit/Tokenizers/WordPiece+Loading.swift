import Foundation

extension WordPiece {
    /// Reads a BERT `vocab.txt`: one piece per line, the line number is the id. Uses BERT's uncased
    /// defaults (lowercase, strip accents) unless `normalizer` says otherwise.
    /// - Throws: ``StepwiseError`` if the file is missing, not UTF-8, empty, or lacks `[UNK]`.
    public init(vocabFile path: String, normalizer: BertNormalizer = BertNormalizer(), limit: VocabularyLimit? = nil) throws {
        // LF or CRLF line ends and a leading byte-order mark are accepted, as Python's text mode
        // (what transformers reads vocab.txt with) accepts them.
        let lines = try TextLines(path: path).lines
        guard !lines.isEmpty else { throw StepwiseError.file(path, "is empty: a vocab.txt has one piece per line") }
        if let limit, lines.count > limit.size {
            throw StepwiseError.file(path, "has \(lines.count) pieces, but \(limit.source) is \(limit.size): the tokenizer files and config.json do not belong together")
        }
        do {
            try self.init(vocabulary: lines, normalizer: normalizer)
        } catch let e as StepwiseError {
            throw StepwiseError.file(path, e.message)
        }
    }

    /// Reads a Hugging Face `tokenizer.json` whose model is WordPiece (normalizer `BertNormalizer`).
    /// Padding and truncation settings in the file are ignored: Stepwise shows the real tokens.
    /// - Throws: ``StepwiseError`` if the file is missing, malformed, or not a WordPiece tokenizer.
    public init(tokenizerJSON path: String, limit: VocabularyLimit? = nil) throws {
        let file = try MappedFile(path: path)
        var r = JSONReader(path: path, bytes: file.bytes, maxValues: 100_000)
        guard try r.peek() == .object else {
            throw StepwiseError.file(path, "is not a JSON object")
        }
        var root: [String: JSONValue] = [:]
        var model: [String: JSONValue] = [:]
        var sawModel = false, vocabIs: JSONReader.Kind?
        var ids: [String: Int] = [:]
        var byID: [Int: String] = [:]
        try r.object("the file") { r, key in
            switch key {
            case "model":
                guard try r.peek() == .object else { try r.skip(); return }
                sawModel = true
                try r.object("model") { r, k in
                    if k == "vocab" {
                        vocabIs = try r.peek()
                        guard vocabIs == .object else { try r.skip(); return }
                        try ByteLevelBPE.readVocabulary(&r, what: "model.vocab", path: path, limit: limit, ids: &ids, byID: &byID)
                    } else {
                        model[k] = try r.value()
                    }
                }
            case "normalizer", "added_tokens":
                root[key] = try r.value()
            default:
                try r.skip()
            }
        }
        try r.end()
        guard sawModel else {
            throw StepwiseError.file(path, "has no \"model\" object")
        }
        guard model["type"]?.string == "WordPiece" else {
            throw StepwiseError(.unsupported, "\(path): model type is \(model["type"]?.string ?? "missing"), expected WordPiece")
        }
        guard vocabIs == .object else {
            throw StepwiseError.file(path, "model.vocab is not an object of piece → id")
        }
        guard byID.count == ids.count, (byID.keys.max() ?? -1) + 1 == byID.count else {
            throw StepwiseError.file(path, "model.vocab: the ids are not exactly 0..<\(ids.count), one per piece")
        }
        let pieces = (0..<byID.count).map { byID[$0]! }
        var normalizer = BertNormalizer()
        if let n = root["normalizer"]?.object {
            guard n["type"]?.string == "BertNormalizer" else {
                throw StepwiseError(.unsupported, "\(path): normalizer \(n["type"]?.string ?? "?") is not supported; Stepwise reads BertNormalizer")
            }
            let lower = n["lowercase"]?.bool ?? true
            normalizer = BertNormalizer(cleanText: n["clean_text"]?.bool ?? true,
                                        handleChineseChars: n["handle_chinese_chars"]?.bool ?? true,
                                        stripAccents: n["strip_accents"]?.bool, lowercase: lower)
        }
        var specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        if let added = root["added_tokens"]?.array {
            specials = added.compactMap { $0["content"]?.string }
        }
        do {
            try self.init(vocabulary: pieces, normalizer: normalizer,
                          unknownToken: model["unk_token"]?.string ?? "[UNK]",
                          continuingPrefix: model["continuing_subword_prefix"]?.string ?? "##",
                          maxInputCharsPerWord: model["max_input_chars_per_word"]?.int ?? 100,
                          specialPieces: specials)
        } catch let e as StepwiseError {
            throw StepwiseError.file(path, e.message)
        }
    }

    /// Loads the tokenizer of a Hugging Face BERT folder: `tokenizer.json` if present, else `vocab.txt`.
    /// - Throws: ``StepwiseError`` if neither file is there or the one found is malformed.
    public static func load(folder: String, limit: VocabularyLimit? = nil) throws -> WordPiece {
        let fm = FileManager.default
        let json = folder + "/tokenizer.json", vocab = folder + "/vocab.txt"
        if fm.fileExists(atPath: json) { return try WordPiece(tokenizerJSON: json, limit: limit) }
        if fm.fileExists(atPath: vocab) { return try WordPiece(vocabFile: vocab, limit: limit) }
        throw StepwiseError.file(folder, "has neither tokenizer.json nor vocab.txt")
    }
}
