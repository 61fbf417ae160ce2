import Foundation

/// Self-attention of one Gemma block: multi-query or grouped-query heads, Gemma 3's per-head RMSNorm on
/// queries and keys before RoPE, scores scaled by `query_pre_attn_scalar^(−1/2)`, a sliding window of
/// keys on local layers, and Gemma 2's soft-capping of the scores.
///
/// Mirrors transformers' `Gemma3Attention` / `Gemma2Attention` (eager path). RoPE pairs dimension `i`
/// with `i + d/2` in both Hugging Face and GGUF files: llama.cpp's converter does not permute Gemma's
/// q/k rows (it runs Gemma's RoPE in the NeoX layout).
struct GemmaAttention: Sendable {
    let layer: Int
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    /// W_Q `[heads·d_head, d_model]`, W_K and W_V `[kvHeads·d_head, d_model]` stacked: one product gives q, k and v.
    let qkv: Projection
    /// `[d_model, heads·d_head]`.
    let output: Projection
    /// `output` split by head, for `hook_result`.
    let outputPerHead: OutputSlices
    /// Gemma 3's norms over each head's `d_head` values (nil for Gemma 2).
    let queryNorm: Norm?
    let keyNorm: Norm?
    /// The rotation of this layer (local layers and global layers have different bases).
    let rope: RoPE
    /// Keys a query sees on a sliding layer, nil on a global one.
    let window: Int?
    /// `query_pre_attn_scalar`.
    let queryScalar: Float
    let softcap: Float?

    /// Which query heads read each key/value head.
    var sharingDescription: String {
        let g = heads / kvHeads
        if kvHeads == 1 { return "all \(heads) query heads read key/value head 0" }
        return (0..<kvHeads).map { j in g == 1 ? "kv \(j) ← q \(j)" : "kv \(j) ← q \(j * g)–\(j * g + g - 1)" }
            .joined(separator: ", ")
    }

    /// - Parameters:
    ///   - x: the ln1 output `[pos, d_model]` of the new tokens.
    ///   - start: position of the first new token (the cache length).
    /// - Returns: the attention output `[pos, d_model]` before the post-attention norm.
    func callAsFunction(_ x: Tensor, start: Int, cache: KVCache?, causal: Bool, recorder r: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = r.pos
        let T = x.dim(0), H = heads, KV = kvHeads, d = headDim
        let headAxis = TraceRecorder.head, kvAxis = TraceRecorder.kvHead, dHead = TraceRecorder.dHead
        let ln1: [HookName] = [.normOut(.ln1(layer: L))]

        let parts = qkv.linearParts(x)
        var q = r.hook(.q(layer: L), parts[0].reshaped([T, H, d]), title: "Queries (layer \(L))", formula: "q = ln1 · W_Q",
                       explanation: "What each position looks for, per head, before its norm and RoPE.",
                       axes: [pos, headAxis, dHead], inputs: ln1)
        var k = r.hook(.k(layer: L), parts[1].reshaped([T, KV, d]), title: "Keys (layer \(L))", formula: "k = ln1 · W_K",
                       explanation: "What each position offers; \(sharingDescription).",
                       axes: [pos, kvAxis, dHead], inputs: ln1)
        let v = r.hook(.v(layer: L), parts[2].reshaped([T, KV, d]), title: "Values (layer \(L))", formula: "v = ln1 · W_V",
                       explanation: "What each position passes on when attended to; \(sharingDescription).",
                       axes: [pos, kvAxis, dHead], inputs: ln1)
        var qFrom: HookName = .q(layer: L), kFrom: HookName = .k(layer: L)
        if let queryNorm, let keyNorm {
            q = queryNorm(q, at: .qNorm(layer: L), inputs: [.q(layer: L)], label: "layer \(L) queries",
                          axes: [pos, headAxis, dHead], recorder: &r)
            k = keyNorm(k, at: .kNorm(layer: L), inputs: [.k(layer: L)], label: "layer \(L) keys",
                        axes: [pos, kvAxis, dHead], recorder: &r)
            qFrom = .normOut(.qNorm(layer: L))
            kFrom = .normOut(.kNorm(layer: L))
        }
        var qd = q.data, kd = k.data
        rope.apply(&qd, heads: H, and: &kd, heads: KV, rows: T, start: start)
        let theta = AttentionMath.formatted(rope.theta)
        let kind = window == nil ? "global layer" : "local layer"
        qd = r.hook(.rotQ(layer: L), Tensor(shape: [T, H, d], data: qd), title: "Rotated queries (layer \(L))",
                    formula: "q' = RoPE(q): pairs (i, i+\(d / 2)) rotated by pos·θ^(−2i/\(d)), θ = \(theta) (\(kind))",
                    explanation: "Each pair of query dimensions turned by an angle that grows with the position.",
                    axes: [pos, headAxis, dHead], inputs: [qFrom]).data
        kd = r.hook(.rotK(layer: L), Tensor(shape: [T, KV, d], data: kd), title: "Rotated keys (layer \(L))",
                    formula: "k' = RoPE(k): pairs (i, i+\(d / 2)) rotated by pos·θ^(−2i/\(d)), θ = \(theta) (\(kind))",
                    explanation: "Keys turned the same way, so q'·k' depends on how far apart the two positions are.",
                    axes: [pos, kvAxis, dHead], inputs: [kFrom]).data

        let keys: [Float], values: [Float]
        if let cache {
            cache.keys[L] += kd
            cache.values[L] += v.data
            keys = cache.keys[L]
            values = cache.values[L]
        } else {
            keys = kd
            values = v.data
        }
        let S = keys.count / (KV * d)
        precondition(S == start + T, "GemmaAttention: cache holds \(S - T) positions, expected \(start)")
        // The words are made only if the steps are recorded.
        func maskText() -> String {
            if let window {
                return causal ? "A local layer: each token sees itself and at most the \(window - 1) tokens before it (a sliding window of \(window) keys)."
                              : "The causal mask is switched off; a local layer still sees only keys within \(window - 1) positions."
            }
            return causal ? "A global layer: each token sees itself and every earlier token."
                          : "The causal mask is switched off: every token sees every other."
        }
        return r.recordAttention(
            layer: L, q: Tensor(shape: [T, H, d], data: qd), k: Tensor(shape: [S, KV, d], data: keys),
            v: Tensor(shape: [S, KV, d], data: values), scale: 1 / queryScalar.squareRoot(), start: start, causal: causal,
            maskExplanation: maskText(), outputSlices: outputPerHead, bO: nil,
            project: { output($0) },
            attnOutExplanation: "",
            qInput: .rotQ(layer: L), kInput: .rotK(layer: L), window: window, softcap: softcap,
            scaleText: "scores = q · kᵀ / √query_pre_attn_scalar  (√\(AttentionMath.formatted(queryScalar)) = \(String(format: "%.3f", queryScalar.squareRoot())))",
            outputHook: false)
    }
}

extension AttentionMath {
    /// `10000`, `1e+06`: a config number as short as it reads.
    static func formatted(_ x: Float) -> String {
        x == x.rounded() && abs(x) < 1e5 ? String(Int(x)) : String(format: "%g", Double(x))
    }
}
