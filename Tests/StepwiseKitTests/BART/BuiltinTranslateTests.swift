import Foundation
import Testing
@testable import StepwiseKit

/// The built-in English → Spanish BART (`load builtin:translate`) against transformers
/// (tools/reference/translate_reference.py): tokenizer ids, every step of a teacher-forced pass, and
/// greedy `translate` equal to `generate(do_sample=False)`.
@Suite("the built-in translation model against transformers", .enabled(if: ModelLoader.builtinPath("builtin:translate") != nil, "the built-in translation model is missing"))
struct BuiltinTranslateTests {
    func model() throws -> BARTModel {
        guard case .model(let m) = try ModelLoader.load("builtin:translate"), let b = m as? BARTModel else {
            throw StepwiseError(.model, "builtin:translate did not load as BART")
        }
        return b
    }

    func reference() throws -> [String: Any] {
        try #require(loadGzipJSON(TestPaths.fixtures.appendingPathComponent("translate/reference.json.gz")) as? [String: Any])
    }


    @Test("the weights are the ones the reference was made from, and the card's limits hold: ≤ 8 MB, BART, tied head")
    func file() throws {
        let ref = try reference()
        let folder = try #require(ModelLoader.builtinPath("builtin:translate"))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: folder + "/model.safetensors")[.size] as? Int)
        #expect(size <= 8 * 1_048_576)
        let m = try model()
        #expect(m.config.variant == .bart && m.config.tieWordEmbeddings && m.info.decoderStartID == 2)
        #expect((ref["model_sha256"] as? String)?.count == 64)
    }

    @Test("tokenizer ids with and without special tokens equal transformers'")
    func tokenizer() throws {
        let m = try model(), ref = try reference()
        let cases = try #require(ref["tokenizer"] as? [[String: Any]])
        #expect(cases.count >= 15)
        for c in cases {
            let text = try #require(c["text"] as? String)
            #expect(try m.tokenizer.encodeForModel(text) == (c["ids"] as? [Int]), "\(text.debugDescription)")
            #expect(try m.tokenizer.encode(text) == (c["ids_no_special"] as? [Int]), "\(text.debugDescription) without specials")
        }
    }

    @Test("a teacher-forced pass: every hidden state, self- and cross-attention pattern and the logits within 1e-4")
    func trace() throws {
        let m = try model()
        let t = try #require(try reference()["trace"] as? [String: Any])
        let source = try #require(t["source_ids"] as? [Int]), target = try #require(t["decoder_ids"] as? [Int])
        var o = ForwardOptions()
        o.source = source
        let trace = try m.forward(target, cache: nil, options: o)
        let enc = try #require(t["encoder_hidden_states"] as? [Any]), dec = try #require(t["decoder_hidden_states"] as? [Any])
        expectReferenceClose(try #require(trace["encoder.0.hook_resid_pre"]).tensor.data, floats(enc[0]), "encoder embeddings")
        expectReferenceClose(try #require(trace["decoder.0.hook_resid_pre"]).tensor.data, floats(dec[0]), "decoder embeddings")
        for l in 0..<2 {
            expectReferenceClose(try #require(trace["encoder.\(l).hook_resid_post"]).tensor.data, floats(enc[l + 1]), "encoder layer \(l)")
            expectReferenceClose(try #require(trace["decoder.\(l).hook_resid_post"]).tensor.data, floats(dec[l + 1]), "decoder layer \(l)")
            expectReferenceClose(try #require(trace["encoder.\(l).attn.hook_pattern"]).tensor.data, floats((t["encoder_attentions"] as? [Any])?[l]),
                        absolute: true, "encoder pattern \(l)")
            expectReferenceClose(try #require(trace["decoder.\(l).attn.hook_pattern"]).tensor.data, floats((t["decoder_attentions"] as? [Any])?[l]),
                        absolute: true, "decoder pattern \(l)")
            expectReferenceClose(try #require(trace["decoder.\(l).cross_attn.hook_pattern"]).tensor.data, floats((t["cross_attentions"] as? [Any])?[l]),
                        absolute: true, "cross pattern \(l)")
        }
        expectReferenceClose(try #require(trace.logits).data, floats(t["logits"]), "logits")
    }

    @Test("translate equals transformers' greedy generate on every reference sentence")
    func translate() throws {
        let cases = try #require(try reference()["greedy"] as? [[String: Any]])
        #expect(cases.count >= 8)
        var t = try Transcript(model: "builtin:translate")
        for c in cases {
            let source = try #require(c["source"] as? String), want = try #require(c["output_ids"] as? [Int])
            let (out, ok) = t.run("translate " + source)
            #expect(ok, "\(out)")
            #expect(t.session.sourceIDs == (c["source_ids"] as? [Int]), "\(source)")
            // The session reads the translation back without its last token (</s>), which its last row predicts.
            #expect(want.last == 2 && t.session.ids == Array(want.dropLast()), "\(source): \(t.session.ids) vs \(want)")
            #expect(Predictions.top(try #require(t.session.trace), tokenizer: t.session.tokenizer!, k: 1).first?.id == 2)
            #expect(t.session.promptText == (c["text"] as? String))
        }
    }

    @Test("the reordering the lesson shows: the red car → el coche rojo, and cross-attention follows the words")
    func reordering() throws {
        var t = try Transcript(model: "builtin:translate")
        let (out, ok) = t.run("translate the red car")
        #expect(ok, "\(out)")
        #expect(t.session.promptText == " el coche rojo")
        // Head 1.0 (the card's best) at the position that writes each word looks at the word it translates.
        let m = try #require(t.session.model)
        var o = ForwardOptions()
        o.source = t.session.sourceIDs
        let trace = try #require(t.session.trace)
        #expect(try m.forward(t.session.ids, cache: nil, options: o).logits!.data == trace.logits!.data)
        let p = try #require(trace["decoder.1.cross_attn.hook_pattern"]).tensor
        let (T, S) = (p.shape[1], p.shape[2])
        let labels = trace.sourceLabels
        func strongest(_ q: Int) -> String {
            let row = (0..<S).map { p.data[q * S + $0] }
            return labels[row.indices.max { row[$0] < row[$1] }!]
        }
        // Position 0 (the start token) writes ' el', 1 writes ' coche', 2 writes ' rojo'.
        #expect(T == 4 && strongest(0) == "' the'" && strongest(1) == "' car'" && strongest(2) == "' red'",
                "\(strongest(0)) \(strongest(1)) \(strongest(2))")
    }
}
