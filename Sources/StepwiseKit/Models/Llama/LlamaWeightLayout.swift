/// How a Llama checkpoint names its tensors and orders the rows of its query/key projections.
///
/// - `huggingFace`: `model.layers.0.self_attn.q_proj.weight`; within each head, RoPE pairs dimension `i`
///   with `i + d/2` (transformers' `rotate_half`).
/// - `gguf`: `blk.0.attn_q.weight`; for the `llama` architecture llama.cpp's converter permuted the q/k
///   rows (and biases) of each head so the same pairs sit next to each other: GGUF row `2i` is HF row `i`,
///   row `2i+1` is HF row `i + d/2`, and RoPE rotates adjacent pairs `(x[2i], x[2i+1])`. Both give the
///   same logits. Qwen2/Qwen3 GGUF files keep the Hugging Face order (``ropePairing(for:)``).
public enum LlamaWeightLayout: String, Sendable, CaseIterable {
    case huggingFace
    case gguf

    /// The parts of one decoder block, by role. The biases and the q/k norms exist only in the variants
    /// whose config flags ask for them (``LlamaConfig/queryKeyValueBias``, ``LlamaConfig/queryKeyNorm``, ...).
    public enum BlockWeight: String, Sendable, CaseIterable {
        case attentionNorm, query, key, value, output, mlpNorm, gate, up, down
        case queryBias, keyBias, valueBias, outputBias, gateBias, upBias, downBias
        case queryNorm, keyNorm
    }

    /// The token embedding matrix `[vocab, d_model]`.
    public var embeddingName: String {
        self == .gguf ? "token_embd.weight" : "model.embed_tokens.weight"
    }

    /// The final RMSNorm weight `[d_model]`.
    public var finalNormName: String {
        self == .gguf ? "output_norm.weight" : "model.norm.weight"
    }

    /// The LM head `[vocab, d_model]`; absent in tied checkpoints.
    public var lmHeadName: String {
        self == .gguf ? "output.weight" : "lm_head.weight"
    }

    /// The name of one weight of block `layer`.
    public func name(_ part: BlockWeight, layer: Int) -> String {
        switch self {
        case .gguf:
            let p = "blk.\(layer)."
            switch part {
            case .attentionNorm: return p + "attn_norm.weight"
            case .query: return p + "attn_q.weight"
            case .key: return p + "attn_k.weight"
            case .value: return p + "attn_v.weight"
            case .output: return p + "attn_output.weight"
            case .mlpNorm: return p + "ffn_norm.weight"
            case .gate: return p + "ffn_gate.weight"
            case .up: return p + "ffn_up.weight"
            case .down: return p + "ffn_down.weight"
            case .queryBias: return p + "attn_q.bias"
            case .keyBias: return p + "attn_k.bias"
            case .valueBias: return p + "attn_v.bias"
            case .outputBias: return p + "attn_output.bias"
            case .gateBias: return p + "ffn_gate.bias"
            case .upBias: return p + "ffn_up.bias"
            case .downBias: return p + "ffn_down.bias"
            case .queryNorm: return p + "attn_q_norm.weight"
            case .keyNorm: return p + "attn_k_norm.weight"
            }
        case .huggingFace:
            let p = "model.layers.\(layer)."
            switch part {
            case .attentionNorm: return p + "input_layernorm.weight"
            case .query: return p + "self_attn.q_proj.weight"
            case .key: return p + "self_attn.k_proj.weight"
            case .value: return p + "self_attn.v_proj.weight"
            case .output: return p + "self_attn.o_proj.weight"
            case .mlpNorm: return p + "post_attention_layernorm.weight"
            case .gate: return p + "mlp.gate_proj.weight"
            case .up: return p + "mlp.up_proj.weight"
            case .down: return p + "mlp.down_proj.weight"
            case .queryBias: return p + "self_attn.q_proj.bias"
            case .keyBias: return p + "self_attn.k_proj.bias"
            case .valueBias: return p + "self_attn.v_proj.bias"
            case .outputBias: return p + "self_attn.o_proj.bias"
            case .gateBias: return p + "mlp.gate_proj.bias"
            case .upBias: return p + "mlp.up_proj.bias"
            case .downBias: return p + "mlp.down_proj.bias"
            case .queryNorm: return p + "self_attn.q_norm.weight"
            case .keyNorm: return p + "self_attn.k_norm.weight"
            }
        }
    }

    /// How RoPE pairs the dimensions of a head in this layout, for a Llama or Mistral checkpoint.
    public var ropePairing: RoPE.Pairing {
        self == .gguf ? .adjacent : .halves
    }

    /// How RoPE pairs the dimensions of a head in this layout for `variant`. llama.cpp's converter
    /// permutes q/k rows only for its `llama` architecture (which Mistral checkpoints convert to); its
    /// `qwen2` and `qwen3` files keep the Hugging Face row order and rotate halves (`LLAMA_ROPE_TYPE_NEOX`).
    public func ropePairing(for variant: LlamaConfig.Variant) -> RoPE.Pairing {
        switch variant {
        case .llama, .mistral: return ropePairing
        case .qwen2, .qwen3: return .halves
        }
    }

    /// For each dimension of a head in GGUF order, the Hugging Face dimension it holds:
    /// `[0, d/2, 1, d/2+1, ...]`. llama.cpp's converter applies it to the rows of every q/k head
    /// (`reshape(heads, 2, d/2, in).swapaxes(1, 2)`).
    public static func ggufDimensionOrder(headDim d: Int) -> [Int] {
        precondition(d % 2 == 0, "ggufDimensionOrder: head dimension \(d) is odd")
        return (0..<d).map { $0 % 2 == 0 ? $0 / 2 : $0 / 2 + d / 2 }
    }

    /// Reorders the rows of a Hugging Face q or k projection `[heads·d, in]` into GGUF order, head by head,
    /// as llama.cpp's converter does.
    public static func permuteForGGUF(_ weight: Tensor, heads: Int) -> Tensor {
        precondition(weight.rank == 2 && weight.shape[0] % heads == 0, "permuteForGGUF: \(weight.shape) for \(heads) heads")
        let d = weight.shape[0] / heads
        let order = ggufDimensionOrder(headDim: d)
        let rows = (0..<heads).flatMap { h in order.map { h * d + $0 } }
        return weight.sliced([.indices(rows)])
    }
}
