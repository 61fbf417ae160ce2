/// How a Gemma checkpoint names its tensors, and whether its norm weights hold `w` or `1 + w`.
///
/// - `huggingFace`: `model.layers.0.self_attn.q_proj.weight`; norms store `w` (transformers computes `1 + w`).
/// - `gguf`: `blk.0.attn_q.weight`; llama.cpp's converter stored `1 + w` in every norm weight, and left the
///   q/k rows in Hugging Face order (RoPE pairs `i` and `i + d/2` in both).
public enum GemmaWeightLayout: String, Sendable, CaseIterable {
    case huggingFace
    case gguf

    /// The parts of one decoder block, by role.
    public enum BlockWeight: String, Sendable, CaseIterable {
        case ln1, query, key, value, output, queryNorm, keyNorm, ln1Post, ln2, gate, up, down, ln2Post
    }

    public var embeddingName: String { self == .gguf ? "token_embd.weight" : "model.embed_tokens.weight" }
    public var finalNormName: String { self == .gguf ? "output_norm.weight" : "model.norm.weight" }
    public var lmHeadName: String { self == .gguf ? "output.weight" : "lm_head.weight" }
    /// Norm weights already hold `1 + w`.
    public var normsStoreOnePlus: Bool { self == .gguf }

    /// The name of one weight of block `layer`.
    public func name(_ part: BlockWeight, layer: Int) -> String {
        switch self {
        case .gguf:
            let suffix: String
            switch part {
            case .ln1: suffix = "attn_norm"
            case .query: suffix = "attn_q"
            case .key: suffix = "attn_k"
            case .value: suffix = "attn_v"
            case .output: suffix = "attn_output"
            case .queryNorm: suffix = "attn_q_norm"
            case .keyNorm: suffix = "attn_k_norm"
            case .ln1Post: suffix = "post_attention_norm"
            case .ln2: suffix = "ffn_norm"
            case .gate: suffix = "ffn_gate"
            case .up: suffix = "ffn_up"
            case .down: suffix = "ffn_down"
            case .ln2Post: suffix = "post_ffw_norm"
            }
            return "blk.\(layer).\(suffix).weight"
        case .huggingFace:
            let suffix: String
            switch part {
            case .ln1: suffix = "input_layernorm"
            case .query: suffix = "self_attn.q_proj"
            case .key: suffix = "self_attn.k_proj"
            case .value: suffix = "self_attn.v_proj"
            case .output: suffix = "self_attn.o_proj"
            case .queryNorm: suffix = "self_attn.q_norm"
            case .keyNorm: suffix = "self_attn.k_norm"
            case .ln1Post: suffix = "post_attention_layernorm"
            case .ln2: suffix = "pre_feedforward_layernorm"
            case .gate: suffix = "mlp.gate_proj"
            case .up: suffix = "mlp.up_proj"
            case .down: suffix = "mlp.down_proj"
            case .ln2Post: suffix = "post_feedforward_layernorm"
            }
            return "model.layers.\(layer).\(suffix).weight"
        }
    }
}
