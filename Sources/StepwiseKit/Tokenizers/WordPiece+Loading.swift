import Foundation

extension WordPiece {
    /// Reads a BERT `vocab.txt`: one piece per line, the line number is the id. Uses BERT's uncased
    /// defaults (lowercase, strip accents) unless `normalizer` says otherwise.
    /// - Throws: ``StepwiseError`` if the file is missing, not UTF-8, empty, or lacks `[UNK]`.
    public init(vocabFile path: String, normalizer: BertNormalizer = BertNormalizer()) throws {
        guard let data = try? MappedFile.data(path: path) else {
            throw StepwiseError.file(path, "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw StepwiseError.file(path, "is not UTF-8 text")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var s = String(line)
            if s.hasSuffix("\r") { s.removeLast() }
            return s
        }
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw StepwiseError.file(path, "is empty: a vocab.txt has one piece per line") }
        do {
            try self.init(vocabulary: lines, normalizer: normalizer)
        } catch let e as StepwiseError {
            throw StepwiseError.file(path, e.message)
        }
    }

    /// Reads a Hugging Face `tokenizer.json` whose model is WordPiece (normalizer `BertNormalizer`).
    /// Padding and truncation settings in the file are ignored: Stepwise shows the real tokens.
    /// - Throws: ``StepwiseError`` if the file is missing, malformed, or not a WordPiece tokenizer.
    public init(tokenizerJSON path: String) throws {
        guard let data = try? MappedFile.data(path: path) else {
            throw StepwiseError.file(path, "cannot be read")
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw StepwiseError.file(path, "is not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else {
            throw StepwiseError.file(path, "has no \"model\" object")
        }
        guard (model["type"] as? String) == "WordPiece" else {
            throw StepwiseError(.unsupported, "\(path): model type is \(model["type"] as? String ?? "missing"), expected WordPiece")
        }
        guard let vocab = model["vocab"] as? [String: Any] else {
            throw StepwiseError.file(path, "model.vocab is not an object of piece → id")
        }
        var pieces = [String?](repeating: nil, count: vocab.count)
        for (piece, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue, id >= 0, id < vocab.count, pieces[id] == nil else {
                throw StepwiseError.file(path, "model.vocab: id of '\(piece)' is not a unique integer in 0..<\(vocab.count)")
            }
            pieces[id] = piece
        }
        var normalizer = BertNormalizer()
        if let n = root["normalizer"] as? [String: Any] {
            guard (n["type"] as? String) == "BertNormalizer" else {
                throw StepwiseError(.unsupported, "\(path): normalizer \(n["type"] as? String ?? "?") is not supported; Stepwise reads BertNormalizer")
            }
            let lower = (n["lowercase"] as? Bool) ?? true
            normalizer = BertNormalizer(cleanText: (n["clean_text"] as? Bool) ?? true,
                                        handleChineseChars: (n["handle_chinese_chars"] as? Bool) ?? true,
                                        stripAccents: n["strip_accents"] as? Bool, lowercase: lower)
        }
        var specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        if let added = root["added_tokens"] as? [[String: Any]] {
            specials = added.compactMap { $0["content"] as? String }
        }
        do {
            try self.init(vocabulary: pieces.map { $0! }, normalizer: normalizer,
                          unknownToken: (model["unk_token"] as? String) ?? "[UNK]",
                          continuingPrefix: (model["continuing_subword_prefix"] as? String) ?? "##",
                          maxInputCharsPerWord: (model["max_input_chars_per_word"] as? NSNumber)?.intValue ?? 100,
                          specialPieces: specials)
        } catch let e as StepwiseError {
            throw StepwiseError.file(path, e.message)
        }
    }

    /// Loads the tokenizer of a Hugging Face BERT folder: `tokenizer.json` if present, else `vocab.txt`.
    /// - Throws: ``StepwiseError`` if neither file is there or the one found is malformed.
    public static func load(folder: String) throws -> WordPiece {
        let fm = FileManager.default
        let json = folder + "/tokenizer.json", vocab = folder + "/vocab.txt"
        if fm.fileExists(atPath: json) { return try WordPiece(tokenizerJSON: json) }
        if fm.fileExists(atPath: vocab) { return try WordPiece(vocabFile: vocab) }
        throw StepwiseError.file(folder, "has neither tokenizer.json nor vocab.txt")
    }
}
