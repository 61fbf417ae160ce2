/// The name of a hook point: a named step of the forward pass that can be read and patched.
///
/// Spelled as TransformerLens spells its hook points with the batch axis dropped (``name``:
/// `blocks.3.attn.hook_pattern`), plus the finer steps Stepwise shows (`hook_attn_scores_unmasked`,
/// `attn.hook_result`, `ln1.hook_scale`, `hook_rot_q`, `rope.hook_cos`, ...). Every string name of a
/// step is built here; models, the step query, the detectors, the lens and completion all go through it.
public enum HookName: Hashable, Sendable {
    // MARK: Embeddings
    case embed, posEmbed, tokenTypeEmbed
    /// BERT's sum of the three embeddings, before its embedding layer norm.
    case embedSum
    /// RoPE's cos and sin tables `[pos, d_head]` (Llama).
    case ropeCos, ropeSin
    /// T5's relative position bias `[head, query_pos, key_pos]`: computed once per stack from the first
    /// block's `relative_attention_bias` and added to every block's self-attention scores
    /// (`encoder.hook_position_bias`, `decoder.hook_position_bias`).
    case positionBias

    // MARK: Residual stream and block outputs
    case residPre(layer: Int), residMid(layer: Int), residPost(layer: Int)
    case attnOut(layer: Int), mlpOut(layer: Int)

    // MARK: Attention
    case q(layer: Int), k(layer: Int), v(layer: Int)
    case rotQ(layer: Int), rotK(layer: Int)
    case attnScoresUnmasked(layer: Int), attnScores(layer: Int), pattern(layer: Int)
    case z(layer: Int), result(layer: Int)

    // MARK: MLP
    case mlpPre(layer: Int), mlpPreLinear(layer: Int), mlpPost(layer: Int)

    // MARK: Norms
    /// A norm's scale `[pos, 1]` (standard deviation or RMS), its normalized input, its output.
    case normScale(NormSite), normNormalized(NormSite), normOut(NormSite)

    // MARK: Outputs
    case logits
    /// BERT's pooler output and mean-pooled sentence embedding.
    case poolerOut, sentenceEmbedding

    // MARK: Encoder-decoder models
    /// A step of one stack of an encoder-decoder model: `encoder.3.attn.hook_pattern`,
    /// `decoder.0.hook_resid_post`, `encoder.hook_embed`, `decoder_final_ln.hook_out` (TransformerLens's
    /// HookedEncoderDecoder names; the wrapped hook is the one a decoder-only model would have).
    indirect case stack(Stack, HookName)
    /// A decoder block's cross-attention version of an attention hook (`q`, `k`, `v`, the scores, `pattern`,
    /// `z`, `result`): `decoder.2.cross_attn.hook_pattern`, queries from the target, keys from the source.
    indirect case cross(HookName)
    /// The decoder's residual stream after cross-attention, and what cross-attention added to it.
    case residMidCross(layer: Int), crossAttnOut(layer: Int)

    /// The two stacks of an encoder-decoder model.
    public enum Stack: String, Hashable, Sendable, CaseIterable {
        case encoder, decoder
    }

    /// Which norm a norm step belongs to.
    public enum NormSite: Hashable, Sendable {
        /// Before attention (pre-LN) or after it (BERT, post-LN).
        case ln1(layer: Int)
        /// Before the MLP (pre-LN) or after it (BERT).
        case ln2(layer: Int)
        /// After the attention, before the residual add (Gemma's `post_attention_layernorm`).
        case ln1Post(layer: Int)
        /// After the MLP, before the residual add (Gemma's `post_feedforward_layernorm`).
        case ln2Post(layer: Int)
        /// Per head, on the queries and on the keys before RoPE (Gemma 3, Qwen3: `q_norm`, `k_norm`).
        case qNorm(layer: Int), kNorm(layer: Int)
        /// A decoder block's norm before the MLP, when a norm before cross-attention is `ln2`
        /// (TransformerLens's T5 decoder: `ln1` self-attention, `ln2` cross-attention, `ln3` MLP).
        case ln3(layer: Int)
        /// The final norm before the unembedding.
        case final
        /// BERT's embedding layer norm.
        case embed

        /// `blocks.3.ln1`, `ln_final`, `embed.ln`.
        public var prefix: String {
            switch self {
            case .ln1(let l): return "blocks.\(l).ln1"
            case .ln2(let l): return "blocks.\(l).ln2"
            case .ln3(let l): return "blocks.\(l).ln3"
            case .ln1Post(let l): return "blocks.\(l).ln1_post"
            case .ln2Post(let l): return "blocks.\(l).ln2_post"
            case .qNorm(let l): return "blocks.\(l).attn.q_norm"
            case .kNorm(let l): return "blocks.\(l).attn.k_norm"
            case .final: return "ln_final"
            case .embed: return "embed.ln"
            }
        }

        public var layer: Int? {
            switch self {
            case .ln1(let l), .ln2(let l), .ln3(let l), .ln1Post(let l), .ln2Post(let l), .qNorm(let l), .kNorm(let l): return l
            case .final, .embed: return nil
            }
        }
    }

    /// The block this hook belongs to, if any.
    public var layer: Int? {
        switch self {
        case .embed, .posEmbed, .tokenTypeEmbed, .embedSum, .ropeCos, .ropeSin, .positionBias, .logits, .poolerOut,
             .sentenceEmbedding:
            return nil
        case .residPre(let l), .residMid(let l), .residPost(let l), .attnOut(let l), .mlpOut(let l),
             .q(let l), .k(let l), .v(let l), .rotQ(let l), .rotK(let l),
             .attnScoresUnmasked(let l), .attnScores(let l), .pattern(let l), .z(let l), .result(let l),
             .mlpPre(let l), .mlpPreLinear(let l), .mlpPost(let l), .residMidCross(let l), .crossAttnOut(let l):
            return l
        case .normScale(let s), .normNormalized(let s), .normOut(let s):
            return s.layer
        case .stack(_, let h), .cross(let h):
            return h.layer
        }
    }

    /// The stack of an encoder-decoder model this hook belongs to; nil for decoder-only and encoder-only models.
    public var stack: Stack? {
        if case .stack(let s, _) = self { return s }
        return nil
    }

    /// The hook without its stack: `encoder.3.attn.hook_pattern` → `blocks.3.attn.hook_pattern`.
    public var unstacked: HookName {
        if case .stack(_, let h) = self { return h }
        return self
    }

    /// True for a cross-attention hook (`decoder.L.cross_attn.*`).
    public var isCross: Bool {
        switch self {
        case .cross: return true
        case .stack(_, let h): return h.isCross
        default: return false
        }
    }

    /// True for the hooks inside attention that cross-attention has its own copy of (``cross(_:)``).
    public var isAttentionInner: Bool {
        switch self {
        case .q, .k, .v, .attnScoresUnmasked, .attnScores, .pattern, .z, .result: return true
        default: return false
        }
    }

    /// The step name, e.g. `blocks.3.attn.hook_pattern`.
    public var name: String {
        switch self {
        case .embed: return "hook_embed"
        case .posEmbed: return "hook_pos_embed"
        case .tokenTypeEmbed: return "hook_token_type_embed"
        case .embedSum: return "embed.hook_sum"
        case .ropeCos: return "rope.hook_cos"
        case .ropeSin: return "rope.hook_sin"
        case .positionBias: return "hook_position_bias"
        case .logits: return "logits"
        case .poolerOut: return "pooler.hook_out"
        case .sentenceEmbedding: return "hook_sentence_embedding"
        case .normScale(let s): return s.prefix + ".hook_scale"
        case .normNormalized(let s): return s.prefix + ".hook_normalized"
        case .normOut(let s): return s.prefix + ".hook_out"
        case .stack(let stack, let h):
            if let l = h.layer { return "\(stack.rawValue).\(l)." + h.blockSuffix! }
            switch h {
            case .normScale(.final), .normNormalized(.final), .normOut(.final):
                return "\(stack.rawValue)_final_ln." + h.name.dropFirst("ln_final.".count)
            default:
                return "\(stack.rawValue)." + h.name
            }
        default: return "blocks.\(layer!)." + blockSuffix!
        }
    }

    /// The part of a block hook's name after `blocks.L.`, e.g. `attn.hook_pattern`.
    var blockSuffix: String? {
        switch self {
        case .residPre: return "hook_resid_pre"
        case .residMid: return "hook_resid_mid"
        case .residPost: return "hook_resid_post"
        case .attnOut: return "hook_attn_out"
        case .mlpOut: return "hook_mlp_out"
        case .q: return "attn.hook_q"
        case .k: return "attn.hook_k"
        case .v: return "attn.hook_v"
        case .rotQ: return "attn.hook_rot_q"
        case .rotK: return "attn.hook_rot_k"
        case .attnScoresUnmasked: return "attn.hook_attn_scores_unmasked"
        case .attnScores: return "attn.hook_attn_scores"
        case .pattern: return "attn.hook_pattern"
        case .z: return "attn.hook_z"
        case .result: return "attn.hook_result"
        case .mlpPre: return "mlp.hook_pre"
        case .mlpPreLinear: return "mlp.hook_pre_linear"
        case .mlpPost: return "mlp.hook_post"
        case .residMidCross: return "hook_resid_mid_cross"
        case .crossAttnOut: return "hook_cross_attn_out"
        case .cross(let h): return h.blockSuffix.map { "cross_" + $0 }
        case .normScale(.ln3): return "ln3.hook_scale"
        case .normNormalized(.ln3): return "ln3.hook_normalized"
        case .normOut(.ln3): return "ln3.hook_out"
        case .normScale(.ln1): return "ln1.hook_scale"
        case .normNormalized(.ln1): return "ln1.hook_normalized"
        case .normOut(.ln1): return "ln1.hook_out"
        case .normScale(.ln2): return "ln2.hook_scale"
        case .normNormalized(.ln2): return "ln2.hook_normalized"
        case .normOut(.ln2): return "ln2.hook_out"
        case .normScale(.ln1Post): return "ln1_post.hook_scale"
        case .normNormalized(.ln1Post): return "ln1_post.hook_normalized"
        case .normOut(.ln1Post): return "ln1_post.hook_out"
        case .normScale(.ln2Post): return "ln2_post.hook_scale"
        case .normNormalized(.ln2Post): return "ln2_post.hook_normalized"
        case .normOut(.ln2Post): return "ln2_post.hook_out"
        case .normScale(.qNorm): return "attn.q_norm.hook_scale"
        case .normNormalized(.qNorm): return "attn.q_norm.hook_normalized"
        case .normOut(.qNorm): return "attn.q_norm.hook_out"
        case .normScale(.kNorm): return "attn.k_norm.hook_scale"
        case .normNormalized(.kNorm): return "attn.k_norm.hook_normalized"
        case .normOut(.kNorm): return "attn.k_norm.hook_out"
        default: return nil
        }
    }

    /// Every per-block hook, for layer `l`, in the order of ``blockSuffix`` (for parsing).
    static func blockHooks(_ l: Int) -> [HookName] {
        [.residPre(layer: l), .residMid(layer: l), .residPost(layer: l), .attnOut(layer: l), .mlpOut(layer: l),
         .q(layer: l), .k(layer: l), .v(layer: l), .rotQ(layer: l), .rotK(layer: l),
         .attnScoresUnmasked(layer: l), .attnScores(layer: l), .pattern(layer: l), .z(layer: l), .result(layer: l),
         .mlpPre(layer: l), .mlpPreLinear(layer: l), .mlpPost(layer: l),
         .normScale(.ln1(layer: l)), .normNormalized(.ln1(layer: l)), .normOut(.ln1(layer: l)),
         .normScale(.ln2(layer: l)), .normNormalized(.ln2(layer: l)), .normOut(.ln2(layer: l)),
         .normScale(.ln1Post(layer: l)), .normNormalized(.ln1Post(layer: l)), .normOut(.ln1Post(layer: l)),
         .normScale(.ln2Post(layer: l)), .normNormalized(.ln2Post(layer: l)), .normOut(.ln2Post(layer: l)),
         .normScale(.qNorm(layer: l)), .normNormalized(.qNorm(layer: l)), .normOut(.qNorm(layer: l)),
         .normScale(.kNorm(layer: l)), .normNormalized(.kNorm(layer: l)), .normOut(.kNorm(layer: l)),
         .residMidCross(layer: l), .crossAttnOut(layer: l),
         .normScale(.ln3(layer: l)), .normNormalized(.ln3(layer: l)), .normOut(.ln3(layer: l)),
         .cross(.q(layer: l)), .cross(.k(layer: l)), .cross(.v(layer: l)), .cross(.attnScoresUnmasked(layer: l)),
         .cross(.attnScores(layer: l)), .cross(.pattern(layer: l)), .cross(.z(layer: l)), .cross(.result(layer: l))]
    }

    static let globalHooks: [HookName] = [
        .embed, .posEmbed, .tokenTypeEmbed, .embedSum, .ropeCos, .ropeSin, .positionBias, .logits, .poolerOut,
        .sentenceEmbedding, .normScale(.final), .normNormalized(.final), .normOut(.final),
        .normScale(.embed), .normNormalized(.embed), .normOut(.embed),
    ]

    private static let globalByName: [String: HookName] = Dictionary(uniqueKeysWithValues: globalHooks.map { ($0.name, $0) })
    private static let blockSuffixes: [String: Int] = Dictionary(
        uniqueKeysWithValues: blockHooks(0).enumerated().map { ($1.blockSuffix!, $0) })

    /// Parses a full step name (`blocks.3.attn.hook_pattern`, `ln_final.hook_out`,
    /// `decoder.1.cross_attn.hook_pattern`); nil if it names no hook point.
    public init?(_ name: String) {
        if let g = Self.globalByName[name] { self = g; return }
        for stack in Stack.allCases {
            let finalPrefix = stack.rawValue + "_final_ln."
            if name.hasPrefix(finalPrefix) {
                guard let h = HookName("ln_final." + name.dropFirst(finalPrefix.count)) else { return nil }
                self = .stack(stack, h)
                return
            }
            guard name.hasPrefix(stack.rawValue + ".") else { continue }
            let rest = name.dropFirst(stack.rawValue.count + 1)
            let inner = rest.first?.isNumber == true ? HookName("blocks." + rest) : HookName(String(rest))
            guard let inner, inner.stack == nil, inner != .normScale(.final), inner != .normNormalized(.final),
                  inner != .normOut(.final) else { return nil }
            self = .stack(stack, inner)
            return
        }
        guard name.hasPrefix("blocks.") else { return nil }
        let rest = name.dropFirst("blocks.".count)
        guard let dot = rest.firstIndex(of: "."), let l = Int(rest[..<dot]), l >= 0,
              let i = Self.blockSuffixes[String(rest[rest.index(after: dot)...])] else { return nil }
        self = Self.blockHooks(l)[i]
    }

    // MARK: - Short forms

    /// A short form of a hook name: one hook, or one per layer.
    public enum ShortForm: Sendable {
        case global(HookName)
        case perLayer(@Sendable (Int) -> HookName)

        /// True when the form needs a layer number.
        public var needsLayer: Bool {
            if case .perLayer = self { return true }
            return false
        }
    }

    /// TransformerLens's short names (`pattern` with a layer → `.pattern(layer:)`) and a few of Stepwise's own.
    public static let shortForms: [String: ShortForm] = [
        "embed": .global(.embed), "pos_embed": .global(.posEmbed), "token_type_embed": .global(.tokenTypeEmbed),
        "resid_pre": .perLayer { .residPre(layer: $0) }, "resid_mid": .perLayer { .residMid(layer: $0) },
        "resid_post": .perLayer { .residPost(layer: $0) }, "attn_out": .perLayer { .attnOut(layer: $0) },
        "mlp_out": .perLayer { .mlpOut(layer: $0) },
        "q": .perLayer { .q(layer: $0) }, "k": .perLayer { .k(layer: $0) }, "v": .perLayer { .v(layer: $0) },
        "rot_q": .perLayer { .rotQ(layer: $0) }, "rot_k": .perLayer { .rotK(layer: $0) },
        "scores": .perLayer { .attnScores(layer: $0) }, "attn_scores": .perLayer { .attnScores(layer: $0) },
        "scores_unmasked": .perLayer { .attnScoresUnmasked(layer: $0) },
        "pattern": .perLayer { .pattern(layer: $0) }, "attn": .perLayer { .pattern(layer: $0) },
        "z": .perLayer { .z(layer: $0) }, "result": .perLayer { .result(layer: $0) },
        "pre": .perLayer { .mlpPre(layer: $0) }, "mlp_pre": .perLayer { .mlpPre(layer: $0) },
        "pre_linear": .perLayer { .mlpPreLinear(layer: $0) },
        "post": .perLayer { .mlpPost(layer: $0) }, "mlp_post": .perLayer { .mlpPost(layer: $0) },
        "ln1": .perLayer { .normOut(.ln1(layer: $0)) }, "ln2": .perLayer { .normOut(.ln2(layer: $0)) },
        "ln3": .perLayer { .normOut(.ln3(layer: $0)) }, "ln3.scale": .perLayer { .normScale(.ln3(layer: $0)) },
        "ln3.normalized": .perLayer { .normNormalized(.ln3(layer: $0)) },
        "resid_mid_cross": .perLayer { .residMidCross(layer: $0) }, "cross_attn_out": .perLayer { .crossAttnOut(layer: $0) },
        "q_norm": .perLayer { .normOut(.qNorm(layer: $0)) }, "k_norm": .perLayer { .normOut(.kNorm(layer: $0)) },
        "q_norm.scale": .perLayer { .normScale(.qNorm(layer: $0)) }, "k_norm.scale": .perLayer { .normScale(.kNorm(layer: $0)) },
        "q_norm.normalized": .perLayer { .normNormalized(.qNorm(layer: $0)) },
        "k_norm.normalized": .perLayer { .normNormalized(.kNorm(layer: $0)) },
        "ln1.scale": .perLayer { .normScale(.ln1(layer: $0)) }, "ln2.scale": .perLayer { .normScale(.ln2(layer: $0)) },
        "ln1.normalized": .perLayer { .normNormalized(.ln1(layer: $0)) },
        "ln2.normalized": .perLayer { .normNormalized(.ln2(layer: $0)) },
        "scale": .perLayer { .normScale(.ln1(layer: $0)) }, "normalized": .perLayer { .normNormalized(.ln1(layer: $0)) },
        "ln_final": .global(.normOut(.final)), "logits": .global(.logits), "position_bias": .global(.positionBias),
    ]
}

extension HookName: CustomStringConvertible {
    public var description: String { name }
}
