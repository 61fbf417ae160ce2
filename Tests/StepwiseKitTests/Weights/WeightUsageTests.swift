import Foundation
import Testing
@testable import StepwiseKit

/// Copies a fixture folder into a temp folder and adds float32 tensors to its model.safetensors.
private func folder(_ source: URL, adding extra: [String: [Float]] = [:], config: [String: Any] = [:]) throws -> TempFolder {
    let t = try TempFolder()
    for f in try FileManager.default.contentsOfDirectory(atPath: source.path)
    where ["config.json", "model.safetensors", "tokenizer.json", "vocab.json", "merges.txt", "vocab.txt"].contains(f) {
        try FileManager.default.copyItem(at: source.appendingPathComponent(f), to: t.file(f))
    }
    if !extra.isEmpty {
        var e = try SafetensorsEdit(t.file("model.safetensors"))
        for (name, values) in extra.sorted(by: { $0.key < $1.key }) {
            let start = e.data.count
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { e.data.append(contentsOf: $0) } }
            e.header[name] = ["dtype": "F32", "shape": [values.count], "data_offsets": [start, e.data.count]]
        }
        try e.write(t.file("model.safetensors"))
    }
    if !config.isEmpty {
        var c = try JSONSerialization.jsonObject(with: t.read("config.json")) as! [String: Any]
        for (k, v) in config { c[k] = v }
        try JSONSerialization.data(withJSONObject: c, options: [.sortedKeys]).write(to: t.file("config.json"))
    }
    return t
}

private func loadModel(_ t: TempFolder) throws -> any LanguageModel {
    guard case .model(let m) = try ModelLoader.load(t.path) else { throw StepwiseError(.model, "no model in \(t.path)") }
    return m
}

@Suite("no silent drops: every tensor of a weights file is read or known to be unused")
struct WeightUsageTests {
    static let qwen2 = LlamaVariantFixture.root.appendingPathComponent("qwen2-gqa")

    @Test("a weights file with an extra tensor is refused, naming it", arguments: [
        "model.layers.0.self_attn.o_proj.bias", "model.layers.1.mlp.extra_gate.weight", "lm_head.bias",
    ])
    func extraTensorLlama(name: String) throws {
        let t = try folder(Self.qwen2, adding: [name: [1, 2, 3]])
        let e = expectStepwiseError { _ = try loadModel(t) }
        #expect(e?.message.contains("'\(name)'") == true, "\(e?.message ?? "")")
        #expect(e?.message.contains("model.safetensors") == true && e?.kind == .unsupported)
    }

    @Test("a Qwen2 folder whose config says llama is refused, naming the q/k/v biases it would drop")
    func qwen2AsLlama() throws {
        let t = try folder(Self.qwen2, config: ["model_type": "llama"])
        let e = expectStepwiseError { _ = try loadModel(t) }
        #expect(e?.message.contains("model.layers.0.self_attn.q_proj.bias") == true, "\(e?.message ?? "")")
        #expect(e?.message.contains("and ") == true)  // 6 biases in all, more than are named
    }

    @Test("GPT-2, BERT and GGUF files with an extra tensor are refused too")
    func extraTensorOtherFamilies() throws {
        let gpt2 = try HostileFixtures.gpt2Folder()
        var e = try SafetensorsEdit(gpt2.file("model.safetensors"))
        let start = e.data.count
        e.data.append(contentsOf: [0, 0, 128, 63])
        e.header["transformer.h.0.mlp.c_gate.weight"] = ["dtype": "F32", "shape": [1], "data_offsets": [start, start + 4]]
        try e.write(gpt2.file("model.safetensors"))
        let err = expectStepwiseError { _ = try loadModel(gpt2) }
        #expect(err?.message.contains("'transformer.h.0.mlp.c_gate.weight'") == true, "\(err?.message ?? "")")
        #expect(err?.message.contains("gpt2 family") == true)

        if let minilm = TestPaths.model("minilm") {
            let t = try folder(minilm, adding: ["encoder.layer.0.attention.self.rel_pos.weight": [1]])
            let e2 = expectStepwiseError { _ = try BERTModel.load(folder: t.path) }
            #expect(e2?.message.contains("'encoder.layer.0.attention.self.rel_pos.weight'") == true, "\(e2?.message ?? "")")
        }
    }

    @Test("a Gemma folder with an extra tensor (Gemma 3n's v_norm, a bias) is refused, naming it", arguments: [
        "model.layers.0.self_attn.v_norm.weight", "model.layers.2.mlp.down_proj.bias",
    ])
    func extraTensorGemma(name: String) throws {
        let t = try folder(TestPaths.fixtures.appendingPathComponent("gemma/gemma3-odd"), adding: [name: [1, 2, 3]])
        let e = expectStepwiseError { _ = try loadModel(t) }
        #expect(e?.message.contains("'\(name)'") == true && e?.message.contains("gemma3") == true, "\(e?.message ?? "")")
        // The unchanged fixture loads and has nothing left over.
        let ok = try loadModel(try folder(TestPaths.fixtures.appendingPathComponent("gemma/gemma3-odd")))
        #expect(!ok.info.details.contains { $0.0 == "warning" })
    }

    @Test("a GGUF file with an extra tensor is refused, naming it")
    func extraTensorGGUF() throws {
        // The Qwen2 GGUF fixture seen through a source with one more tensor.
        let file = try GGUFFile(path: LlamaVariantFixture.root.appendingPathComponent("qwen2-gqa.gguf").path)
        let extra = ExtraTensorSource(base: file, extra: "blk.0.attn_output.bias", values: [Float](repeating: 0.5, count: 24))
        let model = try GGUFModels.load(path: file.path)
        let e = #expect(throws: StepwiseError.self) {
            try LlamaModel(config: model.config, weights: extra, layout: .gguf, tokenizer: model.tokenizer)
        }
        #expect(e?.message.contains("'blk.0.attn_output.bias'") == true, "\(e?.message ?? "")")
    }

    @Test("known unused tensors load and info lists them: RoPE buffers, a tied head's copy, BERT position ids")
    func knownUnused() throws {
        let t = try folder(Self.qwen2, adding: ["model.layers.0.self_attn.rotary_emb.inv_freq": [1, 0.1, 0.01],
                                                "model.layers.1.self_attn.rotary_emb.inv_freq": [1, 0.1, 0.01],
                                                "lm_head.weight": [1, 2]])
        let m = try loadModel(t)
        let row = try #require(m.info.details.first { $0.0 == "unread tensors" })
        #expect(row.1.contains("model.layers.0.self_attn.rotary_emb.inv_freq, model.layers.1.self_attn.rotary_emb.inv_freq (RoPE's inverse frequencies"), "\(row.1)")
        #expect(row.1.contains("lm_head.weight (the config ties the LM head to the token embedding"), "\(row.1)")
        #expect(!m.info.details.contains { $0.0 == "warning" })
        // GPT-2's mask buffers, as older checkpoints saved them.
        let gpt2 = try HostileFixtures.gpt2Folder()
        var e = try SafetensorsEdit(gpt2.file("model.safetensors"))
        for name in ["transformer.h.0.attn.bias", "transformer.h.1.attn.masked_bias"] {
            let start = e.data.count
            e.data.append(contentsOf: [0, 0, 128, 63])
            e.header[name] = ["dtype": "F32", "shape": [1], "data_offsets": [start, start + 4]]
        }
        try e.write(gpt2.file("model.safetensors"))
        let g = try loadModel(gpt2)
        let gr = try #require(g.info.details.first { $0.0 == "unread tensors" })
        #expect(gr.1.contains("transformer.h.0.attn.bias (the causal-mask buffer") && gr.1.contains("transformer.h.1.attn.masked_bias"), "\(gr.1)")
        // Everything read: no row at all.
        let plain = try LlamaVariantFixture("qwen2-gqa").load()
        #expect(!plain.info.details.contains { $0.0 == "unread tensors" || $0.0 == "warning" })

        if let minilm = TestPaths.model("minilm") {
            let bert = try BERTModel.load(folder: minilm.path)
            let r = try #require(bert.info.details.first { $0.0 == "unread tensors" })
            #expect(r.1.contains("embeddings.position_ids (the position ids"), "\(r.1)")
        }
    }

    @Test("a BERT pre-training head is accepted with a warning naming each tensor")
    func bertHeadWarning() throws {
        guard let minilm = TestPaths.model("minilm") else {
            print("skipped: MiniLM is not under \(TestPaths.models.path)")
            return
        }
        let t = try folder(minilm, adding: ["cls.predictions.bias": [0, 1], "cls.seq_relationship.bias": [0, 1]])
        let bert = try BERTModel.load(folder: t.path)
        let w = try #require(bert.info.details.first { $0.0 == "warning" })
        #expect(w.1.hasPrefix("2 tensors of the file are not used: cls.predictions.bias, cls.seq_relationship.bias (a pre-training head"), "\(w.1)")
    }

    @Test("rule patterns: * matches any run of characters, dots included; nothing else is loose")
    func patterns() {
        let r = UnusedTensorRule("model.layers.*.self_attn.rotary_emb.inv_freq", "x")
        #expect(r.matches("model.layers.0.self_attn.rotary_emb.inv_freq"))
        #expect(r.matches("model.layers.12.self_attn.rotary_emb.inv_freq"))
        #expect(!r.matches("model.layers.0.self_attn.rotary_emb.inv_freq2"))
        #expect(!r.matches("model.layers..self_attn.rotary_emb.inv_freqX"))
        #expect(UnusedTensorRule("cls.*", "x").matches("cls.predictions.transform.dense.weight"))
        #expect(!UnusedTensorRule("cls.*", "x").matches("bert.cls.x"))
        #expect(UnusedTensorRule("a*b*c", "x").matches("aXbYbZc") && !UnusedTensorRule("a*b*c", "x").matches("aXcYb"))
        #expect(UnusedTensorRule("h.*.attn.bias", "x").matches("h.3.attn.bias"))
        #expect(!UnusedTensorRule("h.*.attn.bias", "x").matches("h.3.attn.c_attn.bias"))
    }

    @Test("WeightUsage counts what was read and reports the rest by rule")
    func account() throws {
        let st = try SafetensorsFile(path: Self.qwen2.appendingPathComponent("model.safetensors").path)
        let w = WeightUsage(st)
        let names = st.tensorNames
        for n in names.dropFirst(2) { _ = try w.tensor(n) }
        let a = try w.finish(family: "test", knownUnused: [UnusedTensorRule(names[0], "first"),
                                                            UnusedTensorRule(names[1], "second", kind: .ignored)])
        #expect(a.read == names.count - 2 && a.total == names.count)
        #expect(a.redundant.map(\.name) == [names[0]] && a.ignored.map(\.name) == [names[1]])
        #expect(a.details.map(\.0) == ["unread tensors", "warning"])
        let e = #expect(throws: StepwiseError.self) { try WeightUsage(st).finish(family: "test", knownUnused: []) }
        #expect(e?.message.contains("and \(names.count - 5) more") == true, "\(e?.message ?? "")")
    }
}

/// A weight source with one float32 tensor more than its base.
struct ExtraTensorSource: WeightSource {
    let base: any WeightSource
    let extra: String
    let values: [Float]

    var path: String { base.path }
    var tensorNames: [String] { base.tensorNames + [extra] }
    func tensorInfo(_ name: String) -> WeightInfo? {
        name == extra ? WeightInfo(shape: [values.count], dtype: "F32", byteCount: 4 * values.count) : base.tensorInfo(name)
    }
    func tensor(_ name: String) throws -> Tensor {
        name == extra ? Tensor(shape: [values.count], data: values) : try base.tensor(name)
    }
}
