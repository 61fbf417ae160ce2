import Foundation
import Testing
@testable import StepwiseKit

@Suite("Post-processors and BART-style byte-level BPE")
struct PostProcessorTests {
    /// bart_bpe: ByteLevel(add_prefix_space) pre-tokenizer, RobertaProcessing, <mask> with lstrip.
    @Test("a BART-like byte-level BPE gives tokenizers' ids with and without special tokens, and its text back")
    func bart() throws {
        let tok = try ByteLevelBPE.load(folder: UnigramCases.path("bart_bpe"))
        #expect(tok.addsPrefixSpace)
        #expect(tok.specialTokens.bos == 0 && tok.specialTokens.eos == 2 && tok.specialTokens.addBOS && tok.specialTokens.addEOS)
        let cases = try UnigramCases.config("bart_bpe").cases
        #expect(cases.count >= 40)
        var wrong: [String] = []
        for c in cases {
            if try tok.encode(c.text) != c.ids { wrong.append("\(c.text.debugDescription): \(try tok.encode(c.text)) != \(c.ids)") }
            if try tok.encodeForModel(c.text) != c.idsSpecial { wrong.append("\(c.text.debugDescription) with special tokens: \(try tok.encodeForModel(c.text)) != \(c.idsSpecial)") }
            if !sameBytes(tok.decode(c.idsSpecial), c.decodedSpecial) { wrong.append("decode \(c.text.debugDescription): \(tok.decode(c.idsSpecial).debugDescription)") }
        }
        #expect(wrong.isEmpty, "\(wrong.count) differ: \(wrong.prefix(6).joined(separator: "; "))")
        // The prefix space goes before each stretch between added tokens; <mask> takes the space before it.
        let mask = try #require(tok.id(for: "<mask>"))
        #expect(try tok.encode("Hello <mask> world").contains(mask))
        #expect(try tok.encode("Hello <mask>").last == mask)
        let picked = try #require(try ModelLoader.tokenizer(in: UnigramCases.path("bart_bpe"), family: "bart"))
        #expect(picked is ByteLevelBPE)
    }

    func read(_ json: String, ids: [String: Int] = ["<s>": 0, "</s>": 2]) throws -> PostProcessor? {
        let bytes = Array(json.utf8)
        let v = try bytes.withUnsafeBytes { b in
            var r = JSONReader(path: "tokenizer.json", bytes: b)
            return try r.value()
        }
        return try PostProcessor.read(v, path: "tokenizer.json", vocabularySize: 10) { ids[$0] }
    }

    @Test("TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel and Sequence")
    func kinds() throws {
        let t5 = #"{"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}], "special_tokens": {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}}"#
        #expect(try read(t5) == PostProcessor(before: nil, after: 2))
        let bart = #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}}"#
        #expect(try read(bart) == PostProcessor(before: 0, after: 2))
        #expect(try read(#"{"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": true, "add_prefix_space": true}"#) == PostProcessor(before: 0, after: 2))
        #expect(try read(#"{"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 1]}"#, ids: ["[CLS]": 1, "[SEP]": 3]) == PostProcessor(before: 1, after: 3))
        #expect(try read(#"{"type": "ByteLevel", "trim_offsets": false}"#) == nil)
        #expect(try read(#"{"type": "Sequence", "processors": [{"type": "ByteLevel"}, "# + t5 + "]}") == PostProcessor(before: nil, after: 2))
        #expect(try read("null") == nil)
        var s = SpecialTokens(bos: 5, eos: 6)
        PostProcessor(before: nil, after: 2).apply(to: &s)
        #expect(s == SpecialTokens(bos: 5, eos: 2, addBOS: false, addEOS: true))
    }
}
