import Foundation
import Testing
@testable import StepwiseKit

@Suite("ByteLevelBPE")
struct ByteLevelBPETests {
    static let hasGPT2 = TestPaths.model("gpt2-tokenizer") != nil
    static let hasGolden = TestPaths.goldenFile("tokenizers.json") != nil
    static let hasSmolHF = TestPaths.model("smollm2-f32-hf/tokenizer.json") != nil

    // MARK: - GPT-2

    @Test("GPT-2 reproduces the golden ids and pieces",
          .enabled(if: hasGPT2, "needs models/gpt2-tokenizer"), .enabled(if: hasGolden, "needs golden/tokenizers.json"))
    func gpt2Golden() throws {
        let tok = try TokenizerCases.gpt2.get()
        let rows = try TokenizerCases.golden("gpt2")
        #expect(rows.count == 10)
        for row in rows {
            let ids = try tok.encode(row.text)
            #expect(ids == row.ids, "\(row.text.debugDescription)")
            #expect(ids.map { tok.piece(for: $0) ?? "?" } == row.pieces)
            #expect(sameBytes(tok.decode(ids), row.text))
        }
    }

    @Test("GPT-2 matches Hugging Face tokenizers on every reference string, and round-trips",
          .enabled(if: hasGPT2, "needs models/gpt2-tokenizer"))
    func gpt2Cases() throws {
        let tok = try TokenizerCases.gpt2.get()
        #expect(tok.vocabularySize == 50257)
        #expect(tok.mergeCount == 50000)
        #expect(tok.specialTokens.eos == 50256)
        for c in try TokenizerCases.cases.get() {
            let ids = try tok.encode(c.text)
            #expect(ids == c.gpt2, "\(c.text.debugDescription)")
            #expect(sameBytes(tok.decode(ids), c.text), "round trip of \(c.text.debugDescription)")
        }
    }

    @Test("explain shows every merge, and ends at encode's ids", .enabled(if: hasGPT2, "needs models/gpt2-tokenizer"))
    func explainMerges() throws {
        let tok = try TokenizerCases.gpt2.get()
        let e = try tok.explain(" the")
        #expect(e.pretokens.count == 1)
        let p = e.pretokens[0]
        #expect(p.initial == ["Ġ", "t", "h", "e"])
        #expect(p.rules.map(\.description) == ["Ġ + t -> Ġt", "h + e -> he", "Ġt + he -> Ġthe"])
        #expect(p.rules.map(\.rank) == [0, 2, 6])
        #expect(p.rules.map(\.symbols) == [["Ġt", "h", "e"], ["Ġt", "he"], ["Ġthe"]])
        #expect(p.pieces == ["Ġthe"] && p.ids == [262])

        for c in try TokenizerCases.cases.get() {
            let ex = try tok.explain(c.text)
            #expect(ex.ids == c.gpt2, "\(c.text.debugDescription)")
            for pt in ex.pretokens where !pt.isSpecial {
                #expect(pt.initial.joined() == ByteEncoder.encode(Array(pt.text.utf8)))
                var symbols = pt.initial
                for rule in pt.rules {
                    #expect(rule.symbols.count == symbols.count - 1)
                    #expect(rule.symbols.joined() == symbols.joined())
                    symbols = rule.symbols
                }
                #expect(symbols == pt.pieces)
                #expect(pt.pieces.map { tok.id(for: $0) } == pt.ids.map { Optional($0) })
            }
        }
    }

    @Test("special tokens are matched whole, and decode literally", .enabled(if: hasGPT2, "needs models/gpt2-tokenizer"))
    func gpt2Special() throws {
        let tok = try TokenizerCases.gpt2.get()
        #expect(try tok.encode("a<|endoftext|>b") == [64, 50256, 65])
        #expect(try tok.encode("<|endoftext|") == [27, 91, 437, 1659, 5239, 91])
        let ex = try tok.explain("x<|endoftext|>")
        #expect(ex.pretokens.map(\.isSpecial) == [false, true])
        #expect(tok.decode([50256]) == "<|endoftext|>")
        #expect(tok.specialTokenIDs == ["<|endoftext|>": 50256])
    }

    @Test("decode replaces invalid UTF-8 and skips unknown ids", .enabled(if: hasGPT2, "needs models/gpt2-tokenizer"))
    func decodeInvalid() throws {
        let tok = try TokenizerCases.gpt2.get()
        let ids = try tok.encode("😀")  // several byte pieces
        #expect(ids.count > 1)
        #expect(tok.decode(Array(ids.dropLast())) == "\u{FFFD}")
        #expect(tok.decode([31373, -1, 99_999_999]) == "hello")
        #expect(tok.piece(for: 50257) == nil)
        #expect(tok.piece(for: 31373) == "hello")
        #expect(tok.id(for: "Ġthe") == 262)
    }

    @Test("10 KB of text with a 2000-character word round-trips", .enabled(if: hasGPT2, "needs models/gpt2-tokenizer"))
    func longText() throws {
        let tok = try TokenizerCases.gpt2.get()
        var text = ""
        let cases = try TokenizerCases.cases.get()
        var k = 0
        while text.utf8.count < 10_000 { text += cases[k % cases.count].text + " "; k += 1 }
        text += String(repeating: "x", count: 2000)  // one long pre-token
        let ids = try tok.encode(text)
        #expect(sameBytes(tok.decode(ids), text))
        #expect(ids.count < text.utf8.count)
    }

    // MARK: - SmolLM2

    @Test("SmolLM2 (GGUF vocabulary, smollm pre-tokenizer) matches the reference on every string, and round-trips")
    func smolLM2Cases() throws {
        let tok = try TokenizerCases.smollm2.get()
        #expect(tok.vocabularySize == 49152)
        #expect(tok.preTokenizer == .smollm)
        for c in try TokenizerCases.cases.get() {
            let ids = try tok.encode(c.text)
            #expect(ids == c.smollm2, "\(c.text.debugDescription)")
            #expect(sameBytes(tok.decode(ids), c.text), "round trip of \(c.text.debugDescription)")
        }
        #expect(try tok.encode("  99") == [256, 41, 41])
        #expect(try tok.encode("<|im_start|>user") == [1, 4093])
    }

    @Test("SmolLM2 reproduces the golden ids and pieces", .enabled(if: hasGolden, "needs golden/tokenizers.json"))
    func smolLM2Golden() throws {
        let tok = try TokenizerCases.smollm2.get()
        for row in try TokenizerCases.golden("smollm2") {
            let ids = try tok.encode(row.text)
            #expect(ids == row.ids, "\(row.text.debugDescription)")
            #expect(ids.map { tok.piece(for: $0) ?? "?" } == row.pieces)
        }
    }

    @Test("SmolLM2 tokenizer.json loads; with the smollm override it matches the reference",
          .enabled(if: hasSmolHF, "needs models/smollm2-f32-hf (not in CI; the fixture test covers CI)"))
    func smolLM2HuggingFaceFolder() throws {
        let dir = try #require(TestPaths.model("smollm2-f32-hf")).path
        let plain = try ByteLevelBPE.load(folder: dir)
        // The exported tokenizer.json has only ByteLevel (the GGUF import drops the digit split).
        #expect(plain.preTokenizer == .gpt2)
        #expect(plain.specialTokens.bos == 1 && plain.specialTokens.eos == 2 && !plain.specialTokens.addBOS)
        #expect(plain.specialTokenIDs.count == 17)
        #expect(try plain.encode("  99") == [216, 216, 41, 41])
        let tok = try ByteLevelBPE.load(folder: dir, preTokenizer: .smollm)
        let fromFixture = try TokenizerCases.smollm2.get()
        for c in try TokenizerCases.cases.get() {
            #expect(try tok.encode(c.text) == c.smollm2, "\(c.text.debugDescription)")
        }
        for id in stride(from: 0, to: 49152, by: 7) {
            #expect(tok.piece(for: id) == fromFixture.piece(for: id))
        }
    }

    /// Built from the committed fixture (the GGUF's tokens and merges); SmolLM2GGUFTests checks the
    /// tokenizer read from the GGUF file itself against the same cases.
    @Test("SmolLM2 from GGUF-style vocabulary + merges reproduces France prompt ids")
    func smolLM2FromGGUFVocabulary() throws {
        let tok = try TokenizerCases.smollm2.get()
        #expect(try tok.encode("The capital of France is") == [504, 3575, 282, 4649, 314])
        #expect(tok.decode([504, 3575, 282, 4649, 314, 7042]) == "The capital of France is Paris")
    }
}

@Suite("Byte token labels")
struct ByteTokenLabelTests {
    @Test("a byte that is part of a character prints as <0xC3>, not as U+FFFD")
    func bytes() throws {
        #expect(TokenLabel.display(bytes: [0x20, 0x63, 0xC3]) == "' c<0xC3>'")
        #expect(TokenLabel.display(bytes: Array("é\n".utf8)) == "'é\\n'")
        #expect(TokenLabel.display(bytes: [0xE2, 0x98]) == "'<0xE2><0x98>'")
        var s = Session()
        try s.load(path: nil)
        let tok = try #require(s.tokenizer)
        let labels = try tok.encode("café").map { tok.label(for: $0) }
        #expect(labels.contains("'<0xC3>'") && labels.contains("'<0xA9>'"), "\(labels)")
        #expect(!labels.joined().contains("\u{FFFD}"))
    }
}
