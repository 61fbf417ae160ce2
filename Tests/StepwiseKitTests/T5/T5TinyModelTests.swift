import Foundation
import Testing
@testable import StepwiseKit

/// Tiny random T5 v1.0 and v1.1 checkpoints made with transformers (tools/reference/make_t5_fixtures.py),
/// loaded from their Hugging Face folders and compared with transformers' outputs: every encoder and
/// decoder step it exposes, the position biases, logits, and greedy generation.
@Suite("tiny random T5 checkpoints against transformers")
struct T5TinyModelTests {
    /// Compares and returns the max abs error (patterns absolute; others relative to max(1, |ref|)).
    @discardableResult
    func expectClose(_ got: Tensor?, _ want: Any?, absolute: Bool = false, _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) -> Float {
        guard let got else {
            Issue.record("\(what): no such step", sourceLocation: sourceLocation)
            return .infinity
        }
        return expectClose(got, values: floats(want), absolute: absolute, what, sourceLocation: sourceLocation)
    }

    @discardableResult
    func expectClose(_ got: Tensor?, values want: [Float], absolute: Bool = false, _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) -> Float {
        guard let got else {
            Issue.record("\(what): no such step", sourceLocation: sourceLocation)
            return .infinity
        }
        #expect(got.count == want.count, "\(what): \(got.count) values vs \(want.count)", sourceLocation: sourceLocation)
        guard got.count == want.count, !want.isEmpty else { return .infinity }
        let (err, bound) = referenceError(got.data, want, absolute: absolute)
        #expect(err <= bound, "\(what): max error \(err) > \(bound)", sourceLocation: sourceLocation)
        return err
    }

    @Test("every encoder and decoder step transformers exposes, the position biases and the logits, within 1e-4",
          arguments: T5Fixture.names)
    func forward(_ name: String) throws {
        let model = try T5Fixture.load(name)
        let ref = try T5Fixture.reference(name)
        let source = try #require(ref["source_ids"] as? [Int]), target = try #require(ref["decoder_ids"] as? [Int])
        let trace = try model.forward(target, cache: nil, options: T5Fixture.options(source))
        var worst: [String: Float] = [:]
        func check(_ step: String, _ key: Any?, absolute: Bool = false) {
            let e = expectClose(trace[step]?.tensor, key, absolute: absolute, "\(name) \(step)")
            let group = step.contains("pattern") ? "patterns" : (step == "logits" ? "logits" : "states")
            worst[group] = max(worst[group] ?? 0, e)
        }
        for stack in ["encoder", "decoder"] {
            let layers = try #require(ref["\(stack)_layers"] as? [Any])
            #expect(layers.count == (stack == "encoder" ? model.config.numLayers : model.config.numDecoderLayers))
            check("\(stack).hook_embed", ref["\(stack)_embed"])
            check("\(stack).hook_position_bias", ref["\(stack)_position_bias"])
            for l in layers.indices {
                check("\(stack).\(l).hook_resid_post", layers[l])
                check("\(stack).\(l).attn.hook_pattern", (ref["\(stack)_attentions"] as? [Any])?[l], absolute: true)
                if stack == "decoder" {
                    check("decoder.\(l).cross_attn.hook_pattern", (ref["cross_attentions"] as? [Any])?[l], absolute: true)
                }
            }
            check("\(stack)_final_ln.hook_out", ref["\(stack)_final"])
            let b0 = try #require(ref["\(stack)_block0"] as? [String: Any])
            check("\(stack).0.ln1.hook_out", b0["ln1"])
            check("\(stack).0.hook_attn_out", b0["attn_out"])
            check("\(stack).0.ln2.hook_out", b0["ln2"])
            check("\(stack).0.hook_mlp_out", b0["mlp_out"])
            if stack == "decoder" {
                check("decoder.0.hook_cross_attn_out", b0["cross_attn_out"])
                check("decoder.0.ln3.hook_out", b0["ln3"])
            }
        }
        check("logits", ref["logits"])
        print("T5 \(name): max abs error " + worst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }

    @Test("greedy decoding through the KV cache equals transformers' generate()", arguments: T5Fixture.names)
    func greedy(_ name: String) throws {
        let model = try T5Fixture.load(name)
        let ref = try T5Fixture.reference(name)
        let source = try #require(ref["source_ids"] as? [Int]), want = try #require(ref["greedy"] as? [Int])
        #expect(want.first == model.config.decoderStartTokenID && model.info.decoderStartID == want.first)
        // A loop of one-token passes with the cache: the encoder runs once, the cross keys and values stay.
        let cache = model.makeCache()
        var out = [model.config.decoderStartTokenID]
        var fed = out
        while out.count < want.count {
            let logits = try #require(try model.forward(fed, cache: cache, options: T5Fixture.options(source, record: false)).logits)
            let next = T5Fixture.argmax(logits.row(logits.dim(0) - 1).data)
            out.append(next)
            if model.config.eosTokenIDs.contains(next) { break }
            fed = [next]
        }
        #expect(out == want, "\(name): \(out) vs transformers \(want)")
        #expect(cache.crossSource == source && cache.crossKeys.count == model.config.numDecoderLayers)
        #expect(cache.length == out.count - 1 && cache.tokenIDs == Array(out.dropLast()))
        // The same through Generator, with the source in its options.
        var options = ForwardOptions()
        options.source = source
        let generator = Generator(model: model, settings: try SamplingSettings(temperature: 0), options: options)
        let result = try generator.generate(prompt: [model.config.decoderStartTokenID], maxTokens: want.count - 1) { _ in }
        #expect([model.config.decoderStartTokenID] + result.generated == want)
        #expect(result.finalTrace?["encoder.0.attn.hook_pattern"] != nil, "the recorded last pass shows the encoder too")
    }

    @Test("a cached pass equals the full recompute, recorded or not, and reuses the cross keys and values",
          arguments: T5Fixture.names)
    func cachedEqualsFull(_ name: String) throws {
        let model = try T5Fixture.load(name)
        let ref = try T5Fixture.reference(name)
        let source = try #require(ref["source_ids"] as? [Int]), target = try #require(ref["decoder_ids"] as? [Int])
        let full = try model.forward(target, cache: nil, options: T5Fixture.options(source))
        let fullLogits = try #require(full.logits)
        for record in [false, true] {
            let cache = model.makeCache()
            _ = try model.forward(Array(target.prefix(3)), cache: cache, options: T5Fixture.options(source, record: false))
            let firstKeys = cache.crossKeys
            _ = try model.forward(Array(target[3..<5]), cache: cache, options: T5Fixture.options(source, record: false))
            #expect(cache.crossKeys == firstKeys)
            let last = try model.forward(Array(target[5...]), cache: cache, options: T5Fixture.options(source, record: record))
            let want = fullLogits.rows(5, target.count)
            expectClose(last.logits, values: want.data, "\(name) cached rows 5… (record \(record))")
            #expect(cache.length == target.count)
            if record {
                // The recorded pass shows both stacks; the decoder's bias rows are for positions 5….
                expectClose(last["encoder.hook_position_bias"]?.tensor, values: full["encoder.hook_position_bias"]?.tensor.data ?? [], "\(name) encoder bias")
                let bias = try #require(last["decoder.hook_position_bias"]), fullBias = try #require(full["decoder.hook_position_bias"])
                let (H, T) = (model.config.numHeads, target.count)
                #expect(bias.tensor.shape == [H, T - 5, T])
                #expect(bias.tensor.data == queryRows(fullBias.tensor, from: 5))
                let pattern = try #require(last["decoder.0.attn.hook_pattern"])
                #expect(pattern.axes[2].labels?.count == T)
                expectClose(last["decoder.0.cross_attn.hook_pattern"]?.tensor,
                            values: queryRows(try #require(full["decoder.0.cross_attn.hook_pattern"]).tensor, from: 5),
                            absolute: true, "\(name) cached cross pattern")
            }
        }
    }

    @Test("a patch on an encoder step or on the cross keys and values applies in every cached pass, as in the full pass")
    func patchedCache() throws {
        let model = try T5Fixture.load("t5-relu-tied")
        let ref = try T5Fixture.reference("t5-relu-tied")
        let source = try #require(ref["source_ids"] as? [Int]), target = try #require(ref["decoder_ids"] as? [Int])
        let plain = try #require(try model.forward(target, cache: nil, options: T5Fixture.options(source)).logits)
        for hook in [HookName.stack(.encoder, .z(layer: 1)), .stack(.decoder, .cross(.v(layer: 2)))] {
            var options = T5Fixture.options(source)
            options.patches = [Patch(hook, .zero, heads: [1])]
            let full = try #require(try model.forward(target, cache: nil, options: options).logits)
            #expect(referenceError(full.data, plain.data).error > 1e-3, "\(hook.name): the patch changes the logits")
            options.record = false
            let cache = model.makeCache()
            _ = try model.forward(Array(target.prefix(4)), cache: cache, options: options)
            let rest = try model.forward(Array(target[4...]), cache: cache, options: options)
            expectClose(rest.logits, values: full.rows(4, target.count).data, "\(hook.name) patched, cached")
        }
    }

    /// The rows of a `[heads, queries, keys]` tensor from query `from` on, `[heads, queries − from, keys]` flattened.
    func queryRows(_ t: Tensor, from: Int) -> [Float] {
        let (H, Q, K) = (t.shape[0], t.shape[1], t.shape[2])
        var out: [Float] = []
        for h in 0..<H {
            for i in from..<Q {
                let base = (h * Q + i) * K
                out += t.data[base..<(base + K)]
            }
        }
        return out
    }

    @Test("step names, axes and formulas: position bias, unscaled scores, cross-attention keyed by the source, the head")
    func stepNames() throws {
        for name in T5Fixture.names {
            let model = try T5Fixture.load(name)
            let ref = try T5Fixture.reference(name)
            let source = try #require(ref["source_ids"] as? [Int]), target = try #require(ref["decoder_ids"] as? [Int])
            let trace = try model.forward(target, cache: nil, options: T5Fixture.options(source))
            let sourceLabels = source.map { model.tokenizer.label(for: $0) }, targetLabels = target.map { model.tokenizer.label(for: $0) }
            #expect(trace.sourceIDs == source && trace.sourceLabels == sourceLabels)
            let enc = try #require(trace["encoder.0.attn.hook_pattern"])
            #expect(enc.axes.map(\.name) == ["head", "query_pos", "key_pos"] && enc.axes[2].labels == sourceLabels && enc.stack == .encoder)
            let cross = try #require(trace["decoder.0.cross_attn.hook_pattern"])
            #expect(cross.axes[1].labels == targetLabels && cross.axes[2].labels == sourceLabels)
            #expect(cross.title.hasPrefix("Cross-attention"))
            let bias = try #require(trace["encoder.hook_position_bias"])
            #expect(bias.tensor.shape == [model.config.numHeads, source.count, source.count] && bias.axes[0].name == "head")
            #expect(bias.formula.contains("bucket(k − q)"))
            #expect(trace["decoder.hook_position_bias"]?.formula.contains("keys at or before the query only") == true)
            let scores = try #require(trace["encoder.1.attn.hook_attn_scores_unmasked"])
            #expect(scores.formula.contains("q · kᵀ + position_bias") && scores.formula.contains("no 1/√d_head"))
            #expect(scores.inputs.contains("encoder.hook_position_bias"))
            #expect(!scores.explanation.contains("scaled down"))
            let crossScores = try #require(trace["decoder.0.cross_attn.hook_attn_scores_unmasked"])
            #expect(!crossScores.formula.contains("position_bias +") && crossScores.formula.contains("no position bias"))
            #expect(trace["decoder.0.cross_attn.hook_k"]?.inputs == ["encoder_final_ln.hook_out"])
            #expect(trace["decoder.0.cross_attn.hook_k"]?.axes[0].labels == sourceLabels)
            #expect(trace["decoder.0.attn.hook_attn_scores"]?.tensor.data.contains(-.infinity) == true, "the decoder is causal")
            #expect(trace["encoder.0.attn.hook_attn_scores"]?.tensor.data.contains(-.infinity) == false)
            for step in ["decoder.0.hook_resid_mid_cross", "decoder.0.ln3.hook_scale", "encoder_final_ln.hook_out",
                         "decoder_final_ln.hook_out", "encoder.0.mlp.hook_post", "decoder.0.hook_cross_attn_out"] {
                #expect(trace[step] != nil, "\(name): \(step)")
            }
            #expect(trace["encoder.0.ln3.hook_out"] == nil, "the encoder has no third norm")
            let gated = model.config.isGatedAct
            #expect((trace["encoder.0.mlp.hook_pre_linear"] != nil) == gated)
            let logits = try #require(trace["logits"])
            if model.tiedHead {
                #expect(logits.formula.contains("d_model^−½") && logits.formula.contains("W_Eᵀ"))
            } else {
                #expect(logits.formula.contains("lm_head") && !logits.formula.contains("d_model"))
            }
            #expect(HookName("encoder.hook_position_bias") == .stack(.encoder, .positionBias))
            #expect(HookName.stack(.decoder, .positionBias).name == "decoder.hook_position_bias")
            // Every step of the trace parses back to a hook name.
            for s in trace.steps { #expect(HookName(s.name) != nil, "\(s.name) does not parse") }
        }
        let tied = try T5Fixture.load("t5-relu-tied"), untied = try T5Fixture.load("flan-gated-untied")
        #expect(tied.tiedHead && tied.config.scaleDecoderOutputs && tied.config.activation == .relu && !tied.config.isGatedAct)
        #expect(!untied.tiedHead && !untied.config.scaleDecoderOutputs && untied.config.activation == .geluTanh && untied.config.isGatedAct)
        #expect(tied.info.family == "t5" && tied.info.encoderLayers == 2 && tied.info.layers == 3 && tied.info.isEncoderDecoder)
        #expect(tied.info.dHead == 12 && tied.info.dHead * tied.info.heads != tied.info.dModel && tied.info.contextLength == nil)
    }

    @Test("without a source, or with a bad one, the pass stops with one clear line")
    func sourceErrors() throws {
        let model = try T5Fixture.load("t5-relu-tied")
        let none = try #require(expectStepwiseError { _ = try model.forward([0], cache: nil, options: ForwardOptions()) })
        #expect(none.kind == .usage && none.message == "T5 is an encoder-decoder model: give it a source sentence first ('source TEXT')")
        let empty = try #require(expectStepwiseError { _ = try model.forward([0], cache: nil, options: T5Fixture.options([])) })
        #expect(empty.message.contains("the source has no tokens"))
        let bad = try #require(expectStepwiseError { _ = try model.forward([0], cache: nil, options: T5Fixture.options([5, 107, 1])) })
        #expect(bad.message.contains("source token id 107 is outside the vocabulary (0..<107)"))
        let badTarget = try #require(expectStepwiseError { _ = try model.forward([0, -1], cache: nil, options: T5Fixture.options([5, 1])) })
        #expect(badTarget.message.contains("token id -1 is outside the vocabulary"))
    }

    @Test("relative position buckets equal transformers' for every distance in −300…300")
    func buckets() throws {
        let doc = try #require(loadJSON(TestPaths.fixtures.appendingPathComponent("t5/buckets.json")) as? [String: Any])
        let from = try #require(doc["relative_from"] as? Int)
        let cases = try #require(doc["cases"] as? [[String: Any]])
        #expect(cases.count == 8)
        for c in cases {
            let nb = try #require(c["num_buckets"] as? Int), md = try #require(c["max_distance"] as? Int)
            let bi = try #require(c["bidirectional"] as? Bool), want = try #require(c["buckets"] as? [Int])
            let got = want.indices.map { T5PositionBias.bucket(from + $0, bidirectional: bi, numBuckets: nb, maxDistance: md) }
            #expect(got == want, "\(nb) buckets up to \(md), bidirectional \(bi)")
        }
    }

    @Test("the Unigram tokenizer.json gives transformers' source and target ids, with </s> after the source",
          arguments: T5Fixture.names)
    func tokenizer(_ name: String) throws {
        let model = try T5Fixture.load(name)
        let ref = try T5Fixture.reference(name)
        #expect(model.tokenizer is Unigram)
        let text = try #require(ref["text"] as? String), target = try #require(ref["target"] as? String)
        #expect(try model.tokenizer.encodeForModel(text) == (ref["source_ids"] as? [Int]))
        let decoderIDs = try #require(ref["decoder_ids"] as? [Int])
        #expect([model.config.decoderStartTokenID] + (try model.tokenizer.encode(target)).prefix(decoderIDs.count - 1) == decoderIDs)
        #expect(model.info.details.contains { $0.0 == "decoder start" && $0.1.contains("<pad>") && $0.1.contains("</s>") })
    }

    @Test("the folder loads through ModelLoader (model_type t5), and copies transformers ties are accounted for")
    func loaderAndUnusedTensors() throws {
        let t = try T5Fixture.copy("t5-relu-tied")
        guard case .model(let m) = try ModelLoader.load(t.path), let model = m as? T5Model else {
            Issue.record("did not load as a T5 model")
            return
        }
        #expect(model.info.details.allSatisfy { $0.0 != "unread tensors" && $0.0 != "warning" })
        // Older checkpoints carry the tied copies and a cross-attention bias transformers skips.
        var e = try SafetensorsEdit(t.file("model.safetensors"))
        let sharedEntry = try #require(e.header["shared.weight"] as? [String: Any])
        let offsets = try #require(sharedEntry["data_offsets"] as? [Int])
        let bytes = e.data.subdata(in: offsets[0]..<offsets[1])
        func add(_ name: String, _ shape: [Int], _ payload: Data) {
            e.header[name] = ["dtype": "F16", "shape": shape, "data_offsets": [e.data.count, e.data.count + payload.count]]
            e.data.append(payload)
        }
        add("encoder.embed_tokens.weight", [107, 32], bytes)
        add("decoder.embed_tokens.weight", [107, 32], bytes)
        add("lm_head.weight", [107, 32], bytes)
        add("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight", [8, 3], Data(count: 8 * 3 * 2))
        try e.write(t.file("model.safetensors"))
        guard case .model(let m2) = try ModelLoader.load(t.path), let copies = m2 as? T5Model else {
            Issue.record("did not load with the copies")
            return
        }
        #expect(copies.tiedHead, "an lm_head.weight equal to shared.weight keeps the head tied")
        let unread = copies.info.details.first { $0.0 == "unread tensors" }?.1 ?? ""
        #expect(unread.contains("encoder.embed_tokens.weight") && unread.contains("decoder.embed_tokens.weight"))
        let warning = copies.info.details.first { $0.0 == "warning" }?.1 ?? ""
        #expect(warning.contains("EncDecAttention.relative_attention_bias"))
        let ref = try T5Fixture.reference("t5-relu-tied")
        let source = try #require(ref["source_ids"] as? [Int]), target = try #require(ref["decoder_ids"] as? [Int])
        expectClose(try copies.forward(target, cache: nil, options: T5Fixture.options(source)).logits, ref["logits"], "logits with the copies")
        // A tensor T5 has no use for is refused, naming it.
        add("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight", [8, 3], Data(count: 8 * 3 * 2))
        try e.write(t.file("model.safetensors"))
        let err = try #require(expectStepwiseError { _ = try ModelLoader.load(t.path) })
        #expect(err.message.contains("'encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight' is not used by the t5 family"))
    }
}
