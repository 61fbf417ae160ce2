import Foundation

extension Unigram {
    /// The `model.type` of a tokenizer.json (nil when the file cannot be read or has none); reads the
    /// file's structure without building anything, and stops at the type (before the vocabulary that
    /// usually follows it).
    static func modelType(tokenizerJSON path: String) -> String? {
        struct Found: Error { var type: String }
        guard let file = try? MappedFile(path: path) else { return nil }
        return withExtendedLifetime(file) {
            var r = JSONReader(path: path, bytes: file.bytes, maxValues: 1000)
            do {
                try r.object("the file") { r, key in
                    guard key == "model", try r.peek() == .object else { try r.skip(); return }
                    try r.object("model") { r, k in
                        if k == "type", try r.peek() == .string { throw Found(type: try r.string(k)) }
                        try r.skip()
                    }
                }
            } catch let f as Found {
                return f.type
            } catch {
                return nil
            }
            return nil
        }
    }

    /// Loads `tokenizer.json` from a folder (see ``load(tokenizerJSON:folder:limit:)``).
    public static func load(folder: String, limit: VocabularyLimit? = nil) throws -> Unigram {
        try load(tokenizerJSON: (folder as NSString).appendingPathComponent("tokenizer.json"), folder: folder, limit: limit)
    }

    /// Reads a Hugging Face tokenizer.json whose model is `Unigram` (T5, mT5, ALBERT, XLM-R, converted
    /// Marian).
    ///
    /// - `model`: `vocab` as `[[piece, score], ...]` (read straight into the tables), `unk_id` (may be
    ///   null), `byte_fallback`.
    /// - `added_tokens`: matched whole (in the raw text, or after normalization when `normalized`), with
    ///   their `lstrip` / `rstrip`; an id past the vocabulary extends it.
    /// - `normalizer`, `pre_tokenizer`, `decoder`: see ``TextNormalizer``, ``PreTokenizerStep``,
    ///   ``TokenDecoder``; `post_processor`: see ``PostProcessor`` (T5's `$A </s>` sets EOS to be added).
    /// - `tokenizer_config.json` beside it, when present, names the BOS / EOS / padding / unknown tokens
    ///   the post-processor does not.
    /// - Parameter limit: the model's vocabulary size: a larger vocabulary is refused while it is read.
    /// - Throws: ``StepwiseError`` naming the file and the field for anything malformed or unsupported.
    public static func load(tokenizerJSON path: String, folder: String, limit: VocabularyLimit? = nil) throws -> Unigram {
        let file = try MappedFile(path: path)
        return try withExtendedLifetime(file) {
            var r = JSONReader(path: path, bytes: file.bytes, maxValues: 100_000)
            guard try r.peek() == .object else { throw StepwiseError.file(path, "is not a JSON object") }
            var type: String?
            var vocab: [(piece: String, score: Double)] = []
            var sawVocab = false
            var unk: JSONValue?
            var byteFallback = false
            var added: [AddedToken] = []
            var root: [String: JSONValue] = [:]
            let cap = min(limit?.size ?? ByteLevelBPE.maxID, ByteLevelBPE.maxID)
            try r.object("the file") { r, key in
                switch key {
                case "model":
                    guard try r.peek() == .object else { throw StepwiseError.file(path, "\"model\" is not an object") }
                    try r.object("model") { r, k in
                        switch k {
                        case "type": type = try r.null() ? nil : try r.string("model.type")
                        case "unk_id": unk = try r.value(at: "model.unk_id")
                        case "byte_fallback":
                            let v = try r.value(at: "model.byte_fallback")
                            guard let b = v.bool else { throw StepwiseError.file(path, "model.byte_fallback is \(v.shown), expected true or false") }
                            byteFallback = b
                        case "vocab":
                            let kind = try r.peek()
                            guard kind == .array else {
                                throw StepwiseError.file(path, "model.vocab is \(kind.article), expected a list of [piece, score] pairs")
                            }
                            sawVocab = true
                            try r.array("model.vocab") { r, n in
                                if n >= cap {
                                    if let limit, n >= limit.size {
                                        throw StepwiseError.file(path, "model.vocab has more than \(limit.size) pieces, but \(limit.source) is \(limit.size): the tokenizer files and config.json do not belong together")
                                    }
                                    throw StepwiseError.file(path, "model.vocab has more than \(ByteLevelBPE.maxID) pieces")
                                }
                                vocab.append(try readPair(&r, n, path: path))
                            }
                        default: try r.skip()
                        }
                    }
                case "added_tokens":
                    let kind = try r.peek()
                    guard kind == .array else {
                        if kind == .null { try r.skip(); return }
                        throw StepwiseError.file(path, "added_tokens is \(kind.article), expected a list")
                    }
                    try r.array("added_tokens") { r, k in
                        let t = try readAdded(&r, k, path: path)
                        if let limit, t.id >= limit.size {
                            throw StepwiseError.file(path, "added token '\(t.content)' has id \(t.id), but \(limit.source) is \(limit.size): the tokenizer files and config.json do not belong together")
                        }
                        added.append(t)
                    }
                case "normalizer", "pre_tokenizer", "post_processor", "decoder":
                    root[key] = try r.value(at: key)
                default:
                    try r.skip()
                }
            }
            try r.end()
            guard let type else { throw StepwiseError.file(path, "has no \"model\" object with a \"type\"") }
            guard type == "Unigram" else {
                throw StepwiseError(.unsupported, "\(path): model type \(type) is not Unigram")
            }
            guard sawVocab else { throw StepwiseError.file(path, "model.vocab is missing (a list of [piece, score] pairs)") }
            var unknownID: Int?
            switch unk {
            case nil, .null?: unknownID = nil
            case .number(let n)?:
                guard let id = n.int, id >= 0 else {
                    throw StepwiseError.file(path, "model.unk_id is \(n.text), expected an id (a whole number from 0)")
                }
                unknownID = id
            case let v?:
                throw StepwiseError.file(path, "model.unk_id is \(v.shown), expected an id or null")
            }

            let normalizer = try TextNormalizer.read(root["normalizer"], path: path)
            let pre = try PreTokenizerStep.read(root["pre_tokenizer"], path: path)
            let decoder = try TokenDecoder.read(root["decoder"], path: path)

            // Special ids: tokenizer_config.json's names, else the usual ones, then the post-processor's.
            var byText: [String: Int] = [:]
            for (i, p) in vocab.enumerated() where p.piece.hasPrefix("<") && byText[p.piece] == nil { byText[p.piece] = i }
            for t in added { byText[t.content] = t.id }
            var special = SpecialTokens()
            let config = try tokenizerConfig(folder)
            func named(_ key: String, _ fallback: [String]) -> Int? {
                if let name = config.flatMap({ tokenName($0[key]) }) { return byText[name] }
                return fallback.lazy.compactMap { byText[$0] }.first
            }
            special.unknown = unknownID
            special.padding = named("pad_token", ["<pad>"])
            special.bos = named("bos_token", ["<s>", "<bos>"])
            special.eos = named("eos_token", ["</s>", "<eos>"])
            let size = max(vocab.count, (added.map(\.id).max() ?? -1) + 1)
            let tok = try Unigram(vocabulary: vocab, unknownID: unknownID, byteFallback: byteFallback, normalizer: normalizer,
                                  preTokenizer: pre, decoder: decoder, added: added, special: special, source: path)
            if let post = try PostProcessor.read(root["post_processor"], path: path, vocabularySize: size, idOf: { tok.id(for: $0) }) {
                var s = special
                post.apply(to: &s)
                return tok.with(specialTokens: s)
            }
            return tok
        }
    }

    /// The same tokenizer with other special tokens.
    func with(specialTokens s: SpecialTokens) -> Unigram {
        var copy = self
        copy.specialTokens = s
        return copy
    }

    /// One `[piece, score]` of `model.vocab`.
    private static func readPair(_ r: inout JSONReader, _ n: Int, path: String) throws -> (piece: String, score: Double) {
        let bad = StepwiseError.file(path, "model.vocab[\(n)] is not a [piece, score] pair (a string and a number)")
        guard try r.peek() == .array else { throw bad }
        var piece: String?, score: Double?, count = 0
        try r.array("model.vocab[\(n)]") { r, k in
            count += 1
            switch (k, try r.peek()) {
            case (0, .string): piece = try r.string("")
            case (1, .number): score = try r.number("").double
            default: throw bad
            }
        }
        guard count == 2, let piece, let score else { throw bad }
        guard score.isFinite else {
            throw StepwiseError.file(path, "model.vocab[\(n)] ('\(piece)') has a score that is not a finite number")
        }
        return (piece, score)
    }

    /// One entry of `added_tokens`, read in place (a file may hold hundreds of thousands).
    private static func readAdded(_ r: inout JSONReader, _ k: Int, path: String) throws -> AddedToken {
        let bad = StepwiseError.file(path, "added_tokens[\(k)] needs an \"id\" (a whole number) and a non-empty \"content\"")
        guard try r.peek() == .object else { throw bad }
        var id: Int?, content: String?
        var flags: [String: Bool] = [:]
        try r.object("added_tokens[\(k)]") { r, f in
            switch f {
            case "id":
                guard try r.peek() == .number, let n = try r.number("").int, n >= 0, n < ByteLevelBPE.maxID else { throw bad }
                id = n
            case "content":
                guard try r.peek() == .string else { throw bad }
                content = try r.string("")
            case "special", "normalized", "lstrip", "rstrip":
                let kind = try r.peek()
                guard kind == .bool else { throw StepwiseError.file(path, "added_tokens[\(k)].\(f) is \(kind.article), expected true or false") }
                flags[f] = try r.bool("")
            default: try r.skip()
            }
        }
        guard let id, let content, !content.isEmpty else { throw bad }
        let special = flags["special"] ?? false
        return AddedToken(content: content, id: id, special: special, normalized: flags["normalized"] ?? !special,
                          lstrip: flags["lstrip"] ?? false, rstrip: flags["rstrip"] ?? false)
    }

    /// tokenizer_config.json beside the tokenizer, when there is one.
    static func tokenizerConfig(_ folder: String) throws -> JSONObject? {
        let path = (folder as NSString).appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let c = try JSONReader.readFile(path)
        guard let o = c.object else { throw StepwiseError.file(path, "is \(c.kind.article), expected a JSON object") }
        return o
    }

    /// A token named in tokenizer_config.json: a string or `{"content": ...}`.
    static func tokenName(_ v: JSONValue?) -> String? {
        if let s = v?.string { return s }
        return v?["content"]?.string
    }
}
