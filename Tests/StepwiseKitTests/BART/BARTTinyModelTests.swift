import Foundation
import Testing
@testable import StepwiseKit

/// Tiny random BART and Marian checkpoints made with transformers (tools/reference/make_bart_fixtures.py),
/// loaded from their Hugging Face folders and compared with transformers' outputs: every encoder and
/// decoder hidden state, self- and cross-attention pattern, the logits, and greedy generation.
@Suite("tiny random BART and Marian checkpoints against transformers")
struct BARTTinyModelTests {
    static let names = ["bart-odd", "bart-untied", "marian"]

    func load(_ name: String) throws -> BARTModel {
        let folder = TestPaths.fixtures.appendingPathComponent("bart/\(name)").path
        guard case .model(let m) = try ModelLoader.load(folder), let b = m as? BARTModel else {
            throw StepwiseError(.model, "\(name) did not load as a BART model")
        }
        return b
    }

    func reference(_ name: String) throws -> [String: Any] {
        try #require(loadJSON(TestPaths.fixtures.appendingPathComponent("bart/\(name)/reference.json")) as? [String: Any])
    }


    func options(_ source: [Int], record: Bool = true) -> ForwardOptions {
        var o = ForwardOptions(record: record)
        o.source = source
        return o
    }

    @Test("source and target ids equal transformers' tokenizer's", arguments: names)
    func tokens(_ name: String) throws {
        let model = try load(name), ref = try reference(name)
        #expect(try model.tokenizer.encodeForModel(try #require(ref["source"] as? String)) == (ref["source_ids"] as? [Int]))
        let target = try model.tokenizer.encode(try #require(ref["target"] as? String))
        #expect([model.config.decoderStartTokenID] + target == (ref["decoder_ids"] as? [Int]))
    }

    @Test("every encoder and decoder hidden state, pattern, cross-attention pattern and the logits within 1e-4", arguments: names)
    func forward(_ name: String) throws {
        let model = try load(name), ref = try reference(name)
        let source = try #require(ref["source_ids"] as? [Int]), target = try #require(ref["decoder_ids"] as? [Int])
        let trace = try model.forward(target, cache: nil, options: options(source))
        let enc = try #require(ref["encoder_hidden_states"] as? [Any]), dec = try #require(ref["decoder_hidden_states"] as? [Any])
        #expect(enc.count == model.config.encoderLayers + 1 && dec.count == model.config.decoderLayers + 1)
        // transformers' hidden_states[0] is the embedding output (after BART's layernorm_embedding), then each layer's.
        expectReferenceClose(try #require(trace["encoder.0.hook_resid_pre"]).tensor.data, floats(enc[0]), "\(name) encoder embeddings")
        expectReferenceClose(try #require(trace["decoder.0.hook_resid_pre"]).tensor.data, floats(dec[0]), "\(name) decoder embeddings")
        for l in 0..<model.config.encoderLayers {
            expectReferenceClose(try #require(trace["encoder.\(l).hook_resid_post"]).tensor.data, floats(enc[l + 1]), "\(name) encoder layer \(l)")
            expectReferenceClose(try #require(trace["encoder.\(l).attn.hook_pattern"]).tensor.data,
                        floats((ref["encoder_attentions"] as? [Any])?[l]), absolute: true, "\(name) encoder pattern \(l)")
        }
        for l in 0..<model.config.decoderLayers {
            expectReferenceClose(try #require(trace["decoder.\(l).hook_resid_post"]).tensor.data, floats(dec[l + 1]), "\(name) decoder layer \(l)")
            expectReferenceClose(try #require(trace["decoder.\(l).attn.hook_pattern"]).tensor.data,
                        floats((ref["decoder_attentions"] as? [Any])?[l]), absolute: true, "\(name) decoder pattern \(l)")
            let cross = try #require(trace["decoder.\(l).cross_attn.hook_pattern"])
            expectReferenceClose(cross.tensor.data, floats((ref["cross_attentions"] as? [Any])?[l]), absolute: true, "\(name) cross pattern \(l)")
            #expect(cross.tensor.shape == [model.config.decoderHeads, target.count, source.count])
        }
        expectReferenceClose(try #require(trace.logits).data, floats(ref["logits"]), "\(name) logits")
        let worst = (0..<model.config.decoderLayers).map { l in
            referenceError(trace["decoder.\(l).cross_attn.hook_pattern"]!.tensor.data, floats((ref["cross_attentions"] as? [Any])?[l])).error
        }.max() ?? 0
        print("\(name): logits max error \(referenceError(trace.logits!.data, floats(ref["logits"])).error), cross patterns \(worst)")
    }

    @Test("KV-cached decoding equals a full recompute, and greedy decoding equals generate()", arguments: names)
    func cachedAndGreedy(_ name: String) throws {
        let model = try load(name), ref = try reference(name)
        let source = try #require(ref["source_ids"] as? [Int]), target = try #require(ref["decoder_ids"] as? [Int])
        let full = try #require(try model.forward(target, cache: nil, options: options(source)).logits)
        let cache = model.makeCache()
        _ = try model.forward(Array(target.prefix(3)), cache: cache, options: options(source, record: false))
        for (i, id) in target.enumerated().dropFirst(3) {
            // Alternate recorded and fast passes: both must read the same cached keys and values.
            let step = try #require(try model.forward([id], cache: cache, options: options(source, record: i % 2 == 0)).logits)
            expectReferenceClose(step.data, full.row(i).data, "\(name) cached position \(i)")
        }
        let want = try #require(ref["greedy"] as? [Int])
        let generator = Generator(model: model, settings: .greedy, options: options(source))
        let result = try generator.generate(prompt: [model.config.decoderStartTokenID], maxTokens: want.count - 1) { _ in }
        #expect([model.config.decoderStartTokenID] + result.generated == want, "\(name) greedy")
    }

    @Test("step names and axes: encoder and decoder stacks, cross-attention keys labelled with the source")
    func stepNames() throws {
        let model = try load("bart-odd"), ref = try reference("bart-odd")
        let source = try #require(ref["source_ids"] as? [Int]), target = try #require(ref["decoder_ids"] as? [Int])
        let trace = try model.forward(target, cache: nil, options: options(source))
        let names = trace.names
        for n in ["encoder.hook_embed", "encoder.hook_pos_embed", "encoder.embed.ln.hook_out", "encoder.0.attn.hook_pattern",
                  "encoder.1.hook_resid_post", "decoder.hook_embed", "decoder.0.attn.hook_pattern", "decoder.0.ln2.hook_scale",
                  "decoder.0.cross_attn.hook_q", "decoder.0.cross_attn.hook_k", "decoder.0.cross_attn.hook_z",
                  "decoder.0.hook_cross_attn_out", "decoder.0.hook_resid_mid_cross", "decoder.2.ln3.hook_normalized", "logits"] {
            #expect(names.contains(n), "missing \(n)")
            #expect(HookName(n)?.name == n, "\(n) does not parse back")
        }
        #expect(names.firstIndex(of: "encoder.1.hook_resid_post")! < names.firstIndex(of: "decoder.hook_embed")!)
        let cross = try #require(trace["decoder.1.cross_attn.hook_pattern"])
        #expect(cross.axes.map(\.name) == ["head", "query_pos", "key_pos"])
        #expect(cross.axes[2].labels == source.map { model.tokenizer.label(for: $0) })
        #expect(cross.axes[1].labels == target.map { model.tokenizer.label(for: $0) })
        #expect(cross.stack == .decoder && cross.layer == 1 && cross.title.hasPrefix("Cross-attention"))
        #expect(trace["decoder.1.cross_attn.hook_k"]?.inputs == ["encoder.1.hook_resid_post"])
        #expect(trace.sourceIDs == source)
        // The encoder sees both ways, the decoder only back.
        let encPattern = try #require(trace["encoder.0.attn.hook_pattern"]).tensor
        #expect(encPattern.data[1] > 0, "an encoder query sees later keys")
        let decPattern = try #require(trace["decoder.0.attn.hook_pattern"]).tensor
        #expect(decPattern.data[1] == 0, "a decoder query does not see later keys")
        // Without a source there is nothing to cross-attend to.
        #expect(throws: StepwiseError.self) { try model.forward(target, cache: nil, options: ForwardOptions()) }
    }

    @Test("config: the variants' flags, and an mBART-style pre-norm config is refused naming config.json")
    func configs() throws {
        #expect(try load("marian").config.variant == .marian && !load("marian").config.hasEmbeddingNorm)
        let untied = try load("bart-untied")
        #expect(!untied.config.tieWordEmbeddings && untied.config.scaleEmbedding)
        #expect(untied.info.isEncoderDecoder && untied.info.encoderLayers == 1 && untied.info.layers == 2)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bart-prenorm-\(UUID().uuidString).json").path
        try #"{"model_type": "bart", "vocab_size": 10, "d_model": 8, "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_ffn_dim": 8, "decoder_ffn_dim": 8, "max_position_embeddings": 8, "normalize_before": true}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: StepwiseError.self) { try BARTConfig(configPath: path) }
        #expect(error.message.contains(path) && error.message.contains("normalize_before"))
    }
}
