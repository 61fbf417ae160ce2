import Foundation
import Testing
@testable import StepwiseKit

/// The reference cases made by tools/reference/make_unigram_cases.py with Hugging Face `tokenizers`.
enum UnigramCases {
    struct Case: Sendable {
        var text: String
        var ids: [Int]
        var idsSpecial: [Int]
        var decoded: String
        var decodedSpecial: String
        var normalized: String?
    }

    /// One pre-token's segmentation scores, the second best found by enumerating the lattice in Python.
    struct Explained: Sendable {
        var text: String
        var pretoken: String
        var pieces: [String]
        var best: Double
        var second: Double?
        var secondPieces: [String]?
    }

    struct Config: Sendable {
        var cases: [Case]
        var explain: [Explained]
    }

    static let folder = TestPaths.fixtures.appendingPathComponent("tokenizers/unigram")
    /// The Unigram configurations (the fixtures also hold `bart_bpe`, a byte-level BPE).
    static let unigramNames = ["metaspace_always", "first_nosplit", "byte_fallback", "t5_like", "viterbi", "spm_unigram",
                               "custom_charsmap"]

    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    static let configs: Result<[String: Config], any Error> = Result {
        let url = folder.appendingPathComponent("cases.json")
        guard let root = try loadJSON(url) as? [String: Any], let configs = root["configs"] as? [String: [String: Any]] else {
            throw StepwiseError.file(url.path, "has no configs")
        }
        return configs.mapValues { c in
            let cases = (c["cases"] as! [[String: Any]]).map { d in
                Case(text: d["text"] as! String, ids: d["ids"] as! [Int], idsSpecial: d["ids_special"] as! [Int],
                     decoded: d["decoded"] as! String, decodedSpecial: d["decoded_special"] as! String,
                     normalized: d["normalized"] as? String)
            }
            let explain = (c["explain"] as! [[String: Any]]).map { d in
                Explained(text: d["text"] as! String, pretoken: d["pretoken"] as! String, pieces: d["pieces"] as! [String],
                          best: (d["best"] as! NSNumber).doubleValue, second: (d["second"] as? NSNumber)?.doubleValue,
                          secondPieces: d["second_pieces"] as? [String])
            }
            return Config(cases: cases, explain: explain)
        }
    }

    static func config(_ name: String) throws -> Config {
        try #require(try configs.get()[name], "no reference cases for \(name)")
    }

    static func tokenizer(_ name: String) throws -> Unigram {
        try Unigram.load(folder: path(name))
    }
}

@Suite("Unigram against tokenizers")
struct UnigramTests {
    @Test("ids with and without special tokens match tokenizers", arguments: UnigramCases.unigramNames)
    func ids(_ name: String) throws {
        let tok = try UnigramCases.tokenizer(name)
        let config = try UnigramCases.config(name)
        #expect(config.cases.count >= 40)
        var wrong: [String] = []
        for c in config.cases {
            let got = try tok.encode(c.text), special = try tok.encodeForModel(c.text)
            if got != c.ids { wrong.append("\(c.text.debugDescription): \(got) != \(c.ids)") }
            if special != c.idsSpecial { wrong.append("\(c.text.debugDescription) with special tokens: \(special) != \(c.idsSpecial)") }
        }
        #expect(wrong.isEmpty, "\(name): \(wrong.count) of \(2 * config.cases.count) differ: \(wrong.prefix(6).joined(separator: "; "))")
    }

    @Test("decoded text matches tokenizers (special tokens kept)", arguments: UnigramCases.unigramNames)
    func decode(_ name: String) throws {
        let tok = try UnigramCases.tokenizer(name)
        var wrong: [String] = []
        for c in try UnigramCases.config(name).cases {
            if !sameBytes(tok.decode(c.ids), c.decoded) { wrong.append("\(c.text.debugDescription) -> \(tok.decode(c.ids).debugDescription) != \(c.decoded.debugDescription)") }
            if !sameBytes(tok.decode(c.idsSpecial), c.decodedSpecial) {
                wrong.append("\(c.text.debugDescription) with special tokens -> \(tok.decode(c.idsSpecial).debugDescription) != \(c.decodedSpecial.debugDescription)")
            }
        }
        #expect(wrong.isEmpty, "\(name): \(wrong.prefix(6).joined(separator: "; "))")
    }

    @Test("the normalizer alone gives what tokenizers' normalizer gives", arguments: UnigramCases.unigramNames)
    func normalizer(_ name: String) throws {
        let tok = try UnigramCases.tokenizer(name)
        var wrong: [String] = []
        for c in try UnigramCases.config(name).cases {
            guard let want = c.normalized else { continue }
            var origin = true
            let got = try #require(tok.normalizer).apply(Array(c.text.unicodeScalars), atOrigin: &origin)
            var v = String.UnicodeScalarView()
            v.append(contentsOf: got)
            if !sameBytes(String(v), want) { wrong.append("\(c.text.debugDescription) -> \(String(v).debugDescription) != \(want.debugDescription)") }
        }
        #expect(wrong.isEmpty, "\(name): \(wrong.prefix(6).joined(separator: "; "))")
    }

    /// Scores from the fixtures' vocabularies; the second best is the Python enumeration's, not ours.
    @Test("explain: each word's best and next-best segmentation scores match an enumeration of the lattice",
          arguments: UnigramCases.unigramNames)
    func explainScores(_ name: String) throws {
        let tok = try UnigramCases.tokenizer(name)
        let entries = try UnigramCases.config(name).explain
        #expect(!entries.isEmpty)
        var samePieces = 0
        for e in entries {
            let ex = try tok.explain(e.text)
            let p = try #require(ex.pretokens.first { $0.text == e.pretoken }, "\(name): no pre-token \(e.pretoken.debugDescription) in explain(\(e.text.debugDescription)): \(ex.pretokens.map(\.text))")
            #expect(p.pieces == e.pieces, "\(name) \(e.pretoken.debugDescription): pieces \(p.pieces) != \(e.pieces)")
            let seg = try #require(p.segmentation)
            #expect(abs(seg.bestScore - e.best) < 1e-9, "\(name) \(e.pretoken.debugDescription): best \(seg.bestScore) != \(e.best)")
            #expect(abs(seg.best.reduce(0) { $0 + $1.score } - seg.bestScore) < 1e-9)
            if let second = e.second {
                let got = try #require(seg.secondScore, "\(name) \(e.pretoken.debugDescription): no next best, expected \(second)")
                #expect(abs(got - second) < 1e-9, "\(name) \(e.pretoken.debugDescription): next best \(got) != \(second)")
                let texts = (seg.second ?? []).map { $0.id == nil ? "<unk:\($0.text)>" : $0.text }
                if texts == e.secondPieces { samePieces += 1 }
            } else {
                #expect(seg.second == nil && seg.secondScore == nil, "\(name) \(e.pretoken.debugDescription): a next best where there is none")
            }
        }
        // Equal scores may rank two runners-up either way; most have one.
        #expect(samePieces * 2 >= entries.filter { $0.second != nil }.count, "\(name): only \(samePieces) next-best segmentations have the reference's pieces")
    }

    @Test("explain lists the best and next-best segmentation with each piece's score")
    func explainText() throws {
        let tok = try UnigramCases.tokenizer("viterbi")
        let ex = try tok.explain("abcd")
        #expect(ex.ids == [9, 11])
        let p = try #require(ex.pretokens.first)
        #expect(p.text == "▁abcd")
        #expect(p.initial == ["▁", "a", "b", "c", "d"])
        #expect(p.rules.map(\.description) == [
            "best: ▁ab (-2.00) + cd (-2.00) = -4.00",
            "next best: ▁abc (-1.00) + d (-4.00) = -5.00",
        ])
        #expect(p.rules.map(\.symbols) == [["▁ab", "cd"], ["▁abc", "d"]])
        // An unknown character: scored as the lowest score minus 10, fused and shown as <unk>.
        let q = try #require(try tok.explain("ab☃☃").pretokens.first)
        #expect(q.pieces == ["▁ab", "<unk>"])
        #expect(q.rules.first?.description == "best: ▁ab (-2.00) + ☃ (unknown -14.00) + ☃ (unknown -14.00) = -30.00")
        #expect(q.rules.last?.description == "unknown: ☃☃ -> <unk>")
        #expect(q.segmentation?.best.map(\.id) == [9, nil, nil])
    }

    @Test("byte fallback is explained with the byte pieces")
    func explainByteFallback() throws {
        let tok = try UnigramCases.tokenizer("byte_fallback")
        let p = try #require(try tok.explain("☃").pretokens.first)
        #expect(p.pieces == ["▁", "<0xE2>", "<0x98>", "<0x83>"])
        #expect(p.rules.last?.description == "byte fallback: ☃ -> <0xE2> <0x98> <0x83>")
        #expect(tok.label(for: try #require(tok.id(for: "<0xE2>"))) == "'<0xE2>'")
    }

    /// The hand-made vocabulary's scores make greedy longest match lose: the test computes greedy itself.
    @Test("the best segmentation is not greedy longest match: Viterbi is used")
    func viterbiNotGreedy() throws {
        let tok = try UnigramCases.tokenizer("viterbi")
        func greedy(_ word: String) -> [Int] {
            let s = Array(word.unicodeScalars)
            var out: [Int] = [], i = 0
            while i < s.count {
                var found: (Int, Int)?
                for j in stride(from: s.count, to: i, by: -1) {
                    var v = String.UnicodeScalarView()
                    v.append(contentsOf: s[i..<j])
                    if let id = tok.id(for: String(v)) { found = (id, j); break }
                }
                guard let (id, j) = found else { out.append(2); i += 1; continue }
                out.append(id)
                i = j
            }
            return out
        }
        let reference = try UnigramCases.config("viterbi").cases.first { $0.text == "abcd" }!
        #expect(greedy("▁abcd") == [10, 7])  // ▁abc + d: -1 - 4 = -5
        #expect(reference.ids == [9, 11])     // ▁ab + cd: -2 - 2 = -4, what tokenizers gives
        #expect(try tok.encode("abcd") == reference.ids)
        let differ = try UnigramCases.config("viterbi").cases.filter { c in
            !c.text.isEmpty && !c.text.contains(where: \.isWhitespace) && greedy("▁" + c.text) != c.ids
        }
        #expect(!differ.isEmpty)
    }

    /// The older Metaspace form (before `prepend_scheme` and `split`), as older T5 files have it; the
    /// generator checks that `tokenizers` gives the same ids for it.
    @Test("a T5 tokenizer.json in the older Metaspace form (add_prefix_space, str_rep) gives the same ids")
    func legacyMetaspace() throws {
        let url = URL(fileURLWithPath: UnigramCases.path("t5_like")).appendingPathComponent("tokenizer.json")
        var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var pre = try #require(root["pre_tokenizer"] as? [String: Any])
        pre["pretokenizers"] = (pre["pretokenizers"] as! [[String: Any]]).map { p in
            guard p["type"] as? String == "Metaspace" else { return p }
            return ["type": "Metaspace", "replacement": "▁", "add_prefix_space": true, "str_rep": "▁"]
        }
        root["pre_tokenizer"] = pre
        root["decoder"] = ["type": "Metaspace", "replacement": "▁", "add_prefix_space": true, "str_rep": "▁"]
        let t = try TempFolder()
        try JSONSerialization.data(withJSONObject: root).write(to: t.file("tokenizer.json"))
        let old = try Unigram.load(folder: t.path)
        for c in try UnigramCases.config("t5_like").cases {
            #expect(try old.encode(c.text) == c.ids, "\(c.text.debugDescription)")
            #expect(old.decode(c.ids) == c.decoded)
        }
        // add_prefix_space false alone (which current tokenizers refuses to read) means never.
        let never = try Metaspace.read(.object(JSONObject(keys: ["replacement", "add_prefix_space"],
                                                          values: ["replacement": .string("▁"), "add_prefix_space": .bool(false)])),
                                       what: "pre_tokenizer", path: "x")
        #expect(never.prependScheme == .never)
    }

    @Test("T5's special tokens: </s> added at the end, no BOS, <pad> and <unk> known")
    func t5Specials() throws {
        let tok = try UnigramCases.tokenizer("t5_like")
        #expect(tok.specialTokens == SpecialTokens(bos: nil, eos: 1, addBOS: false, addEOS: true, unknown: 2, padding: 0))
        let bart = try UnigramCases.tokenizer("first_nosplit")
        #expect(bart.specialTokens.addBOS && bart.specialTokens.addEOS)
        #expect(bart.specialTokens.bos == bart.id(for: "<s>") && bart.specialTokens.eos == bart.id(for: "</s>"))
        #expect(tok.id(for: "<extra_id_0>") == tok.vocabularySize - 1)
        #expect(tok.label(for: try #require(tok.id(for: "▁the"))) == "' the'")
    }

    @Test("ModelLoader picks Unigram for a tokenizer.json whose model is Unigram")
    func loaderPicksUnigram() throws {
        for name in UnigramCases.unigramNames {
            let tok = try #require(try ModelLoader.tokenizer(in: UnigramCases.path(name), family: nil))
            #expect(tok is Unigram, "\(name): \(type(of: tok))")
        }
        let t5 = try #require(try ModelLoader.tokenizer(in: UnigramCases.path("t5_like"), family: "t5"))
        #expect(try t5.encodeForModel("Hello world") == UnigramCases.config("t5_like").cases.first { $0.text == "Hello world" }!.idsSpecial)
    }

    @Test("a vocabulary larger than config.json's vocab_size is refused while it is read")
    func vocabularyLimit() throws {
        let e = try #require(expectStepwiseError {
            _ = try ModelLoader.tokenizer(in: UnigramCases.path("t5_like"), family: "t5", limit: VocabularyLimit(size: 100, source: "config.json's vocab_size"))
        })
        // The file's added tokens come before its model: the first id past the limit is one of them.
        #expect(e.message.contains("tokenizer.json: added token '<extra_id_9>' has id 275, but config.json's vocab_size is 100: the tokenizer files and config.json do not belong together"), "\(e.message)")
    }

    @Test("a Marian folder without tokenizer.json says what is missing and what to do, on one line")
    func marianWithoutTokenizerJSON() throws {
        let t = try TempFolder()
        try t.write("config.json", #"{"model_type": "marian", "vocab_size": 100}"#)
        for f in ["source.spm", "target.spm", "model.safetensors"] { try t.write(f, "not read") }
        try t.write("vocab.json", #"{"<pad>": 0}"#)
        let e = try #require(expectStepwiseError { _ = try ModelLoader.tokenizer(in: t.path, family: "marian") })
        #expect(e.message.contains("has no tokenizer.json") && e.message.contains("source.spm") && e.message.contains("Unigram tokenizer.json"), "\(e.message)")
        #expect(!e.message.contains("\n"))
        let viaLoad = try #require(expectStepwiseError { _ = try ModelLoader.load(t.path) })
        #expect(viaLoad.message.contains("Marian"), "\(viaLoad.message)")
    }

    /// The lattice is linear in the length times the longest piece; no timing is asserted (benchmarks do that).
    @Test("a word of 100,000 characters without spaces encodes and decodes back", arguments: ["t5_like", "byte_fallback", "first_nosplit"])
    func longWord(_ name: String) throws {
        let tok = try UnigramCases.tokenizer(name)
        let word = String(repeating: "unbelievable", count: 8_334).prefix(100_000)
        let ids = try tok.encode(String(word))
        #expect(ids.count > 10_000)
        #expect(tok.decode(ids) == String(word))
        let ex = try tok.explain(String(word.prefix(20_000)))
        #expect(ex.ids == (try tok.encode(String(word.prefix(20_000)))))
        #expect(ex.pretokens.first?.rules.first?.description.contains("more)") == true)
    }

    @Test("a text with a character the vocabulary lacks and no unk_id is one error line")
    func missingUnknown() throws {
        let t = try TempFolder()
        try t.write("tokenizer.json", #"{"model": {"type": "Unigram", "unk_id": null, "vocab": [["▁", -1.0], ["a", -2.0]]}, "pre_tokenizer": {"type": "Metaspace", "replacement": "▁"}}"#)
        let tok = try Unigram.load(folder: t.path)
        #expect(try tok.encode("a a") == [0, 1, 0, 1])
        let e = try #require(expectStepwiseError { _ = try tok.encode("a☃") })
        #expect(e.message.contains("tokenizer.json: the text has a character the vocabulary lacks ('☃', U+2603) and model.unk_id is not set"), "\(e.message)")
    }
}
