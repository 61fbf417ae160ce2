import Foundation
import Testing
@testable import StepwiseKit

/// Tiny random Gemma 3 and Gemma 2 checkpoints made with transformers (tools/reference/make_gemma_fixtures.py),
/// loaded from their Hugging Face folders (config.json, model.safetensors, a SentencePiece-style tokenizer.json)
/// and compared with transformers' outputs: token ids, every layer's output and pattern, final norm, logits.
@Suite("tiny random Gemma checkpoints against transformers")
struct GemmaTinyModelTests {
    static let names = ["gemma3-odd", "gemma2-softcap"]

    func load(_ name: String) throws -> GemmaModel {
        let folder = TestPaths.fixtures.appendingPathComponent("gemma/\(name)").path
        guard case .model(let m) = try ModelLoader.load(folder), let g = m as? GemmaModel else {
            throw StepwiseError(.model, "\(name) did not load as a Gemma model")
        }
        return g
    }

    func reference(_ name: String) throws -> [String: Any] {
        try #require(loadJSON(TestPaths.fixtures.appendingPathComponent("gemma/\(name)/reference.json")) as? [String: Any])
    }


    @Test("tokenizer.json: ids equal transformers' (BOS from the template), and decode back", arguments: names)
    func tokenizer(_ name: String) throws {
        let model = try load(name)
        let ref = try reference(name)
        #expect(model.tokenizer is SentencePieceBPE)
        var cases = try #require(ref["tokenizer"] as? [[String: Any]])
        cases.append(["text": try #require(ref["text"] as? String), "ids": try #require(ref["ids"] as? [Int])])
        for c in cases {
            let text = try #require(c["text"] as? String), want = try #require(c["ids"] as? [Int])
            #expect(try model.tokenizer.encodeForModel(text) == want, "\(text.debugDescription)")
        }
        let e = try model.tokenizer.explain("the cat")
        #expect(e.pretokens.first?.rules.first?.rank != nil, "merges from tokenizer.json carry their rank")
    }

    @Test("every layer's output and pattern, final norm and logits within 1e-4", arguments: names)
    func forward(_ name: String) throws {
        let model = try load(name)
        let ref = try reference(name)
        let ids = try #require(ref["ids"] as? [Int])
        let trace = try model.trace(ids)
        let layers = try #require(ref["layers"] as? [[String: Any]])
        #expect(layers.count == model.config.numHiddenLayers)
        for (l, layer) in layers.enumerated() {
            expectReferenceClose(try #require(trace["blocks.\(l).hook_resid_post"]).tensor.data, floats(layer["hidden"]), "\(name) layer \(l) output")
            expectReferenceClose(try #require(trace["blocks.\(l).attn.hook_pattern"]).tensor.data, floats(layer["pattern"]), absolute: true,
                        "\(name) layer \(l) pattern")
        }
        expectReferenceClose(try #require(trace["ln_final.hook_out"]).tensor.data, floats(ref["final_norm"]), "\(name) final norm")
        expectReferenceClose(try #require(trace.logits).data, floats(ref["logits"]), "\(name) logits")
        // The KV cache gives the same last logits as the full pass.
        let cache = model.makeCache()
        _ = try model.forward(Array(ids.dropLast()), cache: cache, options: ForwardOptions(record: false))
        let step = try model.forward([ids.last!], cache: cache, options: ForwardOptions(record: false)).logits!
        expectReferenceClose(step.data, try #require(trace.logits).row(ids.count - 1).data, "\(name) cached last position")
    }

    @Test("the config is read as written: window, layer types, scalar, soft-capping, RoPE bases")
    func configs() throws {
        let g3 = try load("gemma3-odd").config
        #expect(g3.generation == .gemma3 && g3.slidingWindow == 4 && g3.layerTypes == [.sliding, .sliding, .full])
        #expect(g3.queryPreAttnScalar == 20 && g3.ropeTheta == 50000 && g3.ropeLocalTheta == 100 && !g3.tieWordEmbeddings)
        let g2 = try load("gemma2-softcap").config
        #expect(g2.generation == .gemma2 && g2.attnLogitSoftcapping == 4 && g2.finalLogitSoftcapping == 6)
        #expect(g2.layerTypes == [.sliding, .full] && g2.ropeLocalTheta == g2.ropeTheta && !g2.hasQKNorm)
        let trace = try load("gemma2-softcap").trace([2, 5, 6, 7, 8])
        #expect(trace["blocks.0.attn.hook_attn_scores_unmasked"]?.formula.contains("tanh") == true)
        #expect(trace["logits"]?.formula.contains("6 · tanh") == true)
        #expect(trace.logits!.data.allSatisfy { abs($0) < 6 })
    }

    @Test("bad configs get one clear error naming the file and the key")
    func badConfigs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gemma-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = TestPaths.fixtures.appendingPathComponent("gemma/gemma3-odd")
        for f in ["model.safetensors", "tokenizer.json"] {
            try FileManager.default.copyItem(at: src.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        let base = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: src.appendingPathComponent("config.json"))) as? [String: Any])
        let cases: [(String, Any, String)] = [
            ("layer_types", ["sliding_attention"], "layer_types has 1 entries for 3 layers"),
            ("layer_types", ["sliding_attention", "local", "full_attention"], "layer_types[1]"),
            ("rope_parameters", ["full_attention": ["rope_theta": 1e4, "rope_type": "yarn"]], "rope_type 'yarn'"),
            ("attn_logit_softcapping", -1, "attn_logit_softcapping is -1.0"),
            ("num_key_value_heads", 2, "not a multiple of 2 key/value heads"),
            ("hidden_activation", "swish2", "hidden_activation 'swish2'"),
        ]
        for (key, value, message) in cases {
            var c = base
            c[key] = value
            try JSONSerialization.data(withJSONObject: c).write(to: dir.appendingPathComponent("config.json"))
            do {
                _ = try ModelLoader.load(dir.path)
                Issue.record("\(key) = \(value) loaded")
            } catch let e as StepwiseError {
                #expect(e.message.contains(message), "\(key): \(e.message)")
                #expect(e.message.contains("config.json"), "\(key): \(e.message)")
                #expect(!e.message.contains("\n"))
            }
        }
    }
}
