import Foundation
import Testing
@testable import StepwiseKit

private let config = "config.json"
private let weights = "model.safetensors"

/// A temp copy of a BART fixture folder to break.
private func copyBART(_ name: String) throws -> TempFolder {
    let t = try TempFolder()
    let folder = TestPaths.fixtures.appendingPathComponent("bart/\(name)")
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        try FileManager.default.copyItem(at: folder.appendingPathComponent(f), to: t.file(f))
    }
    return t
}

/// Broken BART and Marian folders (copies of the bart-odd and marian fixtures): each field of config.json
/// missing, mistyped or impossible is one line naming config.json, or model.safetensors where the weights
/// disagree with it.
let bartConfigMutations: [(fixture: String, FolderMutation)] = [
    ("bart-odd", FolderMutation(name: "bart config: d_model missing", names: config, says: "has no 'd_model'") { t in try editConfigField(t, "d_model", nil) }),
    ("bart-odd", FolderMutation(name: "bart config: d_model a string", names: config, says: "'d_model' is the string \"24\", expected a whole number") { t in try editConfigField(t, "d_model", "24") }),
    ("bart-odd", FolderMutation(name: "bart config: d_model not the weights'", names: weights, says: "the config implies [300, 48]") { t in try editConfigField(t, "d_model", 48) }),
    ("bart-odd", FolderMutation(name: "bart config: encoder_layers 0", names: config, says: "encoder_layers is 0; it must be positive") { t in try editConfigField(t, "encoder_layers", 0) }),
    ("bart-odd", FolderMutation(name: "bart config: encoder_layers more than the weights hold", names: weights, says: "model.encoder.layers.2.") { t in try editConfigField(t, "encoder_layers", 3) }),
    ("bart-odd", FolderMutation(name: "bart config: decoder_layers fewer than the weights hold", names: weights, says: "model.decoder.layers.2.") { t in try editConfigField(t, "decoder_layers", 2) }),
    ("bart-odd", FolderMutation(name: "bart config: decoder_layers huge", names: config, says: "decoder_layers is 100000; more than 1024 is impossible") { t in try editConfigField(t, "decoder_layers", 100_000) }),
    ("bart-odd", FolderMutation(name: "bart config: heads not dividing d_model", names: config, says: "encoder_attention_heads 5 does not divide d_model 24") { t in try editConfigField(t, "encoder_attention_heads", 5) }),
    ("bart-odd", FolderMutation(name: "bart config: decoder heads 0", names: config, says: "decoder_attention_heads is 0; it must be positive") { t in try editConfigField(t, "decoder_attention_heads", 0) }),
    ("bart-odd", FolderMutation(name: "bart config: ffn not the weights'", names: weights, says: "the config implies [41, 24]") { t in try editConfigField(t, "encoder_ffn_dim", 41) }),
    ("bart-odd", FolderMutation(name: "bart config: ffn negative", names: config, says: "decoder_ffn_dim is -1; it must be positive") { t in try editConfigField(t, "decoder_ffn_dim", -1) }),
    ("bart-odd", FolderMutation(name: "bart config: max_position_embeddings not the weights'", names: weights, says: "embed_positions.weight' has shape [42, 24], the config implies [12, 24]") { t in try editConfigField(t, "max_position_embeddings", 10) }),
    ("bart-odd", FolderMutation(name: "bart config: vocab_size not the weights'", names: weights, says: "the config implies [301, 24]") { t in try editConfigField(t, "vocab_size", 301) }),
    ("bart-odd", FolderMutation(name: "bart config: vocab_size 0", names: config, says: "vocab_size is 0; it must be positive") { t in try editConfigField(t, "vocab_size", 0) }),
    ("bart-odd", FolderMutation(name: "bart config: activation unknown", names: config, says: "activation_function 'swish2' is not supported") { t in try editConfigField(t, "activation_function", "swish2") }),
    ("bart-odd", FolderMutation(name: "bart config: scale_embedding a string", names: config, says: "'scale_embedding' is the string \"yes\", expected true or false") { t in try editConfigField(t, "scale_embedding", "yes") }),
    ("bart-odd", FolderMutation(name: "bart config: tie_word_embeddings a number", names: config, says: "'tie_word_embeddings' is 1, expected true or false") { t in try editConfigField(t, "tie_word_embeddings", 1) }),
    ("bart-odd", FolderMutation(name: "bart config: pre-norm (mBART)", names: config, says: "'normalize_before' is true") { t in try editConfigField(t, "normalize_before", true) }),
    ("bart-odd", FolderMutation(name: "bart config: decoder_start_token_id beyond the vocabulary", names: config, says: "decoder_start_token_id 5000 is outside the vocabulary (0..<300)") { t in try editConfigField(t, "decoder_start_token_id", 5000) }),
    ("bart-odd", FolderMutation(name: "bart config: decoder_start_token_id a string", names: config, says: "'decoder_start_token_id' is the string \"</s>\", expected a whole number") { t in try editConfigField(t, "decoder_start_token_id", "</s>") }),
    ("bart-odd", FolderMutation(name: "bart config: eos_token_id negative", names: config, says: "eos_token_id -1 is outside the vocabulary") { t in try editConfigField(t, "eos_token_id", -1) }),
    ("bart-odd", FolderMutation(name: "bart config: model_type bart over GPT-2-style keys", names: config, says: "has no 'd_model'") { t in
        try JSONSerialization.data(withJSONObject: ["model_type": "bart", "n_embd": 24, "vocab_size": 300]).write(to: t.file(config))
    }),
    ("marian", FolderMutation(name: "marian config: separate target vocabulary", names: config, says: "decoder_vocab_size 10 differs from vocab_size 300") { t in try editConfigField(t, "decoder_vocab_size", 10) }),
    ("marian", FolderMutation(name: "marian config: unshared embeddings", names: config, says: "share_encoder_decoder_embeddings is false") { t in try editConfigField(t, "share_encoder_decoder_embeddings", false) }),
    ("marian", FolderMutation(name: "marian folder: no tokenizer.json", names: "", says: "tokenizer") { t in try FileManager.default.removeItem(at: t.file("tokenizer.json")) }),
]

@Suite("Hostile BART and Marian folders")
struct HostileBARTConfigTests {
    @Test("the base folders load, so each case fails for its one mutation", arguments: ["bart-odd", "marian"])
    func baseLoads(_ name: String) throws {
        let t = try copyBART(name)
        guard case .model(let m) = try ModelLoader.load(t.path) else { Issue.record("expected a model"); return }
        #expect(m.info.isEncoderDecoder)
    }

    @Test("a broken BART or Marian folder is one StepwiseError naming the file and what is wrong",
          arguments: bartConfigMutations.indices)
    func brokenFolder(_ i: Int) throws {
        let (fixture, c) = bartConfigMutations[i]
        let t = try copyBART(fixture)
        try expectBrokenFolder(c, t)
    }
}
