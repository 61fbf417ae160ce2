import Foundation

extension ByteLevelBPE {
    /// The file sets ``load(folder:preTokenizer:)`` looks for, in order of preference.
    public static let fileSets: [[String]] = [["tokenizer.json"], ["vocab.json", "merges.txt"], ["encoder.json", "vocab.bpe"]]

    /// Loads a byte-level BPE tokenizer from a folder.
    ///
    /// Looks, in order, for `tokenizer.json` (Hugging Face `tokenizers`), `vocab.json` + `merges.txt`
    /// (Hugging Face GPT-2 style), `encoder.json` + `vocab.bpe` (OpenAI's GPT-2 release).
    /// - `tokenizer.json`: `model.type` BPE with `vocab` and `merges` (`"a b"` strings or `["a", "b"]` pairs);
    ///   `added_tokens` (special or not) are matched whole in text, leftmost-longest, taking the whitespace
    ///   before / after them when `lstrip` / `rstrip` is set (`single_word` is not applied); the
    ///   pre-tokenizer must be `ByteLevel` (→ gpt2; with `add_prefix_space` a space goes before each stretch
    ///   of text between added tokens that does not start with one) or a `Sequence` of
    ///   `Digits(individual_digits)` + `ByteLevel` (→ smollm) or `Split(regex)` + `ByteLevel` where the regex
    ///   is Llama 3's or Qwen2's. BOS/EOS come from `tokenizer_config.json` when present, and the
    ///   `post_processor` (``PostProcessor``: TemplateProcessing, RobertaProcessing, ...) says which are
    ///   added, as `tokenizers` adds them.
    /// - The other two: GPT-2's pre-tokenizer; `<|endoftext|>`, when in the vocabulary, is the special
    ///   BOS/EOS token and is matched whole in text (as transformers' GPT-2 tokenizer does).
    /// - Parameters:
    ///   - folder: the directory holding the files.
    ///   - preTokenizer: overrides the pre-tokenizer the files imply (e.g. ``PreTokenizerKind/smollm`` for a
    ///     tokenizer.json exported from a SmolLM2 GGUF, which loses the digit split).
    ///   - limit: the model's vocabulary size, when known: an id at or above it is refused as soon as it
    ///     is read, before anything is built (the files do not belong to the model).
    /// - Throws: ``StepwiseError`` naming the file and what is wrong, or listing the files looked for.
    public static func load(folder: String, preTokenizer: PreTokenizerKind? = nil,
                            limit: VocabularyLimit? = nil) throws -> ByteLevelBPE {
        let fm = FileManager.default
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        func exists(_ name: String) -> Bool { fm.fileExists(atPath: path(name)) }
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw StepwiseError.file(folder, "is not a folder (expected a tokenizer folder)")
        }
        if exists("tokenizer.json") {
            return try loadHuggingFace(path: path("tokenizer.json"), folder: folder, preTokenizer: preTokenizer, limit: limit)
        }
        for set in fileSets.dropFirst() where set.allSatisfy(exists) {
            return try loadVocabAndMerges(vocabPath: path(set[0]), mergesPath: path(set[1]), folder: folder,
                                          preTokenizer: preTokenizer ?? .gpt2, limit: limit)
        }
        let wanted = fileSets.map { $0.joined(separator: " + ") }.joined(separator: ", or ")
        let partial = fileSets.flatMap { $0 }.filter(exists)
        let found = partial.isEmpty ? "" : " (found only \(partial.joined(separator: ", ")))"
        throw StepwiseError.file(folder, "no byte-level BPE tokenizer: looked for \(wanted)\(found)")
    }

    // MARK: - Hugging Face tokenizer.json

    /// Reads a Hugging Face `tokenizer.json`.
    ///
    /// The file is walked once by ``JSONReader``: the vocabulary, merges and added tokens go straight into
    /// the tables the tokenizer needs (nothing else of them is kept), the other small fields
    /// (`normalizer`, `pre_tokenizer`, `post_processor`) are read as trees, the rest is skipped.
    static func loadHuggingFace(path: String, folder: String, preTokenizer override: PreTokenizerKind?,
                                limit: VocabularyLimit? = nil) throws -> ByteLevelBPE {
        let file = try mapped(path)
        var r = JSONReader(path: path, bytes: file.bytes, maxValues: 100_000)
        guard try r.peek() == .object else {
            throw StepwiseError.file(path, "is not a JSON object")
        }
        var sawModel = false
        var type: String?
        var options: [String: JSONValue] = [:]
        var vocabIs: JSONReader.Kind?, mergesAre: JSONReader.Kind?
        var ids: [String: Int] = [:]
        var byID: [Int: String] = [:]
        var merges: [(String, String)] = []
        var added: [(content: String, id: Int)] = []
        var lstrip = Set<Int>(), rstrip = Set<Int>()
        var root: [String: JSONValue] = [:]
        try r.object("the file") { r, key in
            switch key {
            case "model":
                sawModel = true
                guard try r.peek() == .object else { try r.skip(); sawModel = false; return }
                try r.object("model") { r, k in
                    switch k {
                    case "type": type = try r.null() ? nil : try r.string("model.type")
                    case "vocab":
                        vocabIs = try r.peek()
                        guard vocabIs == .object, type == nil || type == "BPE" else { try r.skip(); return }
                        try readVocabulary(&r, what: "model.vocab", path: path, limit: limit, ids: &ids, byID: &byID)
                    case "merges":
                        mergesAre = try r.peek()
                        guard mergesAre == .array, type == nil || type == "BPE" else { try r.skip(); return }
                        try r.array("model.merges") { r, n in merges.append(try readMerge(&r, n, path: path)) }
                    case "continuing_subword_prefix", "end_of_word_suffix", "byte_fallback", "ignore_merges":
                        options[k] = try r.value(at: "model." + k)
                    default:
                        try r.skip()
                    }
                }
            case "added_tokens":
                guard try r.peek() == .array else { try r.skip(); return }
                try r.array("added_tokens") { r, k in
                    var id: Int?, content: String?, strips = (left: false, right: false)
                    let bad = StepwiseError.file(path, "added_tokens[\(k)] needs an \"id\" and a non-empty \"content\"")
                    guard try r.peek() == .object else { throw bad }
                    try r.object("added_tokens[\(k)]") { r, f in
                        switch f {
                        case "id":
                            guard try r.peek() == .number, let n = try r.number("").int, n >= 0, n < maxID else { throw bad }
                            id = n
                        case "content":
                            guard try r.peek() == .string else { throw bad }
                            content = try r.string("")
                        case "lstrip", "rstrip":
                            // Read in place (not as a tree): a file may hold hundreds of thousands of added tokens.
                            let kind = try r.peek()
                            guard kind == .bool else { throw StepwiseError.file(path, "added_tokens[\(k)].\(f) is \(kind.article), expected true or false") }
                            let b = try r.bool("")
                            if f == "lstrip" { strips.left = b } else { strips.right = b }
                        default: try r.skip()
                        }
                    }
                    guard let id, let content, !content.isEmpty else { throw bad }
                    if let limit, id >= limit.size {
                        throw StepwiseError.file(path, "added token '\(content)' has id \(id), but \(limit.source) is \(limit.size): the tokenizer files and config.json do not belong together")
                    }
                    added.append((content, id))
                    if strips.left { lstrip.insert(id) }
                    if strips.right { rstrip.insert(id) }
                }
            case "normalizer", "pre_tokenizer", "post_processor":
                root[key] = try r.value(at: key)
            default:
                try r.skip()
            }
        }
        try r.end()
        guard sawModel else {
            throw StepwiseError.file(path, "has no \"model\" object")
        }
        let modelType = type ?? "BPE"
        guard modelType == "BPE" else {
            throw StepwiseError(.unsupported, "\(path): model type \(modelType) is not byte-level BPE")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = options[key]?.string, !s.isEmpty {
                throw StepwiseError(.unsupported, "\(path): BPE option \(key) '\(s)' is not supported by byte-level BPE")
            }
        }
        if options["byte_fallback"]?.bool == true {
            throw StepwiseError(.unsupported, "\(path): BPE byte_fallback (SentencePiece-style vocabulary) is not byte-level BPE")
        }
        guard vocabIs == .object else {
            throw StepwiseError.file(path, "model.vocab is missing or not an object of piece → id")
        }
        guard mergesAre == .array else {
            throw StepwiseError.file(path, "model.merges is missing or not an array")
        }

        // Added tokens join the vocabulary by id.
        var specials: [String: Int] = [:]
        for (content, id) in added {
            if let other = byID[id], other != content {
                throw StepwiseError.file(path, "added token '\(content)' has id \(id), which the vocabulary gives to '\(other)'")
            }
            if let v = ids[content], v != id {
                throw StepwiseError.file(path, "added token '\(content)' has id \(id) but the vocabulary gives it \(v)")
            }
            byID[id] = content
            ids[content] = id
            specials[content] = id
        }
        let count = (byID.keys.max() ?? -1) + 1
        try checkSparse(count: count, pieces: byID.count, path: path)
        var pieces = [String?](repeating: nil, count: count)
        for (id, p) in byID { pieces[id] = p }

        // Normalizer: none, or NFC.
        var nfc = false
        if let norm = root["normalizer"]?.object {
            let t = norm["type"]?.string ?? "?"
            guard t == "NFC" else {
                throw StepwiseError(.unsupported, "\(path): normalizer \(t) is not supported (only none or NFC)")
            }
            nfc = true
        }
        let kind = try override ?? preTokenizerKind(root["pre_tokenizer"], path: path)
        let prefixSpace = addsPrefixSpace(root["pre_tokenizer"])

        // BOS/EOS: the post-processor says whether a BOS is added; tokenizer_config.json names them.
        var special = SpecialTokens()
        let configPath = (folder as NSString).appendingPathComponent("tokenizer_config.json")
        var config = JSONObject(keys: [], values: [:])
        if FileManager.default.fileExists(atPath: configPath) {
            let c = try JSONReader.readFile(configPath)
            guard let o = c.object else {
                throw StepwiseError.file(configPath, "is \(c.kind.article), expected a JSON object")
            }
            config = o
        }
        special.bos = tokenName(config["bos_token"]).flatMap { ids[$0] }
        special.eos = tokenName(config["eos_token"]).flatMap { ids[$0] }
        special.unknown = tokenName(config["unk_token"]).flatMap { ids[$0] }
        special.padding = tokenName(config["pad_token"]).flatMap { ids[$0] }
        if let post = try PostProcessor.read(root["post_processor"], path: path, vocabularySize: count, idOf: { ids[$0] }) {
            post.apply(to: &special)
        }
        if special.bos == nil, special.eos == nil, let e = ids["<|endoftext|>"] {
            special.bos = e
            special.eos = e
        }
        return try ByteLevelBPE(pieces: pieces, ids: ids, merges: merges, preTokenizer: kind, specialTokens: specials,
                                special: special, ignoreMerges: options["ignore_merges"]?.bool ?? false,
                                normalizeNFC: nfc, addPrefixSpace: prefixSpace, lstrip: lstrip, rstrip: rstrip, source: path)
    }

    /// The ``PreTokenizerKind`` a tokenizer.json `pre_tokenizer` object describes.
    static func preTokenizerKind(_ value: JSONValue?, path: String) throws -> PreTokenizerKind {
        func unsupported(_ what: String) -> StepwiseError {
            StepwiseError(.unsupported, "\(path): pre_tokenizer \(what) is not one Stepwise knows (ByteLevel; Digits + ByteLevel; Split with the Llama 3 or Qwen2 regex + ByteLevel)")
        }
        guard let pre = value?.object, let type = pre["type"]?.string else {
            throw unsupported("(missing)")
        }
        func byteLevel(_ p: JSONValue, regex: Bool, alone: Bool = false) throws {
            guard p["type"]?.string == "ByteLevel" else { throw unsupported(p["type"]?.string ?? "?") }
            if p["add_prefix_space"]?.bool == true && !alone {
                throw StepwiseError(.unsupported, "\(path): ByteLevel add_prefix_space is supported only when ByteLevel is the whole pre_tokenizer, not inside a Sequence")
            }
            let usesRegex = p["use_regex"]?.bool ?? true
            guard usesRegex == regex else {
                throw unsupported(regex ? "ByteLevel without its regex" : "Split followed by ByteLevel with its regex")
            }
        }
        if type == "ByteLevel" {
            try byteLevel(.object(pre), regex: true, alone: true)
            return .gpt2
        }
        guard type == "Sequence", let list = pre["pretokenizers"]?.array, list.count == 2,
              list.allSatisfy({ $0.object != nil }) else {
            throw unsupported(type)
        }
        let first = list[0]
        switch first["type"]?.string {
        case "Digits":
            guard first["individual_digits"]?.bool == true else { throw unsupported("Digits without individual_digits") }
            try byteLevel(list[1], regex: true)
            return .smollm
        case "Split":
            guard let pattern = first["pattern"]?["Regex"]?.string else {
                throw unsupported("Split without a regex pattern")
            }
            let behavior = first["behavior"]?.string ?? "Isolated"
            guard behavior == "Isolated", first["invert"]?.bool ?? false == false else {
                throw unsupported("Split with behavior \(behavior)")
            }
            try byteLevel(list[1], regex: false)
            if pattern == PreTokenizerKind.llama3Pattern { return .llama3 }
            if pattern == PreTokenizerKind.qwen2Pattern { return .qwen2 }
            throw unsupported("Split regex \(pattern)")
        default:
            throw unsupported("Sequence starting with \(first["type"]?.string ?? "?")")
        }
    }

    /// Whether a tokenizer.json `pre_tokenizer` is `ByteLevel` with `add_prefix_space` (then a space is put
    /// before each stretch of text between added tokens that does not start with one, as `tokenizers` does).
    static func addsPrefixSpace(_ value: JSONValue?) -> Bool {
        value?["type"]?.string == "ByteLevel" && value?["add_prefix_space"]?.bool == true
    }

    /// A token named in tokenizer_config.json: a string or `{"content": ...}`.
    private static func tokenName(_ v: JSONValue?) -> String? {
        if let s = v?.string { return s }
        return v?["content"]?.string
    }

    // MARK: - vocab.json + merges.txt, encoder.json + vocab.bpe

    /// Reads a JSON vocabulary (piece → id) and a text merge list (`#version` header, one `a b` per line;
    /// LF or CRLF line ends, an optional UTF-8 byte-order mark).
    static func loadVocabAndMerges(vocabPath: String, mergesPath: String, folder: String,
                                   preTokenizer: PreTokenizerKind, limit: VocabularyLimit? = nil) throws -> ByteLevelBPE {
        var ids: [String: Int] = [:]
        var byID: [Int: String] = [:]
        do {
            let file = try mapped(vocabPath)
            var r = JSONReader(path: vocabPath, bytes: file.bytes, maxValues: 0)
            guard try r.peek() == .object else {
                throw StepwiseError.file(vocabPath, "is not a JSON object of piece → id")
            }
            try readVocabulary(&r, what: "the vocabulary", path: vocabPath, limit: limit, ids: &ids, byID: &byID,
                               describe: { "'\($0)'" })
            try r.end()
        }
        let count = (byID.keys.max() ?? -1) + 1
        try checkSparse(count: count, pieces: byID.count, path: vocabPath)
        var pieces = [String?](repeating: nil, count: count)
        for (id, p) in byID { pieces[id] = p }

        let lines = try TextLines(path: mergesPath)
        var merges: [(String, String)] = []
        for (n, l) in lines.lines.enumerated() {
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

    // MARK: - Shared pieces

    /// Ids above this are taken as a malformed file rather than allocated.
    static let maxID = 10_000_000

    /// Refuses a vocabulary whose ids are mostly holes (a few pieces with huge ids), which would make a
    /// tiny file allocate a table of millions of entries. Real vocabularies are dense.
    static func checkSparse(count: Int, pieces: Int, path: String) throws {
        guard count <= 2 * pieces + 1024 else {
            throw StepwiseError.file(path, "ids run up to \(count - 1) but there are only \(pieces) pieces (the vocabulary is mostly holes)")
        }
    }

    /// Reads a piece → id object into `ids` and `byID`, refusing an id that is not a whole number in
    /// `0..<maxID`, at or above `limit`, or given twice, and a piece given twice.
    static func readVocabulary(_ r: inout JSONReader, what: String, path: String, limit: VocabularyLimit?,
                               ids: inout [String: Int], byID: inout [Int: String],
                               describe: (String) -> String = { "model.vocab['\($0)']" }) throws {
        try r.object(what, checkDuplicates: false) { r, piece in
            let kind = try r.peek()
            guard kind == .number else {
                throw StepwiseError.file(path, "\(describe(piece)) is \(kind.article), expected an id (a whole number)")
            }
            let n = try r.number("")
            guard let id = n.int, id >= 0, id < maxID else {
                throw StepwiseError.file(path, "\(describe(piece)) has no valid id: \(n.text) is not an id in 0..<\(maxID)")
            }
            if let limit, id >= limit.size {
                throw StepwiseError.file(path, "\(describe(piece)) has id \(id), but \(limit.source) is \(limit.size): the tokenizer files and config.json do not belong together")
            }
            if let other = byID.updateValue(piece, forKey: id) {
                throw StepwiseError.file(path, "id \(id) is given to two pieces, '\(other)' and '\(piece)'")
            }
            if ids.updateValue(id, forKey: piece) != nil {
                throw StepwiseError.file(path, "the piece '\(piece)' appears twice in \(what)")
            }
        }
    }

    /// One merge of a tokenizer.json: `"a b"` or `["a", "b"]`.
    static func readMerge(_ r: inout JSONReader, _ k: Int, path: String) throws -> (String, String) {
        switch try r.peek() {
        case .string:
            let s = try r.string("")
            let parts = s.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw StepwiseError.file(path, "merge \(k) '\(s)' is not two pieces separated by one space")
            }
            return (String(parts[0]), String(parts[1]))
        case .array:
            var pair: [String] = []
            var ok = true
            try r.array("merge \(k)") { r, _ in
                if try r.peek() == .string { pair.append(try r.string("")) } else { ok = false; try r.skip() }
            }
            guard ok, pair.count == 2 else {
                throw StepwiseError.file(path, "merge \(k) is neither a \"a b\" string nor a [a, b] pair")
            }
            return (pair[0], pair[1])
        default:
            throw StepwiseError.file(path, "merge \(k) is neither a \"a b\" string nor a [a, b] pair")
        }
    }

    /// Maps a file (the error names it and says why it cannot be opened).
    static func mapped(_ path: String) throws -> MappedFile {
        try MappedFile(path: path)
    }
}

/// The model's vocabulary size, which a tokenizer loaded for it must not exceed, and where it comes
/// from (for the message: `config.json's vocab_size`).
public struct VocabularyLimit: Sendable {
    public var size: Int
    public var source: String
    public init(size: Int, source: String) {
        self.size = size
        self.source = source
    }
}
