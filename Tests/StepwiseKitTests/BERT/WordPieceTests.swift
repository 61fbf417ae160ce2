import Foundation
import Testing
@testable import StepwiseKit

private let minilmTokenizer = TestPaths.model("minilm/tokenizer.json")
private let minilmVocab = TestPaths.model("minilm/vocab.txt")

/// A hand-made vocabulary: enough to check the algorithm without a model folder.
private func tinyWordPiece(maxChars: Int = 100) throws -> WordPiece {
    try WordPiece(vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "play", "##ing", "##er", "p", "##l",
                               "##a", "##y", "un", "##aff", "##able", "cafe", ",", "!", "中", "$", "##s", "a"],
                  maxInputCharsPerWord: maxChars)
}

@Suite("BERT WordPiece tokenizer")
struct BERTWordPieceTests {
    @Test("greedy longest match first with ## continuations")
    func greedy() throws {
        let t = try tinyWordPiece()
        #expect(try t.encode("playing") == [5, 6])
        #expect(try t.encode("player") == [5, 7])
        #expect(try t.encode("unaffable") == [12, 13, 14])
        #expect(try t.encode("plays") == [5, 20])
        // No full cut of "playz": the whole word is [UNK], not "play" + [UNK].
        #expect(try t.encode("playz play") == [1, 5])
    }

    @Test("explain lists each match in order")
    func explain() throws {
        let t = try tinyWordPiece()
        let e = try t.explain("Playing, UNAFFABLE!")
        #expect(e.pretokens.map(\.text) == ["Playing", ",", "UNAFFABLE", "!"])
        #expect(e.pretokens[0].initial == ["playing"])
        #expect(e.pretokens[0].rules.map(\.description) == ["match 'play'", "match '##ing'"])
        #expect(e.pretokens[0].rules[0].symbols == ["play", "##ing"])
        #expect(e.pretokens[2].rules.map(\.description) == ["match 'un'", "match '##aff'", "match '##able'"])
        #expect(e.ids == [5, 6, 16, 12, 13, 14, 17])
        let unk = try t.explain("zzz").pretokens[0]
        #expect(unk.pieces == ["[UNK]"])
        #expect(unk.rules.count == 1 && unk.rules[0].description.contains("[UNK]"))
    }

    @Test("words longer than max_input_chars_per_word are [UNK]")
    func longWords() throws {
        let t = try tinyWordPiece(maxChars: 4)
        #expect(try t.encode("play") == [5])
        #expect(try t.encode("plays") == [1])
    }

    @Test("normalizer: accents, case, CJK, punctuation, controls, whitespace")
    func normalizer() throws {
        let t = try tinyWordPiece()
        #expect(try t.encode("CAFÉ") == [15])
        #expect(try t.encode("cafe\u{301}") == [15])
        #expect(try t.encode("a中a") == [21, 18, 21])
        #expect(try t.encode("a$a") == [21, 19, 21])
        #expect(try t.encode("pl\u{0}a\u{7}y\u{200B}") == [5])
        #expect(try t.encode("a\u{3000}a\ta\u{A0}a") == [21, 21, 21, 21])
    }

    @Test("special tokens in the text are matched whole; [CLS]/[SEP] are added for the model")
    func specials() throws {
        let t = try tinyWordPiece()
        #expect(try t.encode("play[MASK]a") == [5, 4, 21])
        #expect(try t.encodeForModel("play") == [2, 5, 3])
        #expect(t.specialTokens == SpecialTokens(bos: 2, eos: 3, addBOS: true, addEOS: true, unknown: 1, padding: 0))
        #expect(try t.explain("[SEP]").pretokens[0].isSpecial)
    }

    @Test("decode glues ## pieces and tidies punctuation")
    func decode() throws {
        let t = try tinyWordPiece()
        #expect(t.decode([5, 6, 16, 12, 13, 14, 17]) == "playing, unaffable!")
        #expect(t.decode([6]) == "##ing")
    }

    @Test("a vocabulary without [UNK] is rejected")
    func missingUnknown() {
        #expect(throws: StepwiseError.self) { try WordPiece(vocabulary: ["a", "b"]) }
    }

    // MARK: - MiniLM tokenizer against Hugging Face tokenizers

    static func cases() throws -> [[String: Any]] {
        let url = TestPaths.fixtures.appendingPathComponent("bert/wordpiece_cases.json")
        let root = try #require(try loadJSON(url) as? [String: Any])
        return try #require(root["cases"] as? [[String: Any]])
    }

    @Test("MiniLM tokenizer.json: ids, pieces and decoding equal HF tokenizers on 300+ strings",
          .enabled(if: minilmTokenizer != nil, "needs minilm/tokenizer.json under STEPWISE_MODELS"))
    func fixtureCasesJSON() throws {
        let t = try WordPiece(tokenizerJSON: minilmTokenizer!.path)
        let cases = try Self.cases()
        #expect(cases.count >= 200)
        var failures = 0
        for c in cases {
            let text = c["text"] as! String
            let want = (c["ids"] as! [NSNumber]).map(\.intValue)
            let got = try t.encodeForModel(text)
            if got != want {
                failures += 1
                Issue.record("\(text.debugDescription): got \(got), want \(want)")
            }
            let e = try t.explain(text)
            #expect(e.pretokens.flatMap(\.pieces) == c["pieces"] as! [String], "\(text.debugDescription)")
            #expect(t.decode(e.ids) == c["decoded"] as! String, "decode \(text.debugDescription)")
        }
        #expect(failures == 0)
    }

    @Test("MiniLM vocab.txt gives the same ids as tokenizer.json",
          .enabled(if: minilmVocab != nil, "needs minilm/vocab.txt under STEPWISE_MODELS"))
    func fixtureCasesVocab() throws {
        let t = try WordPiece(vocabFile: minilmVocab!.path)
        #expect(t.vocabularySize == 30522)
        for c in try Self.cases() {
            let text = c["text"] as! String
            #expect(try t.encodeForModel(text) == (c["ids"] as! [NSNumber]).map(\.intValue), "\(text.debugDescription)")
        }
    }

    @Test("MiniLM tokenizer matches the shared golden ids",
          .enabled(if: minilmTokenizer != nil && TestPaths.goldenFile("tokenizers.json") != nil,
                   "needs minilm/tokenizer.json and shared golden/tokenizers.json"))
    func golden() throws {
        let t = try WordPiece.load(folder: minilmTokenizer!.deletingLastPathComponent().path)
        let root = try #require(try loadJSON(TestPaths.goldenFile("tokenizers.json")!) as? [String: Any])
        let cases = try #require(root["bert-minilm"] as? [[String: Any]])
        #expect(!cases.isEmpty)
        for c in cases {
            let text = c["text"] as! String
            let ids = try t.encodeForModel(text)
            #expect(ids == (c["ids"] as! [NSNumber]).map(\.intValue), "\(text.debugDescription)")
            #expect(ids.map { t.piece(for: $0)! } == c["pieces"] as! [String])
        }
        let e = try t.explain("playing")
        #expect(e.pretokens[0].rules.map(\.description) == ["match 'playing'"])
        let split = try t.explain("unaffable")
        #expect(split.pretokens[0].rules.map(\.description).allSatisfy { $0.hasPrefix("match '") })
        #expect(split.pretokens[0].rules.count == split.pretokens[0].pieces.count)
    }
}
