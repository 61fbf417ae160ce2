/// The special tokens a tokenizer.json `post_processor` puts around one text (what `tokenizers` adds with
/// `add_special_tokens=True`): T5's `$A </s>`, BART's `<s> $A </s>`, Gemma's `<bos> $A`.
struct PostProcessor: Sendable, Equatable {
    /// The id put before the text, if any.
    var before: Int?
    /// The id put after the text, if any.
    var after: Int?

    /// Sets ``SpecialTokens``' BOS/EOS from the template: the tokens it adds are the ones added.
    func apply(to special: inout SpecialTokens) {
        special.addBOS = before != nil
        special.addEOS = after != nil
        if let before { special.bos = before }
        if let after { special.eos = after }
    }

    /// The post-processor a tokenizer.json describes: `TemplateProcessing` (its `single` template: at most
    /// one special token before `$A` and one after), `RobertaProcessing` and `BertProcessing` (`cls` + `$A`
    /// + `sep`), `ByteLevel` (which only moves offsets: nothing added), or a `Sequence` of them.
    /// - Parameters:
    ///   - value: the `post_processor` field; nil or null when there is none (then this returns nil).
    ///   - idOf: the id of a token's text in the vocabulary (added tokens included), nil if absent.
    ///   - vocabularySize: the number of ids.
    /// - Throws: ``StepwiseError`` naming `path` when the post-processor is malformed, names a token the
    ///   vocabulary lacks or gives it another id, or is of a kind Stepwise does not run.
    static func read(_ value: JSONValue?, path: String, vocabularySize: Int, idOf: (String) -> Int?) throws -> PostProcessor? {
        guard let value, value != .null else { return nil }
        guard let type = value["type"]?.string else {
            throw StepwiseError.file(path, "post_processor is \(value.shown) without a \"type\"")
        }
        func checked(_ token: String, _ id: Int, _ field: String) throws -> Int {
            guard id >= 0 && id < vocabularySize else {
                throw StepwiseError.file(path, "post_processor \(field) gives '\(token)' the id \(id), outside the vocabulary (0..<\(vocabularySize))")
            }
            guard let known = idOf(token) else {
                throw StepwiseError.file(path, "post_processor \(field) names '\(token)', which is not in the vocabulary")
            }
            guard known == id else {
                throw StepwiseError.file(path, "post_processor \(field) gives '\(token)' the id \(id), but the vocabulary gives it \(known)")
            }
            return id
        }
        switch type {
        case "ByteLevel":
            return nil
        case "RobertaProcessing", "BertProcessing":
            func pair(_ key: String) throws -> Int {
                guard let p = value[key]?.array, p.count == 2, let token = p[0].string, let id = p[1].int else {
                    throw StepwiseError.file(path, "post_processor \(type) needs \"\(key)\": [token, id]")
                }
                return try checked(token, id, "\(type) \(key)")
            }
            return PostProcessor(before: try pair("cls"), after: try pair("sep"))
        case "TemplateProcessing":
            guard let single = value["single"]?.array else {
                throw StepwiseError.file(path, "post_processor TemplateProcessing has no \"single\" template list")
            }
            let specials = value["special_tokens"]?.object
            var before: [Int] = [], after: [Int] = []
            var sawSequence = false
            for (k, item) in single.enumerated() {
                if let seq = item["Sequence"] {
                    guard seq["id"]?.string == "A", !sawSequence else {
                        throw StepwiseError(.unsupported, "\(path): post_processor TemplateProcessing single[\(k)] is \(seq["id"]?.string.map { "$" + $0 } ?? "?"); a single template has one $A")
                    }
                    sawSequence = true
                } else if let name = item["SpecialToken"]?["id"]?.string {
                    guard let entry = specials?[name] else {
                        throw StepwiseError.file(path, "post_processor TemplateProcessing uses '\(name)', which its special_tokens do not define")
                    }
                    guard let ids = entry["ids"]?.array, ids.count == 1, let id = ids[0].int else {
                        throw StepwiseError(.unsupported, "\(path): post_processor TemplateProcessing special token '\(name)' must stand for exactly one id")
                    }
                    let token = entry["tokens"]?.array?.first?.string ?? name
                    let checkedID = try checked(token, id, "TemplateProcessing special token")
                    if sawSequence { after.append(checkedID) } else { before.append(checkedID) }
                } else {
                    throw StepwiseError.file(path, "post_processor TemplateProcessing single[\(k)] is neither a Sequence nor a SpecialToken")
                }
            }
            guard sawSequence else {
                throw StepwiseError.file(path, "post_processor TemplateProcessing's single template has no $A")
            }
            guard before.count <= 1, after.count <= 1 else {
                throw StepwiseError(.unsupported, "\(path): post_processor TemplateProcessing adds \(before.count) tokens before the text and \(after.count) after; Stepwise adds at most one on each side")
            }
            return PostProcessor(before: before.first, after: after.first)
        case "Sequence":
            guard let list = value["processors"]?.array else {
                throw StepwiseError.file(path, "post_processor Sequence has no \"processors\" list")
            }
            let found = try list.compactMap { try read($0, path: path, vocabularySize: vocabularySize, idOf: idOf) }
            guard found.count <= 1 else {
                throw StepwiseError(.unsupported, "\(path): post_processor Sequence holds \(found.count) processors that add tokens; Stepwise runs one")
            }
            return found.first
        default:
            throw StepwiseError(.unsupported, "\(path): post_processor \(type) is not supported (TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence)")
        }
    }
}
