import Foundation
import Testing
@testable import StepwiseKit

/// A precompiled_charsmap built by hand: a header, `units` little-endian, then `blob`.
func charsmap(units: [UInt32], blob: [UInt8], size: Int? = nil) -> String {
    var b: [UInt8] = []
    let n = UInt32(size ?? 4 * units.count)
    b += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)]
    for u in units { b += [UInt8(u & 0xFF), UInt8(u >> 8 & 0xFF), UInt8(u >> 16 & 0xFF), UInt8(u >> 24)] }
    return Data(b + blob).base64EncodedString()
}

/// A double array with one key, "a", whose value is `value` (the offset of its replacement in the blob).
func oneKeyUnits(value: UInt32) -> [UInt32] {
    var u = [UInt32](repeating: 0, count: 256)  // darts-clone arrays come in blocks of 256 units
    u[0x61] = 1 << 10 | 1 << 8 | 0x61  // label 'a', has a leaf, offset 1: its value sits at 0x61 ^ 1
    u[0x60] = value
    return u
}

/// One way to break a Unigram tokenizer.json: what is done to the T5-like base file, and what the error says.
struct UnigramMutation: Sendable, CustomStringConvertible {
    var name: String
    var says: String
    /// The model's vocabulary size, when the case loads it for a model.
    var limit: Int? = nil
    /// When set, the file loads and encoding this text must fail with the message.
    var encode: String? = nil
    /// Edits the file as JSON (`root`), or as text when `raw` is set.
    var edit: @Sendable (inout [String: Any]) -> Void = { _ in }
    var raw: (@Sendable (String) -> String)? = nil

    var description: String { name }
}

private func model(_ root: inout [String: Any], _ key: String, _ value: Any?) {
    var m = root["model"] as! [String: Any]
    m[key] = value
    root["model"] = m
}

private func vocab(_ root: inout [String: Any], _ edit: (inout [Any]) -> Void) {
    var m = root["model"] as! [String: Any]
    var v = m["vocab"] as! [Any]
    edit(&v)
    m["vocab"] = v
    root["model"] = m
}

private func precompiled(_ charsmap: Any) -> [String: Any] {
    ["type": "Precompiled", "precompiled_charsmap": charsmap]
}

private var t5Template: [String: Any] {
    ["type": "TemplateProcessing",
     "single": [["Sequence": ["id": "A", "type_id": 0]], ["SpecialToken": ["id": "</s>", "type_id": 0]]],
     "special_tokens": ["</s>": ["id": "</s>", "ids": [1], "tokens": ["</s>"]]]]
}

private func template(_ name: String, ids: [Int], tokens: [String]? = nil) -> [String: Any] {
    ["type": "TemplateProcessing",
     "single": [["Sequence": ["id": "A", "type_id": 0]], ["SpecialToken": ["id": name, "type_id": 0]]],
     "special_tokens": [name: ["id": name, "ids": ids, "tokens": tokens ?? [name]]]]
}

/// Every case tried, one change each, applied to the `viterbi` fixture (a T5-like 15-piece Unigram).
let unigramMutations: [UnigramMutation] = [
    // MARK: model.vocab
    UnigramMutation(name: "vocab: an object, not a list", says: "model.vocab is an object, expected a list of [piece, score] pairs") { r in model(&r, "vocab", ["a": 1]) },
    UnigramMutation(name: "vocab: missing", says: "model.vocab is missing") { r in model(&r, "vocab", nil) },
    UnigramMutation(name: "vocab: empty", says: "model.vocab is empty") { r in model(&r, "vocab", []); model(&r, "unk_id", nil); r["added_tokens"] = [] ; r["post_processor"] = NSNull() },
    UnigramMutation(name: "vocab: a pair of numbers", says: "model.vocab[3] is not a [piece, score] pair (a string and a number)") { r in vocab(&r) { $0[3] = [1, 2] } },
    UnigramMutation(name: "vocab: a string, not a pair", says: "model.vocab[3] is not a [piece, score] pair") { r in vocab(&r) { $0[3] = "▁" } },
    UnigramMutation(name: "vocab: a triple", says: "model.vocab[4] is not a [piece, score] pair") { r in vocab(&r) { $0[4] = ["a", -1.0, 0] } },
    UnigramMutation(name: "vocab: a pair with one element", says: "model.vocab[4] is not a [piece, score] pair") { r in vocab(&r) { $0[4] = ["a"] } },
    UnigramMutation(name: "vocab: a score that is a string", says: "model.vocab[5] is not a [piece, score] pair") { r in vocab(&r) { $0[5] = ["b", "-4.0"] } },
    UnigramMutation(name: "vocab: a score that is null", says: "model.vocab[5] is not a [piece, score] pair") { r in vocab(&r) { $0[5] = ["b", NSNull()] } },
    UnigramMutation(name: "vocab: a NaN score (not JSON)", says: "is not valid JSON", raw: { $0.replacingOccurrences(of: "[\"b\",-4]", with: "[\"b\",NaN]") }),
    UnigramMutation(name: "vocab: an infinite score (1e999)", says: "model.vocab[5] ('b') has a score that is not a finite number", raw: { $0.replacingOccurrences(of: "[\"b\",-4]", with: "[\"b\",-1e999]") }),
    UnigramMutation(name: "vocab: a piece given twice", says: "the piece 'a' appears twice in model.vocab (ids 4 and 14)") { r in vocab(&r) { $0[14] = ["a", -2.2] } },
    UnigramMutation(name: "vocab: more pieces than config.json's vocab_size", says: "model.vocab has more than 10 pieces, but config.json's vocab_size is 10", limit: 10),
    UnigramMutation(name: "vocab: 200,000 pieces for a vocab_size of 100", says: "model.vocab has more than 100 pieces, but config.json's vocab_size is 100", limit: 100) { r in
        vocab(&r) { v in for i in 0..<200_000 { v.append(["p\(i)", -5.0]) } }
    },
    // MARK: model's other fields
    // Without a model object there is no model.type: the file goes to the byte-level BPE loader, which says so.
    UnigramMutation(name: "model: not an object", says: "has no \"model\" object") { r in r["model"] = [1] },
    UnigramMutation(name: "model: unk_id out of range", says: "model.unk_id is 99, outside the vocabulary (0..<15)") { r in model(&r, "unk_id", 99) },
    UnigramMutation(name: "model: unk_id negative", says: "model.unk_id is -1, expected an id") { r in model(&r, "unk_id", -1) },
    UnigramMutation(name: "model: unk_id a string", says: "model.unk_id is the string \"<unk>\", expected an id or null") { r in model(&r, "unk_id", "<unk>") },
    UnigramMutation(name: "model: unk_id missing, then an unknown character", says: "model.unk_id is not set", encode: "a☃") { r in model(&r, "unk_id", nil) },
    UnigramMutation(name: "model: byte_fallback a string", says: "model.byte_fallback is the string \"yes\", expected true or false") { r in model(&r, "byte_fallback", "yes") },
    // MARK: added tokens
    UnigramMutation(name: "added_tokens: an id leaving a hole", says: "added token '<x>' has id 40, but the ids before it end at 14") { r in
        r["added_tokens"] = (r["added_tokens"] as! [Any]) + [["id": 40, "content": "<x>", "special": true]]
    },
    UnigramMutation(name: "added_tokens: an id beyond config.json's vocab_size", says: "added token '<x>' has id 20, but config.json's vocab_size is 20", limit: 20) { r in
        r["added_tokens"] = (r["added_tokens"] as! [Any]) + [["id": 20, "content": "<x>", "special": true]]
    },
    UnigramMutation(name: "added_tokens: no content", says: "added_tokens[3] needs an \"id\"") { r in
        r["added_tokens"] = (r["added_tokens"] as! [Any]) + [["id": 3, "special": true]]
    },
    UnigramMutation(name: "added_tokens: not a list", says: "added_tokens is an object, expected a list") { r in r["added_tokens"] = ["id": 1] },
    // MARK: normalizer
    UnigramMutation(name: "normalizer: an unknown type", says: "normalizer BertNormalizer is not supported for Unigram") { r in r["normalizer"] = ["type": "BertNormalizer"] },
    UnigramMutation(name: "normalizer: no type", says: "normalizer is an object without a \"type\"") { r in r["normalizer"] = ["lowercase": true] },
    UnigramMutation(name: "normalizer: an unknown type inside a Sequence", says: "normalizer Morse is not supported") { r in
        r["normalizer"] = ["type": "Sequence", "normalizers": [["type": "NFKC"], ["type": "Morse"]]]
    },
    UnigramMutation(name: "normalizer: Replace with a regex Stepwise does not run", says: "normalizer Replace: the regex '\\s+' is not supported") { r in
        r["normalizer"] = ["type": "Replace", "pattern": ["Regex": "\\s+"], "content": " "]
    },
    UnigramMutation(name: "normalizer: Replace of an empty string", says: "normalizer Replace: the pattern is an empty string") { r in
        r["normalizer"] = ["type": "Replace", "pattern": ["String": ""], "content": " "]
    },
    UnigramMutation(name: "Precompiled: not base64", says: "normalizer Precompiled: precompiled_charsmap is not valid base64") { r in r["normalizer"] = precompiled("**not base64**") },
    UnigramMutation(name: "Precompiled: null", says: "normalizer Precompiled has no precompiled_charsmap string") { r in r["normalizer"] = precompiled(NSNull()) },
    UnigramMutation(name: "Precompiled: 3 bytes", says: "precompiled_charsmap is truncated: 3 bytes, fewer than its 4-byte header") { r in
        r["normalizer"] = precompiled(Data([1, 2, 3]).base64EncodedString())
    },
    UnigramMutation(name: "Precompiled: a trie longer than the bytes", says: "precompiled_charsmap is truncated: its trie takes 1000 bytes but only 8 follow the header") { r in
        r["normalizer"] = precompiled(charsmap(units: [0, 0], blob: [], size: 1000))
    },
    UnigramMutation(name: "Precompiled: a trie size that is not whole units", says: "says its trie takes 6 bytes, which is not a whole number of 4-byte units") { r in
        r["normalizer"] = precompiled(charsmap(units: [0, 0], blob: [], size: 6))
    },
    UnigramMutation(name: "Precompiled: replacement strings that are not UTF-8", says: "its replacement strings are not UTF-8") { r in
        r["normalizer"] = precompiled(charsmap(units: [0], blob: [0xC3, 0x28, 0]))
    },
    UnigramMutation(name: "Precompiled: a trie that leads past its units", says: "precompiled_charsmap is malformed (unit 96 is past its 1 units)", encode: "a") { r in
        r["normalizer"] = precompiled(charsmap(units: [1 << 10], blob: []))
    },
    UnigramMutation(name: "Precompiled: a replacement past the strings", says: "precompiled_charsmap is malformed (a replacement starts at byte 999 of 2)", encode: "a") { r in
        r["normalizer"] = precompiled(charsmap(units: oneKeyUnits(value: 999), blob: Array("x\0".utf8)))
    },
    UnigramMutation(name: "Precompiled: a replacement inside a character", says: "a replacement starts inside a character, at byte 1", encode: "a") { r in
        r["normalizer"] = precompiled(charsmap(units: oneKeyUnits(value: 1), blob: Array("é\0".utf8)))
    },
    // MARK: pre-tokenizer and decoder
    UnigramMutation(name: "pre_tokenizer: an unknown type", says: "pre_tokenizer ByteLevel is not supported for Unigram") { r in r["pre_tokenizer"] = ["type": "ByteLevel"] },
    UnigramMutation(name: "pre_tokenizer: an unknown type inside a Sequence", says: "pre_tokenizer Punctuation is not supported for Unigram") { r in
        r["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "WhitespaceSplit"], ["type": "Punctuation"]]]
    },
    UnigramMutation(name: "Metaspace: no replacement", says: "pre_tokenizer Metaspace has no replacement character") { r in r["pre_tokenizer"] = ["type": "Metaspace"] },
    UnigramMutation(name: "Metaspace: a replacement of two characters", says: "pre_tokenizer Metaspace replacement '__' is not one character") { r in
        r["pre_tokenizer"] = ["type": "Metaspace", "replacement": "__"]
    },
    UnigramMutation(name: "Metaspace: an unknown prepend_scheme", says: "pre_tokenizer Metaspace prepend_scheme is the string \"sometimes\"") { r in
        r["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "sometimes"]
    },
    UnigramMutation(name: "decoder: an unknown type", says: "decoder WordPiece is not supported for Unigram") { r in r["decoder"] = ["type": "WordPiece"] },
    UnigramMutation(name: "decoder: Strip with a negative count", says: "decoder Strip needs a one-character \"content\"") { r in
        r["decoder"] = ["type": "Strip", "content": " ", "start": -1, "stop": 0]
    },
    // MARK: post-processor
    UnigramMutation(name: "post_processor: a token not in the vocabulary", says: "post_processor TemplateProcessing special token names '<eos>', which is not in the vocabulary") { r in
        r["post_processor"] = template("<eos>", ids: [1])
    },
    UnigramMutation(name: "post_processor: another id than the vocabulary's", says: "post_processor TemplateProcessing special token gives '</s>' the id 5, but the vocabulary gives it 1") { r in
        r["post_processor"] = template("</s>", ids: [5])
    },
    UnigramMutation(name: "post_processor: an id outside the vocabulary", says: "gives '</s>' the id 999, outside the vocabulary (0..<15)") { r in
        r["post_processor"] = template("</s>", ids: [999])
    },
    UnigramMutation(name: "post_processor: two ids for one special token", says: "special token '</s>' must stand for exactly one id") { r in
        r["post_processor"] = template("</s>", ids: [1, 1])
    },
    UnigramMutation(name: "post_processor: a template token its special_tokens lack", says: "uses '</s>', which its special_tokens do not define") { r in
        var t = t5Template
        t["special_tokens"] = [String: Any]()
        r["post_processor"] = t
    },
    UnigramMutation(name: "post_processor: two tokens after the text", says: "adds 0 tokens before the text and 2 after; Stepwise adds at most one on each side") { r in
        var t = t5Template
        t["single"] = (t["single"] as! [Any]) + [["SpecialToken": ["id": "</s>", "type_id": 0]]]
        r["post_processor"] = t
    },
    UnigramMutation(name: "post_processor: no $A", says: "TemplateProcessing's single template has no $A") { r in
        var t = t5Template
        t["single"] = [["SpecialToken": ["id": "</s>", "type_id": 0]]]
        r["post_processor"] = t
    },
    UnigramMutation(name: "post_processor: RobertaProcessing naming a token not in the vocabulary", says: "post_processor RobertaProcessing cls names '<s>', which is not in the vocabulary") { r in
        r["post_processor"] = ["type": "RobertaProcessing", "sep": ["</s>", 1], "cls": ["<s>", 0]]
    },
    UnigramMutation(name: "post_processor: RobertaProcessing with a malformed sep", says: "post_processor RobertaProcessing needs \"sep\": [token, id]") { r in
        r["post_processor"] = ["type": "RobertaProcessing", "sep": "</s>", "cls": ["<pad>", 0]]
    },
    UnigramMutation(name: "post_processor: an unknown type", says: "post_processor Shuffle is not supported") { r in r["post_processor"] = ["type": "Shuffle"] },
]

@Suite("Hostile Unigram tokenizer.json")
struct HostileUnigramTests {
    static let base = UnigramCases.folder.appendingPathComponent("viterbi/tokenizer.json")

    /// The base file as JSON with sorted keys and no spaces (so raw edits find `["b",-4]`).
    static func baseText() throws -> String {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: base))
        return String(decoding: try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]), as: UTF8.self)
            .replacingOccurrences(of: "-4.0]", with: "-4]")
    }

    @Test("the base file loads and encodes, so each case fails for its one change")
    func baseLoads() throws {
        let t = try TempFolder()
        try t.write("tokenizer.json", try Self.baseText())
        let tok = try #require(try ModelLoader.tokenizer(in: t.path, family: nil, limit: VocabularyLimit(size: 15, source: "config.json's vocab_size")))
        #expect(try tok.encodeForModel("abcd") == [9, 11, 1])
        #expect(try Self.baseText().contains("[\"b\",-4]"))
    }

    @Test("a broken Unigram tokenizer.json is one StepwiseError naming the file and what is wrong", arguments: unigramMutations)
    func broken(_ c: UnigramMutation) throws {
        let t = try TempFolder()
        var text = try Self.baseText()
        if let raw = c.raw {
            text = raw(text)
            #expect(text != (try Self.baseText()), "\(c.name): the edit changed nothing")
        } else {
            var root = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
            c.edit(&root)
            text = String(decoding: try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]), as: UTF8.self)
        }
        try t.write("tokenizer.json", text)
        let limit = c.limit.map { VocabularyLimit(size: $0, source: "config.json's vocab_size") }
        let e = try #require(expectStepwiseError {
            let tok = try ModelLoader.tokenizer(in: t.path, family: nil, limit: limit)
            if let s = c.encode { _ = try tok?.encode(s) } else if tok == nil { throw StepwiseError(.file, "no tokenizer") }
        })
        #expect(e.message.contains(t.file("tokenizer.json").path), "\(c.name): message does not name the file: \(e.message)")
        #expect(e.message.contains(c.says), "\(c.name): \(e.message)")
        #expect(!e.message.contains("\n"), "\(c.name): more than one line: \(e.message)")
    }

    @Test("a hand-built precompiled_charsmap maps its one key and leaves the rest")
    func handBuiltCharsmap() throws {
        let table = try PrecompiledCharsmap(base64: charsmap(units: oneKeyUnits(value: 0), blob: Array("xy\0".utf8)), source: "t")
        #expect(String(String.UnicodeScalarView(try table.normalize(Array("banana".unicodeScalars)))) == "bxynxynxy")
        #expect(try table.transform(Array("b".utf8)) == nil)
    }

    @Test("ByteLevel add_prefix_space inside a Sequence is refused on one line; alone it is read")
    func prefixSpaceInSequence() throws {
        let t = try TempFolder()
        let seq: [String: Any] = ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true],
                                                                       ["type": "ByteLevel", "add_prefix_space": true, "use_regex": true]]]
        let file: [String: Any] = ["model": ["type": "BPE", "vocab": ["a": 0, "b": 1, "ab": 2, "Ġ": 3], "merges": ["a b"]], "pre_tokenizer": seq]
        try JSONSerialization.data(withJSONObject: file).write(to: t.file("tokenizer.json"))
        let e = try #require(expectStepwiseError { _ = try ByteLevelBPE.load(folder: t.path) })
        #expect(e.message.contains("ByteLevel add_prefix_space is supported only when ByteLevel is the whole pre_tokenizer"), "\(e.message)")
        var alone = file
        alone["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": true]
        try JSONSerialization.data(withJSONObject: alone).write(to: t.file("tokenizer.json"))
        #expect(try ByteLevelBPE.load(folder: t.path).encode("ab") == [3, 2])
    }

    @Test("a BPE tokenizer.json whose post-processor names a token the vocabulary lacks is one error line")
    func bpePostProcessor() throws {
        let t = try TempFolder()
        let file: [String: Any] = ["model": ["type": "BPE", "vocab": ["a": 0, "<s>": 1], "merges": []], "pre_tokenizer": ["type": "ByteLevel"],
                                   "post_processor": ["type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 1]]]
        try JSONSerialization.data(withJSONObject: file).write(to: t.file("tokenizer.json"))
        let e = try #require(expectStepwiseError { _ = try ByteLevelBPE.load(folder: t.path) })
        #expect(e.message.contains("tokenizer.json: post_processor RobertaProcessing sep gives '</s>' the id 2, outside the vocabulary (0..<2)"), "\(e.message)")
    }
}
