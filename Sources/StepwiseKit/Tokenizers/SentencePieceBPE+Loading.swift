import Foundation

extension SentencePieceBPE {
    /// True when a tokenizer.json describes SentencePiece-style BPE: `model.type` BPE with
    /// `byte_fallback` true (read from the start of the file's `model` object only; false when unsure).
    static func isSentencePiece(tokenizerJSON path: String) -> Bool {
        guard let file = try? MappedFile(path: path) else { return false }
        return withExtendedLifetime(file) {
            var r = JSONReader(path: path, bytes: file.bytes, maxValues: 1000)
            var found = false
            do {
                try r.object("the file") { r, key in
                    guard key == "model", try r.peek() == .object else { try r.skip(); return }
                    try r.object("model") { r, k in
                        if k == "byte_fallback", try r.peek() == .bool { found = try r.value(at: k).bool == true } else { try r.skip() }
                    }
                }
            } catch { return false }
            return found
        }
    }

    /// Reads a Hugging Face tokenizer.json of SentencePiece-style BPE (Gemma): `model` BPE with
    /// `byte_fallback`, merges as ranked pairs; `normalizer` a `Replace` of " " by "▁" (alone or with a
    /// `Prepend` of "▁", which becomes ``addSpacePrefix``); the pre-tokenizer may only split at spaces the
    /// normalizer already replaced; `added_tokens` are matched whole; a `TemplateProcessing` post-processor
    /// whose single template starts with a special token adds it as BOS.
    /// - Throws: ``StepwiseError`` naming the file and what it holds that is not this.
    static func load(tokenizerJSON path: String, folder: String, limit: VocabularyLimit? = nil) throws -> SentencePieceBPE {
        let file = try MappedFile(path: path)
        return try withExtendedLifetime(file) {
            var r = JSONReader(path: path, bytes: file.bytes, maxValues: 100_000)
            guard try r.peek() == .object else { throw StepwiseError.file(path, "is not a JSON object") }
            var type: String?, byteFallback = false
            var byID: [Int: String] = [:]
            var seen = Set<[UInt8]>()
            var merges: [(String, String)] = []
            var added: [(content: String, id: Int)] = []
            var root: [String: JSONValue] = [:]
            var sawVocab = false, sawMerges = false
            try r.object("the file") { r, key in
                switch key {
                case "model":
                    guard try r.peek() == .object else { throw StepwiseError.file(path, "\"model\" is not an object") }
                    try r.object("model") { r, k in
                        switch k {
                        case "type": type = try r.null() ? nil : try r.string("model.type")
                        case "byte_fallback": byteFallback = try r.value(at: "model.byte_fallback").bool == true
                        case "vocab":
                            guard try r.peek() == .object else { throw StepwiseError.file(path, "model.vocab is not an object of piece → id") }
                            sawVocab = true
                            // Keyed by bytes: canonically equivalent pieces are distinct pieces here.
                            try r.object("model.vocab", checkDuplicates: false) { r, piece in
                                guard try r.peek() == .number, let id = try r.number("").int, id >= 0, id < ByteLevelBPE.maxID else {
                                    throw StepwiseError.file(path, "model.vocab['\(piece)'] is not an id (a whole number in 0..<\(ByteLevelBPE.maxID))")
                                }
                                if let limit, id >= limit.size {
                                    throw StepwiseError.file(path, "model.vocab['\(piece)'] has id \(id), but \(limit.source) is \(limit.size): the tokenizer files and config.json do not belong together")
                                }
                                guard seen.insert(Array(piece.utf8)).inserted else {
                                    throw StepwiseError.file(path, "the piece '\(piece)' appears twice in model.vocab")
                                }
                                if let other = byID[id] {
                                    throw StepwiseError.file(path, "model.vocab gives id \(id) to both '\(other)' and '\(piece)'")
                                }
                                byID[id] = piece
                            }
                        case "merges":
                            guard try r.peek() == .array else { throw StepwiseError.file(path, "model.merges is not an array") }
                            sawMerges = true
                            try r.array("model.merges") { r, n in merges.append(try ByteLevelBPE.readMerge(&r, n, path: path)) }
                        case "continuing_subword_prefix", "end_of_word_suffix":
                            if let s = try r.value(at: "model." + k).string, !s.isEmpty {
                                throw StepwiseError(.unsupported, "\(path): BPE option \(k) '\(s)' is not supported")
                            }
                        default: try r.skip()
                        }
                    }
                case "added_tokens":
                    guard try r.peek() == .array else { try r.skip(); return }
                    try r.array("added_tokens") { r, k in
                        let v = try r.value(at: "added_tokens[\(k)]")
                        guard let id = v["id"]?.int, id >= 0, let content = v["content"]?.string, !content.isEmpty else {
                            throw StepwiseError.file(path, "added_tokens[\(k)] needs an \"id\" and a non-empty \"content\"")
                        }
                        if let limit, id >= limit.size {
                            throw StepwiseError.file(path, "added token '\(content)' has id \(id), but \(limit.source) is \(limit.size): the tokenizer files and config.json do not belong together")
                        }
                        added.append((content, id))
                    }
                case "normalizer", "pre_tokenizer", "post_processor":
                    root[key] = try r.value(at: key)
                default:
                    try r.skip()
                }
            }
            try r.end()
            guard (type ?? "BPE") == "BPE" else {
                throw StepwiseError(.unsupported, "\(path): model type \(type ?? "?") is not SentencePiece BPE (Unigram and WordLevel are not supported)")
            }
            guard byteFallback else {
                throw StepwiseError(.unsupported, "\(path): BPE without byte_fallback is not SentencePiece-style BPE")
            }
            guard sawVocab, sawMerges else { throw StepwiseError.file(path, "needs model.vocab and model.merges") }
            for (content, id) in added {
                if let other = byID[id], other != content {
                    throw StepwiseError.file(path, "added token '\(content)' has id \(id), which the vocabulary gives to '\(other)'")
                }
                byID[id] = content
            }
            let count = (byID.keys.max() ?? -1) + 1
            guard count == byID.count else {
                let missing = (0..<count).first { byID[$0] == nil } ?? 0
                throw StepwiseError.file(path, "the vocabulary has no piece for id \(missing) (ids run to \(count - 1)); SentencePiece vocabularies have no holes")
            }
            let pieces = (0..<count).map { byID[$0]! }

            // Normalizer: Replace(" " → "▁"), optionally with Prepend("▁") (a dummy prefix).
            var prefix = false
            func replaceSpaces(_ v: JSONValue) -> Bool {
                v["type"]?.string == "Replace" && v["pattern"]?["String"]?.string == " " && v["content"]?.string == "\u{2581}"
            }
            switch root["normalizer"] {
            case nil, .null?:
                throw StepwiseError(.unsupported, "\(path): SentencePiece BPE needs a normalizer that replaces spaces by ▁")
            case let n? where replaceSpaces(n): break
            case let n? where n["type"]?.string == "Sequence":
                for step in n["normalizers"]?.array ?? [] {
                    if replaceSpaces(step) { continue }
                    if step["type"]?.string == "Prepend", step["prepend"]?.string == "\u{2581}" { prefix = true; continue }
                    throw StepwiseError(.unsupported, "\(path): normalizer step \(step["type"]?.string ?? "?") is not supported (Replace ' ' → '▁', Prepend '▁')")
                }
            case let n?:
                throw StepwiseError(.unsupported, "\(path): normalizer \(n["type"]?.string ?? "?") is not supported (Replace ' ' → '▁')")
            }
            // Pre-tokenizer: none, or a Split at " " (nothing to split once spaces are ▁).
            if let pre = root["pre_tokenizer"], pre != .null {
                let ok = pre["type"]?.string == "Split" && pre["pattern"]?["String"]?.string == " "
                guard ok else {
                    throw StepwiseError(.unsupported, "\(path): pre_tokenizer \(pre["type"]?.string ?? "?") is not supported for SentencePiece BPE")
                }
            }
            var ids: [String: Int] = [:]
            for (id, p) in byID where p.hasPrefix("<") && ids[p] == nil { ids[p] = id }
            var special = SpecialTokens()
            special.unknown = ids["<unk>"]
            special.padding = ids["<pad>"]
            special.eos = ids["<eos>"] ?? ids["</s>"]
            let post = try PostProcessor.read(root["post_processor"], path: path, vocabularySize: pieces.count) { name in
                ids[name] ?? pieces.firstIndex(of: name)
            }
            post?.apply(to: &special)
            if special.bos == nil { special.bos = ids["<bos>"] ?? ids["<s>"] }
            return try SentencePieceBPE(pieces: pieces, priority: .merges(merges), specialIDs: added.map(\.id), special: special,
                                        addSpacePrefix: prefix, source: path)
        }
    }
}
