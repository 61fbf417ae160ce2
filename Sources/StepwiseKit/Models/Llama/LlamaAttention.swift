import Foundation

/// Grouped-query self-attention of one Llama block, with RoPE on queries and keys.
///
/// Mirrors transformers' `LlamaAttention` (eager path): `q = x·W_qᵀ (+ b_q)`, `k`, `v` likewise with
/// `kvHeads` heads; Qwen3 (`Qwen3Attention`) then RMS-normalizes each head of q and k; q and k rotated;
/// query head `h` reads key/value head `h / (heads / kvHeads)` (`repeat_kv`); `softmax(q·kᵀ/√d + mask)·v`;
/// then `o_proj (+ b_o)`. Qwen2 (`Qwen2Attention`) has biases on q, k and v; a Llama config's
/// `attention_bias` puts them on all four projections.
struct LlamaAttention: Sendable {
    let layer: Int
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    /// W_Q `[heads·d_head, d_model]`, W_K and W_V `[kvHeads·d_head, d_model]` stacked in that order, rows
    /// in the checkpoint's layout order: one product gives q, k and v.
    let qkv: Projection
    /// `[d_model, heads·d_head]`.
    let output: Projection
    /// `output` split by head, for `hook_result`.
    let outputPerHead: OutputSlices
    /// Biases `[heads·d_head]`, `[kvHeads·d_head]`, `[kvHeads·d_head]` (rows in the layout's order) and `[d_model]`.
    var queryBias: Tensor?, keyBias: Tensor?, valueBias: Tensor?, outputBias: Tensor?
    /// Qwen3's RMSNorms over each head of q and of k (weights `[d_head]`), before RoPE.
    var queryNorm: Norm?, keyNorm: Norm?
    /// Mistral's (or a sliding Qwen layer's) window: a query sees itself and the `window − 1` keys before it.
    var window: Int?

    init(layer: Int, heads: Int, kvHeads: Int, headDim: Int, query: Projection, key: Projection, value: Projection,
         output: Projection) {
        self.layer = layer
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        qkv = Projection(stacking: [query, key, value])
        self.output = output
        outputPerHead = OutputSlices(output, heads: heads)
    }

    /// Which query heads read each key/value head, e.g. `kv 0 ← q 0–2`.
    var sharingDescription: String {
        let g = heads / kvHeads
        return (0..<kvHeads).map { j in
            g == 1 ? "kv \(j) ← q \(j)" : "kv \(j) ← q \(j * g)–\(j * g + g - 1)"
        }.joined(separator: ", ")
    }

    /// - Parameters:
    ///   - x: the ln1 output `[pos, d_model]` of the new tokens.
    ///   - start: position of the first new token (the cache length).
    ///   - cache: earlier keys/values of this layer, extended with the new ones (its `length` is not touched).
    ///   - ropeTables: cos and sin `[pos, d_head]` to rotate by instead of RoPE's own (a patch changed them).
    /// - Returns: the attention output `[pos, d_model]` (the heads' results summed when `hook_result` is
    ///   recorded or patched, else one o_proj product), before the residual add.
    func callAsFunction(_ x: Tensor, start: Int, cache: KVCache?, rope: RoPE, ropeTables: (cos: Tensor, sin: Tensor)?,
                        causal: Bool, recorder r: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = r.pos
        let T = x.dim(0), H = heads, KV = kvHeads, d = headDim, g = H / KV
        let headAxis = TraceRecorder.head, kvAxis = TraceRecorder.kvHead, dHead = TraceRecorder.dHead
        let ln1: [HookName] = [.normOut(.ln1(layer: L))]

        // MARK: - Projections and RoPE
        let parts = qkv.linearParts(x)
        var (q, k, v) = (parts[0].data, parts[1].data, parts[2].data)
        addBias(&q, queryBias)
        addBias(&k, keyBias)
        addBias(&v, valueBias)
        func plusBias(_ b: Tensor?, _ name: String) -> String { b == nil ? "" : " + b_\(name)" }
        q = r.hook(.q(layer: L), Tensor(shape: [T, H, d], data: q), title: "Queries (layer \(L))",
                   formula: "q = ln1 · W_Q" + plusBias(queryBias, "Q"),
                   explanation: "What each position looks for, per head, before RoPE adds its position.",
                   axes: [pos, headAxis, dHead], inputs: ln1).data
        k = r.hook(.k(layer: L), Tensor(shape: [T, KV, d], data: k), title: "Keys (layer \(L))",
                   formula: "k = ln1 · W_K" + plusBias(keyBias, "K"),
                   explanation: "What each position offers, for \(KV) key/value heads shared by \(H) query heads (\(sharingDescription)).",
                   axes: [pos, kvAxis, dHead], inputs: ln1).data
        v = r.hook(.v(layer: L), Tensor(shape: [T, KV, d], data: v), title: "Values (layer \(L))",
                   formula: "v = ln1 · W_V" + plusBias(valueBias, "V"),
                   explanation: "What each position passes on when attended to; \(KV) key/value heads (\(sharingDescription)).",
                   axes: [pos, kvAxis, dHead], inputs: ln1).data
        // Qwen3: each head of q and k normalized on its own before RoPE turns it.
        var qSource: HookName = .q(layer: L), kSource: HookName = .k(layer: L)
        if let queryNorm {
            q = queryNorm(Tensor(shape: [T, H, d], data: q), at: .qNorm(layer: L), inputs: [.q(layer: L)], label: "layer \(L)",
                          axes: [pos, headAxis, dHead], recorder: &r).data
            qSource = .normOut(.qNorm(layer: L))
        }
        if let keyNorm {
            k = keyNorm(Tensor(shape: [T, KV, d], data: k), at: .kNorm(layer: L), inputs: [.k(layer: L)], label: "layer \(L)",
                        axes: [pos, kvAxis, dHead], recorder: &r).data
            kSource = .normOut(.kNorm(layer: L))
        }
        if let ropeTables {
            rope.apply(&q, rows: T, heads: H, cos: ropeTables.cos, sin: ropeTables.sin)
            rope.apply(&k, rows: T, heads: KV, cos: ropeTables.cos, sin: ropeTables.sin)
        } else {
            rope.apply(&q, heads: H, and: &k, heads: KV, rows: T, start: start)
        }
        let pairText = rope.pairing == .halves ? "(i, i+\(d / 2))" : "(2i, 2i+1)"
        let qText = queryNorm == nil ? "q" : "q_norm(q)", kText = keyNorm == nil ? "k" : "k_norm(k)"
        q = r.hook(.rotQ(layer: L), Tensor(shape: [T, H, d], data: q), title: "Rotated queries (layer \(L))",
                   formula: "q' = RoPE(\(qText)): pairs \(pairText) rotated by pos·θ^(−2i/\(d))",
                   explanation: "Each pair of query dimensions turned by an angle that grows with the position; slow pairs change little.",
                   axes: [pos, headAxis, dHead], inputs: [qSource, .ropeCos, .ropeSin]).data
        k = r.hook(.rotK(layer: L), Tensor(shape: [T, KV, d], data: k), title: "Rotated keys (layer \(L))",
                   formula: "k' = RoPE(\(kText)): pairs \(pairText) rotated by pos·θ^(−2i/\(d))",
                   explanation: "Keys turned the same way, so q'·k' depends on how far apart the two positions are.",
                   axes: [pos, kvAxis, dHead], inputs: [kSource, .ropeCos, .ropeSin]).data

        // MARK: - Scores over cached + new keys, pattern, weighted values, output
        let keys: [Float], values: [Float]
        if let cache {
            cache.keys[L] += k
            cache.values[L] += v
            keys = cache.keys[L]
            values = cache.values[L]
        } else {
            keys = k
            values = v
        }
        let S = keys.count / (KV * d)
        precondition(S == start + T, "LlamaAttention: cache holds \(S - T) positions, expected \(start)")
        return r.recordAttention(
            layer: L, q: Tensor(shape: [T, H, d], data: q), k: Tensor(shape: [S, KV, d], data: keys),
            v: Tensor(shape: [S, KV, d], data: values), scale: 1 / Float(d).squareRoot(), start: start, causal: causal,
            maskExplanation: maskExplanation(causal: causal),
            outputSlices: outputPerHead, bO: outputBias,
            project: { z in
                let o = output(z)
                return outputBias.map { o.addingRowVector($0) } ?? o
            },
            attnOutExplanation: "What the attention heads together add to the residual stream; query head h read key/value head h/\(g) (\(sharingDescription)).",
            qInput: .rotQ(layer: L), kInput: .rotK(layer: L), window: window)
    }
}

extension LlamaAttention {
    /// What the masked-scores step says for this layer's mask.
    func maskExplanation(causal: Bool) -> String {
        switch (causal, window) {
        case (true, nil): return "Later positions are hidden: a token may only look at itself and earlier tokens."
        case (true, let w?): return "Later positions are hidden, and so is everything more than \(w - 1) tokens back: a sliding window of \(w) keys, the token itself included."
        case (false, let w?): return "The causal mask is switched off, but the sliding window still hides keys \(w) or more positions away."
        case (false, nil): return "The causal mask is switched off: every token sees every other."
        }
    }
}

/// Adds `bias` `[n]` to every row of `x` (`[rows·n]`, row-major); nothing when there is no bias.
@inline(__always)
func addBias(_ x: inout [Float], _ bias: Tensor?) {
    guard let bias else { return }
    let n = bias.count
    precondition(n > 0 && x.count % n == 0, "addBias: \(x.count) values for a bias of \(n)")
    x.withUnsafeMutableBufferPointer { xp in
        bias.data.withUnsafeBufferPointer { b in
            var i = 0
            while i < xp.count {
                for j in 0..<n { xp[i + j] += b[j] }
                i += n
            }
        }
    }
}
