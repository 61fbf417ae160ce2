import Foundation

extension ByteLevelBPE {
    /// The file sets ``load(folder:preTokenizer:)`` looks for, in order of preference.
    public static let fileSets: [[String]] = [["tokenizer.json"], ["vocab.json", "merges.txt"], ["encoder.json", "vocab.bpe"]]

    /// Loads a byte-level BPE tokenizer from a folder.
    ///
    /// Looks, in order, for `tokenizer.json` (Hugging Face `tokenizers`), `vocab.json` + `merges.txt`
    /// (Hugging Face GPT-2 style), `encoder.json` + `vocab.bpe` (OpenAI's GPT-2 release).
    /// - `tokenizer.json`: `model.type` BPE with `vocab` and `merges` (`"a b"` strings or `["a", "b"]` pairs);
    ///   `added_tokens` (special or not) are matched whole in text, leftmost-longest (their lstrip/rstrip/
    ///   single_word flags are not applied); the pre-tokenizer must be `ByteLevel` (→ gpt2) or a
    ///   `Sequence` of `Digits(individual_digits)` + `ByteLevel` (→ smollm) or `Split(regex)` + `ByteLevel`
    ///   where the regex is Llama 3's or Qwen2's. BOS/EOS come from `tokenizer_config.json` when present.
    /// - The other two: GPT-2's pre-tokenizer; `<|endoftext|>`, when in the vocabulary, is the special
    ///   BOS/EOS token and is matched whole in text (as transformers' GPT-2 tokenizer does).
    /// - Parameters:
    ///   - folder: the directory holding the files.
    ///   - preTokenizer: overrides the pre-tokenizer the files imply (e.g. ``PreTokenizerKind/smollm`` for a
    ///     tokenizer.json exported from a SmolLM2 GGUF, which loses the digit split).
    /// - Throws: ``StepwiseError`` naming the file and what is wrong, or listing the files looked for.
    public static func load(folder: String, preTokenizer: PreTokenizerKind? = nil) throws -> ByteLevelBPE {
        let fm = FileManager.default
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        func exists(_ name: String) -> Bool { fm.fileExists(atPath: path(name)) }
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw StepwiseError.file(folder, "is not a folder (expected a tokenizer folder)")
        }
        if exists("tokenizer.json") {
            return try loadHuggingFace(path: path("tokenizer.json"), folder: folder, preTokenizer: preTokenizer)
        }
        for set in fileSets.dropFirst() where set.allSatisfy(exists) {
            return try loadVocabAndMerges(vocabPath: path(set[0]), mergesPath: path(set[1]), folder: folder,
                                          preTokenizer: preTokenizer ?? .gpt2)
        }
        let wanted = fileSets.map { $0.joined(separator: " + ") }.joined(separator: ", or ")
        let partial = fileSets.flatMap { $0 }.filter(exists)
        let found = partial.isEmpty ? "" : " (found only \(partial.joined(separator: ", ")))"
        throw StepwiseError.file(folder, "no byte-level BPE tokenizer: looked for \(wanted)\(found)")
    }

    // MARK: - Hugging Face tokenizer.json

    /// Reads a Hugging Face `tokenizer.json`.
    static func loadHuggingFace(path: String, folder: String, preTokenizer override: PreTokenizerKind?) throws -> ByteLevelBPE {
        guard let root = try readJSON(path) as? [String: Any] else {
            throw StepwiseError.file(path, "is not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else {
            throw StepwiseError.file(path, "has no \"model\" object")
        }
        let type = model["type"] as? String ?? "BPE"
        guard type == "BPE" else {
            throw StepwiseError(.unsupported, "\(path): model type \(type) is not byte-level BPE")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = model[key] as? String, !s.isEmpty {
                throw StepwiseError(.unsupported, "\(path): BPE option \(key) '\(s)' is not supported by byte-level BPE")
            }
        }
        if let b = model["byte_fallback"] as? Bool, b {
            throw StepwiseError(.unsupported, "\(path): BPE byte_fallback (SentencePiece-style vocabulary) is not byte-level BPE")
        }
        guard let vocab = model["vocab"] as? [String: Any] else {
            throw StepwiseError.file(path, "model.vocab is missing or not an object of piece → id")
        }
        guard let rawMerges = model["merges"] as? [Any] else {
            throw StepwiseError.file(path, "model.merges is missing or not an array")
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(rawMerges.count)
        for (k, m) in rawMerges.enumerated() {
            if let s = m as? String {
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw StepwiseError.file(path, "merge \(k) '\(s)' is not two pieces separated by one space")
                }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let a = m as? [Any], a.count == 2, let l = a[0] as? String, let r = a[1] as? String {
                merges.append((l, r))
            } else {
                throw StepwiseError.file(path, "merge \(k) is neither a \"a b\" string nor a [a, b] pair")
            }
        }

        // Vocabulary plus added tokens, by id.
        var byID: [Int: String] = [:]
        byID.reserveCapacity(vocab.count)
        for (piece, v) in vocab {
            guard let id = v as? Int, id >= 0, id < maxID else {
                throw StepwiseError.file(path, "model.vocab['\(piece)'] is not an id in 0..<\(maxID): \(v)")
            }
            if let other = byID[id] {
                throw StepwiseError.file(path, "id \(id) is given to two pieces, '\(other)' and '\(piece)'")
            }
            byID[id] = piece
        }
        var specials: [String: Int] = [:]
        if let added = root["added_tokens"] as? [Any] {
            for (k, a) in added.enumerated() {
                guard let t = a as? [String: Any], let id = t["id"] as? Int, id >= 0, id < maxID,
                      let content = t["content"] as? String, !content.isEmpty else {
                    throw StepwiseError.file(path, "added_tokens[\(k)] needs an \"id\" and a non-empty \"content\"")
                }
                if let other = byID[id], other != content {
                    throw StepwiseError.file(path, "added token '\(content)' has id \(id), which the vocabulary gives to '\(other)'")
                }
                if let v = vocab[content] as? Int, v != id {
                    throw StepwiseError.file(path, "added token '\(content)' has id \(id) but the vocabulary gives it \(v)")
                }
                byID[id] = content
                specials[content] = id
            }
        }
        let count = (byID.keys.max() ?? -1) + 1
        try checkSparse(count: count, pieces: byID.count, path: path)
        var pieces = [String?](repeating: nil, count: count)
        var ids: [String: Int] = [:]
        ids.reserveCapacity(byID.count)
        for (id, p) in byID {
            pieces[id] = p
            ids[p] = id
        }

        // Normalizer: none, or NFC.
        var nfc = false
        if let norm = root["normalizer"] as? [String: Any] {
            let t = norm["type"] as? String ?? "?"
            guard t == "NFC" else {
                throw StepwiseError(.unsupported, "\(path): normalizer \(t) is not supported (only none or NFC)")
            }
            nfc = true
        }
        let kind = try override ?? preTokenizerKind(root["pre_tokenizer"], path: path)

        // BOS/EOS: the post-processor says whether a BOS is added; tokenizer_config.json names them.
        var special = SpecialTokens()
        let configPath = (folder as NSString).appendingPathComponent("tokenizer_config.json")
        var config: [String: Any] = [:]
        if FileManager.default.fileExists(atPath: configPath) {
            guard let c = try readJSON(configPath) as? [String: Any] else {
                throw StepwiseError.file(configPath, "is not a JSON object")
            }
            config = c
        }
        special.bos = tokenName(config["bos_token"]).flatMap { ids[$0] }
        special.eos = tokenName(config["eos_token"]).flatMap { ids[$0] }
        special.unknown = tokenName(config["unk_token"]).flatMap { ids[$0] }
        special.padding = tokenName(config["pad_token"]).flatMap { ids[$0] }
        if let post = root["post_processor"] as? [String: Any], post["type"] as? String == "TemplateProcessing",
           let single = post["single"] as? [Any] {
            if let first = single.first as? [String: Any], let st = first["SpecialToken"] as? [String: Any],
               let name = st["id"] as? String, let id = ids[name] {
                special.addBOS = true
                special.bos = special.bos ?? id
            }
            if single.count > 1, let last = single.last as? [String: Any], let st = last["SpecialToken"] as? [String: Any],
               let name = st["id"] as? String, let id = ids[name] {
                special.addEOS = true
                special.eos = special.eos ?? id
            }
        }
        if special.bos == nil, special.eos == nil, let e = ids["<|endoftext|>"] {
            special.bos = e
            special.eos = e
        }
        return try ByteLevelBPE(pieces: pieces, ids: ids, merges: merges, preTokenizer: kind, specialTokens: specials,
                                special: special, ignoreMerges: model["ignore_merges"] as? Bool ?? false,
                                normalizeNFC: nfc, source: path)
    }

    /// The ``PreTokenizerKind`` a tokenizer.json `pre_tokenizer` object describes.
    static func preTokenizerKind(_ value: Any?, path: String) throws -> PreTokenizerKind {
        func unsupported(_ what: String) -> StepwiseError {
            StepwiseError(.unsupported, "\(path): pre_tokenizer \(what) is not one Stepwise knows (ByteLevel; Digits + ByteLevel; Split with the Llama 3 or Qwen2 regex + ByteLevel)")
        }
        guard let pre = value as? [String: Any], let type = pre["type"] as? String else {
            throw unsupported("(missing)")
        }
        func byteLevel(_ p: [String: Any], regex: Bool) throws {
            guard p["type"] as? String == "ByteLevel" else { throw unsupported(p["type"] as? String ?? "?") }
            if p["add_prefix_space"] as? Bool == true {
                throw StepwiseError(.unsupported, "\(path): ByteLevel add_prefix_space is not supported")
            }
            let usesRegex = p["use_regex"] as? Bool ?? true
            guard usesRegex == regex else {
                throw unsupported(regex ? "ByteLevel without its regex" : "Split followed by ByteLevel with its regex")
            }
        }
        if type == "ByteLevel" {
            try byteLevel(pre, regex: true)
            return .gpt2
        }
        guard type == "Sequence", let list = pre["pretokenizers"] as? [[String: Any]], list.count == 2 else {
            throw unsupported(type)
        }
        let first = list[0]
        switch first["type"] as? String {
        case "Digits":
            guard first["individual_digits"] as? Bool == true else { throw unsupported("Digits without individual_digits") }
            try byteLevel(list[1], regex: true)
            return .smollm
        case "Split":
            guard let pattern = (first["pattern"] as? [String: Any])?["Regex"] as? String else {
                throw unsupported("Split without a regex pattern")
            }
            let behavior = first["behavior"] as? String ?? "Isolated"
            guard behavior == "Isolated", first["invert"] as? Bool ?? false == false else {
                throw unsupported("Split with behavior \(behavior)")
            }
            try byteLevel(list[1], regex: false)
            if pattern == PreTokenizerKind.llama3Pattern { return .llama3 }
            if pattern == PreTokenizerKind.qwen2Pattern { return .qwen2 }
            throw unsupported("Split regex \(pattern)")
        default:
            throw unsupported("Sequence starting with \(first["type"] as? String ?? "?")")
        }
    }

    /// A token named in tokenizer_config.json: a string or `{"content": ...}`.
    private static func tokenName(_ v: Any?) -> String? {
        if let s = v as? String { return s }
        if let d = v as? [String: Any] { return d["content"] as? String }
        return nil
    }

    // MARK: - vocab.json + merges.txt, encoder.json + vocab.bpe

    /// Reads a JSON vocabulary (piece → id) and a text merge list (`#version` header, one `a b` per line).
    static func loadVocabAndMerges(vocabPath: String, mergesPath: String, folder: String,
                                   preTokenizer: PreTokenizerKind) throws -> ByteLevelBPE {
        guard let vocab = try readJSON(vocabPath) as? [String: Any] else {
            throw StepwiseError.file(vocabPath, "is not a JSON object of piece → id")
        }
        var byID: [Int: String] = [:]
        for (piece, v) in vocab {
            guard let id = v as? Int, id >= 0, id < maxID else {
                throw StepwiseError.file(vocabPath, "'\(piece)' has no valid id (got \(v))")
            }
            if let other = byID[id] {
                throw StepwiseError.file(vocabPath, "id \(id) is given to two pieces, '\(other)' and '\(piece)'")
            }
            byID[id] = piece
        }
        try checkSparse(count: (byID.keys.max() ?? -1) + 1, pieces: byID.count, path: vocabPath)
        var pieces = [String?](repeating: nil, count: (byID.keys.max() ?? -1) + 1)
        var ids: [String: Int] = [:]
        for (id, p) in byID {
            pieces[id] = p
            ids[p] = id
        }

        let text: String
        do {
            text = try String(contentsOfFile: mergesPath, encoding: .utf8)
        } catch {
            throw StepwiseError.file(mergesPath, "cannot be read as UTF-8 text")
        }
        var merges: [(String, String)] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = line.hasSuffix("\r") ? line.dropLast() : line
            if l.isEmpty || (n == 0 && l.hasPrefix("#version")) { continue }
            let parts = l.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 else {
                throw StepwiseError.file(mergesPath, "line \(n + 1) '\(l)' is not two pieces separated by a space")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }

        var specials: [String: Int] = [:]
        var special = SpecialTokens()
        if let e = ids["<|endoftext|>"] {
            specials["<|endoftext|>"] = e
            special.bos = e
            special.eos = e
        }
        return try ByteLevelBPE(pieces: pieces, ids: ids, merges: merges, preTokenizer: preTokenizer,
                                specialTokens: specials, special: special, ignoreMerges: false,
                                normalizeNFC: false, source: mergesPath)
    }

    /// Ids above this are taken as a malformed file rather than allocated.
    static let maxID = 10_000_000

    /// Refuses a vocabulary whose ids are mostly holes (a few pieces with huge ids), which would make a
    /// tiny file allocate a table of millions of entries. Real vocabularies are dense.
    static func checkSparse(count: Int, pieces: Int, path: String) throws {
        guard count <= 2 * pieces + 1024 else {
            throw StepwiseError.file(path, "ids run up to \(count - 1) but there are only \(pieces) pieces (the vocabulary is mostly holes)")
        }
    }

    /// Reads and parses a JSON file, with errors naming it.
    static func readJSON(_ path: String) throws -> Any {
        // Read through a mapping: Foundation's Data(contentsOf:) leaks a 4 KB buffer on an empty file
        // (found by the tokenizer-json fuzzer under LeakSanitizer).
        let data: Data
        do {
            data = try MappedFile.data(path: path)
        } catch {
            throw StepwiseError.file(path, "cannot be read")
        }
        do {
            return try JSONSerialization.jsonObject(with: data)
        } catch {
            throw StepwiseError.file(path, "is not valid JSON (\(error.localizedDescription))")
        }
    }
}
