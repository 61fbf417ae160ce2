import Foundation
import Testing
@testable import StepwiseKit

private let config = "config.json"
private let weights = "model.safetensors"

/// Broken T5 folders (copies of the t5-relu-tied fixture): each field of config.json missing, mistyped or
/// impossible is one line naming config.json.
let t5ConfigMutations: [FolderMutation] = [
    FolderMutation(name: "t5 config: d_model missing", names: config, says: "has no 'd_model' (is this a T5 config?)") { t in try editConfigField(t, "d_model", nil) },
    FolderMutation(name: "t5 config: d_model a string", names: config, says: "'d_model' is the string \"32\", expected a whole number") { t in try editConfigField(t, "d_model", "32") },
    FolderMutation(name: "t5 config: d_model not the weights'", names: weights, says: "tensor 'shared.weight' has shape [107, 32], the config implies [107, 48]") { t in try editConfigField(t, "d_model", 48) },
    FolderMutation(name: "t5 config: d_kv missing", names: config, says: "has no 'd_kv'") { t in try editConfigField(t, "d_kv", nil) },
    FolderMutation(name: "t5 config: d_kv 0", names: config, says: "d_kv is 0; it must be positive") { t in try editConfigField(t, "d_kv", 0) },
    FolderMutation(name: "t5 config: d_kv not the weights' (heads × d_kv ≠ d_model is fine, but must fit)", names: weights, says: "the config implies [32, 24]") { t in try editConfigField(t, "d_kv", 8) },
    FolderMutation(name: "t5 config: d_kv × num_heads overflowing", names: config, says: "d_kv 65536 × num_heads 1024 is 67108864") { t in
        try editConfigField(t, "d_kv", 65536); try editConfigField(t, "num_heads", 1024)
    },
    FolderMutation(name: "t5 config: d_ff negative", names: config, says: "d_ff is -1; it must be positive") { t in try editConfigField(t, "d_ff", -1) },
    FolderMutation(name: "t5 config: d_ff huge", names: config, says: "d_ff is 9223372036854775807; more than 1000000 is impossible") { t in try editConfigField(t, "d_ff", Int.max) },
    FolderMutation(name: "t5 config: num_layers missing", names: config, says: "has no 'num_layers'") { t in try editConfigField(t, "num_layers", nil) },
    FolderMutation(name: "t5 config: num_layers more than the weights hold", names: weights, says: "has no tensor 'encoder.block.2.layer.0.layer_norm.weight'") { t in try editConfigField(t, "num_layers", 3) },
    FolderMutation(name: "t5 config: num_decoder_layers 1.5", names: config, says: "'num_decoder_layers' is 1.5, expected a whole number") { t in try editConfigField(t, "num_decoder_layers", 1.5) },
    FolderMutation(name: "t5 config: num_decoder_layers absent means num_layers (2 of the 3 the file holds)", names: weights, says: "'decoder.block.2.layer.0.SelfAttention.k.weight'") { t in try editConfigField(t, "num_decoder_layers", nil) },
    FolderMutation(name: "t5 config: num_heads 0", names: config, says: "num_heads is 0; it must be positive") { t in try editConfigField(t, "num_heads", 0) },
    FolderMutation(name: "t5 config: relative_attention_num_buckets too few", names: config, says: "relative_attention_num_buckets is 2; T5's buckets need at least 4") { t in try editConfigField(t, "relative_attention_num_buckets", 2) },
    FolderMutation(name: "t5 config: relative_attention_num_buckets not the weights'", names: weights, says: "relative_attention_bias.weight' has shape [8, 3], the config implies [16, 3]") { t in try editConfigField(t, "relative_attention_num_buckets", 16) },
    FolderMutation(name: "t5 config: relative_attention_max_distance within the exact buckets", names: config, says: "relative_attention_max_distance is 4; it must exceed 4") { t in try editConfigField(t, "relative_attention_max_distance", 4) },
    FolderMutation(name: "t5 config: relative_attention_max_distance a string", names: config, says: "'relative_attention_max_distance' is the string \"12\", expected a whole number") { t in try editConfigField(t, "relative_attention_max_distance", "12") },
    FolderMutation(name: "t5 config: layer_norm_epsilon 0", names: config, says: "layer_norm_epsilon is 0.0; it must be a positive number") { t in try editConfigField(t, "layer_norm_epsilon", 0) },
    FolderMutation(name: "t5 config: layer_norm_epsilon a string", names: config, says: "'layer_norm_epsilon' is the string \"1e-6\", expected a number") { t in try editConfigField(t, "layer_norm_epsilon", "1e-6") },
    FolderMutation(name: "t5 config: feed_forward_proj with three parts", names: config, says: "'feed_forward_proj' is \"gated-gelu-new\"; it must be \"{activation}\" or \"gated-{activation}\"") { t in try editConfigField(t, "feed_forward_proj", "gated-gelu-new") },
    FolderMutation(name: "t5 config: feed_forward_proj an unknown activation", names: config, says: "the MLP activation 'swish2' (from feed_forward_proj \"swish2\") is not supported") { t in try editConfigField(t, "feed_forward_proj", "swish2") },
    FolderMutation(name: "t5 config: feed_forward_proj a number", names: config, says: "'feed_forward_proj' is 3, expected a string") { t in try editConfigField(t, "feed_forward_proj", 3) },
    FolderMutation(name: "t5 config: gated-gelu over ReLU weights", names: weights, says: "has no tensor 'encoder.block.0.layer.1.DenseReluDense.wi_0.weight'") { t in try editConfigField(t, "feed_forward_proj", "gated-gelu") },
    FolderMutation(name: "t5 config: tie_word_embeddings a string", names: config, says: "'tie_word_embeddings' is the string \"yes\", expected true or false") { t in try editConfigField(t, "tie_word_embeddings", "yes") },
    FolderMutation(name: "t5 config: tie_word_embeddings false without an lm_head", names: weights, says: "has no tensor 'lm_head.weight', and config.json's tie_word_embeddings is false") { t in try editConfigField(t, "tie_word_embeddings", false) },
    FolderMutation(name: "t5 config: vocab_size missing", names: config, says: "has no 'vocab_size'") { t in try editConfigField(t, "vocab_size", nil) },
    FolderMutation(name: "t5 config: vocab_size 0", names: config, says: "vocab_size is 0; it must be positive") { t in try editConfigField(t, "vocab_size", 0) },
    FolderMutation(name: "t5 config: vocab_size not the weights'", names: weights, says: "tensor 'shared.weight' has shape [107, 32], the config implies [120, 32]") { t in try editConfigField(t, "vocab_size", 120) },
    FolderMutation(name: "t5 config: decoder_start_token_id missing", names: config, says: "has no 'decoder_start_token_id'") { t in try editConfigField(t, "decoder_start_token_id", nil) },
    FolderMutation(name: "t5 config: decoder_start_token_id beyond the vocabulary", names: config, says: "decoder_start_token_id is 5000; it must be a token id below vocab_size 107") { t in try editConfigField(t, "decoder_start_token_id", 5000) },
    FolderMutation(name: "t5 config: eos_token_id a string", names: config, says: "'eos_token_id' is the string \"</s>\", expected a token id or a list of them") { t in try editConfigField(t, "eos_token_id", "</s>") },
    FolderMutation(name: "t5 config: eos_token_id an empty list", names: config, says: "'eos_token_id' is an array of 0, expected a token id or a list of them") { t in try editConfigField(t, "eos_token_id", [Int]()) },
    FolderMutation(name: "t5 config: eos_token_id negative in a list", names: config, says: "eos_token_id is -1; it must be a token id below vocab_size 107") { t in try editConfigField(t, "eos_token_id", [1, -1]) },
    FolderMutation(name: "t5 config: pad_token_id beyond the vocabulary", names: config, says: "pad_token_id is 107; it must be a token id below vocab_size 107") { t in try editConfigField(t, "pad_token_id", 107) },
    FolderMutation(name: "t5 config: pad_token_id a bool", names: config, says: "'pad_token_id' is true, expected a whole number") { t in try editConfigField(t, "pad_token_id", true) },
    FolderMutation(name: "t5 config: model_type t5 over GPT-2-style keys only", names: config, says: "has no 'd_model' (is this a T5 config?)") { t in
        try JSONSerialization.data(withJSONObject: ["model_type": "t5", "n_embd": 32, "vocab_size": 107]).write(to: t.file(config))
    },
]

@Suite("Hostile T5 folders")
struct HostileT5ConfigTests {
    @Test("the T5 base folder loads, so each case fails for its one mutation")
    func baseLoads() throws {
        let t = try T5Fixture.copy("t5-relu-tied")
        guard case .model(let m) = try ModelLoader.load(t.path) else { Issue.record("expected a model"); return }
        #expect(m.info.family == "t5")
    }

    @Test("a broken T5 folder is one StepwiseError naming the file and what is wrong", arguments: t5ConfigMutations)
    func brokenFolder(_ c: FolderMutation) throws {
        let t = try T5Fixture.copy("t5-relu-tied")
        try expectBrokenFolder(c, t)
    }
}
