import Foundation

/// Grouped-query self-attention of one Llama block, with RoPE on queries and keys.
///
/// Mirrors transformers' `LlamaAttention` (eager path): `q = x·W_qᵀ`, `k`, `v` likewise with `kvHeads`
/// heads; q and k rotated; query head `h` reads key/value head `h / (heads / kvHeads)` (`repeat_kv`);
/// `softmax(q·kᵀ/√d + mask)·v`; then `o_proj`. No biases.
struct LlamaAttention: Sendable {
    let layer: Int
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    /// `[heads·d_head, d_model]`, rows in the checkpoint's layout order (packed for the matrix kernel).
    let query: PackedMatrix
    /// `[kvHeads·d_head, d_model]`.
    let key: PackedMatrix
    /// `[kvHeads·d_head, d_model]`.
    let value: PackedMatrix
    /// `[d_model, heads·d_head]`.
    let output: Tensor
    /// `output`, packed.
    let outputPacked: PackedMatrix
    /// `output` split by head: `[d_model, d_head]` each, for `hook_result`.
    let outputPerHead: [Tensor]
    /// The same four projections in the file's block format, when it has one (GGUF Q4_0/Q4_1/Q8_0):
    /// used for one or two new tokens, where reading the weights dominates.
    var quantized: (query: QuantizedMatrix, key: QuantizedMatrix, value: QuantizedMatrix, output: QuantizedMatrix)?

    init(layer: Int, heads: Int, kvHeads: Int, headDim: Int, query: Tensor, key: Tensor, value: Tensor, output: Tensor) {
        self.layer = layer
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.query = PackedMatrix(query)
        self.key = PackedMatrix(key)
        self.value = PackedMatrix(value)
        self.output = output
        outputPacked = PackedMatrix(output)
        let dModel = output.shape[0]
        outputPerHead = (0..<heads).map { h in
            output.sliced([.all, .range(h * headDim, (h + 1) * headDim, 1)]).reshaped([dModel, headDim])
        }
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
    /// - Returns: the attention output `[pos, d_model]` (o_proj applied), before the residual add.
    func callAsFunction(_ x: Tensor, start: Int, cache: KVCache?, rope: RoPE, causal: Bool,
                        interventions: [Intervention], recorder r: inout LlamaRecorder) -> Tensor {
        let L = layer, p = "blocks.\(L).attn."
        let T = x.dim(0), H = heads, KV = kvHeads, d = headDim, g = H / KV
        let headAxis = Axis("head"), kvAxis = Axis("kv_head"), dHead = Axis("d_head")
        let ln1 = "blocks.\(L).ln1.hook_out"

        // MARK: - Projections and RoPE
        var q = project(x, query, quantized?.query).data
        var k = project(x, key, quantized?.key).data
        let v = project(x, value, quantized?.value).data
        r.add(p + "hook_q", "Queries (layer \(L))", formula: "q = ln1 · W_Q",
              explanation: "What each position looks for, per head, before RoPE adds its position.",
              tensor: Tensor(shape: [T, H, d], data: q), axes: [r.pos, headAxis, dHead], inputs: [ln1], layer: L)
        r.add(p + "hook_k", "Keys (layer \(L))", formula: "k = ln1 · W_K",
              explanation: "What each position offers, for \(KV) key/value heads shared by \(H) query heads (\(sharingDescription)).",
              tensor: Tensor(shape: [T, KV, d], data: k), axes: [r.pos, kvAxis, dHead], inputs: [ln1], layer: L)
        r.add(p + "hook_v", "Values (layer \(L))", formula: "v = ln1 · W_V",
              explanation: "What each position passes on when attended to; \(KV) key/value heads (\(sharingDescription)).",
              tensor: Tensor(shape: [T, KV, d], data: v), axes: [r.pos, kvAxis, dHead], inputs: [ln1], layer: L)
        rope.apply(&q, rows: T, heads: H, start: start)
        rope.apply(&k, rows: T, heads: KV, start: start)
        let pairText = rope.pairing == .halves ? "(i, i+\(d / 2))" : "(2i, 2i+1)"
        r.add(p + "hook_rot_q", "Rotated queries (layer \(L))",
              formula: "q' = RoPE(q): pairs \(pairText) rotated by pos·θ^(−2i/\(d))",
              explanation: "Each pair of query dimensions turned by an angle that grows with the position; slow pairs change little.",
              tensor: Tensor(shape: [T, H, d], data: q), axes: [r.pos, headAxis, dHead],
              inputs: [p + "hook_q", "rope.hook_cos", "rope.hook_sin"], layer: L)
        r.add(p + "hook_rot_k", "Rotated keys (layer \(L))",
              formula: "k' = RoPE(k): pairs \(pairText) rotated by pos·θ^(−2i/\(d))",
              explanation: "Keys turned the same way, so q'·k' depends on how far apart the two positions are.",
              tensor: Tensor(shape: [T, KV, d], data: k), axes: [r.pos, kvAxis, dHead],
              inputs: [p + "hook_k", "rope.hook_cos", "rope.hook_sin"], layer: L)

        // MARK: - Scores over cached + new keys
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
        let scale = 1 / Float(d).squareRoot()
        var scores = [Float](repeating: 0, count: H * T * S)
        q.withUnsafeBufferPointer { qp in
            keys.withUnsafeBufferPointer { kp in
                for h in 0..<H {
                    let kvh = h / g
                    for i in 0..<T {
                        let qi = qp.baseAddress! + (i * H + h) * d
                        for j in 0..<S {
                            scores[(h * T + i) * S + j] = Self.dot(qi, kp.baseAddress! + (j * KV + kvh) * d, d) * scale
                        }
                    }
                }
            }
        }
        let qkAxes = [headAxis, r.queryPos, r.keyPos]
        r.add(p + "hook_attn_scores_unmasked", "Attention scores before the mask (layer \(L))",
              formula: "scores = q'·k'ᵀ / √\(d)",
              explanation: "How well each query matches each key; query head h reads key head h/\(g) (\(sharingDescription)).",
              tensor: Tensor(shape: [H, T, S], data: scores), axes: qkAxes,
              inputs: [p + "hook_rot_q", p + "hook_rot_k"], layer: L)
        if causal {
            for h in 0..<H {
                for i in 0..<T {
                    for j in (start + i + 1)..<S { scores[(h * T + i) * S + j] = -.infinity }
                }
            }
        }
        let masked = Tensor(shape: [H, T, S], data: scores)
        r.add(p + "hook_attn_scores", "Attention scores (layer \(L))",
              formula: causal ? "scores[q, k] = −∞ where k > q" : "scores (no mask)",
              explanation: causal ? "Later positions are hidden: a token may only look at itself and earlier tokens."
                                  : "The causal mask is switched off: every token sees every other.",
              tensor: masked, axes: qkAxes, inputs: [p + "hook_attn_scores_unmasked"], layer: L)
        let pattern = masked.softmax()
        r.add(p + "hook_pattern", "Attention pattern (layer \(L))", formula: "pattern = softmax(scores)",
              explanation: "Each row sums to 1: how much each query position takes from each key position.",
              tensor: pattern, axes: qkAxes, inputs: [p + "hook_attn_scores"], layer: L)

        // MARK: - Weighted values, ablation, output
        var z = [Float](repeating: 0, count: T * H * d)
        pattern.data.withUnsafeBufferPointer { pp in
            values.withUnsafeBufferPointer { vp in
                z.withUnsafeMutableBufferPointer { zp in
                    for h in 0..<H {
                        let kvh = h / g
                        for i in 0..<T {
                            let zi = zp.baseAddress! + (i * H + h) * d
                            for j in 0..<S {
                                let w = pp[(h * T + i) * S + j]
                                if w == 0 { continue }
                                let vj = vp.baseAddress! + (j * KV + kvh) * d
                                for e in 0..<d { zi[e] += w * vj[e] }
                            }
                        }
                    }
                }
            }
        }
        var ablated: [String] = []
        for h in 0..<H {
            guard let mode = interventions.ablation(layer: L, head: h) else { continue }
            ablated.append("\(h) (\(mode.rawValue))")
            for e in 0..<d {
                var mean: Float = 0
                if mode == .mean {
                    for i in 0..<T { mean += z[(i * H + h) * d + e] }
                    mean /= Float(T)
                }
                for i in 0..<T { z[(i * H + h) * d + e] = mean }
            }
        }
        let zT = Tensor(shape: [T, H, d], data: z)
        r.add(p + "hook_z", "Attention-weighted values (layer \(L))", formula: "z = pattern · v",
              explanation: ablated.isEmpty ? "Each head's mix of the values it attended to."
                                           : "Each head's mix of the values it attended to; ablated heads: \(ablated.joined(separator: ", ")).",
              tensor: zT, axes: [r.pos, headAxis, dHead], inputs: [p + "hook_pattern", p + "hook_v"], layer: L)
        let flat = zT.reshaped([T, H * d])
        if r.enabled {
            let dModel = output.shape[0]
            var result = [Float](repeating: 0, count: T * H * dModel)
            for h in 0..<H {
                let zh = zT.sliced([.all, .index(h), .all])
                let rh = zh.linear(outputPerHead[h]).data
                for i in 0..<T {
                    for c in 0..<dModel { result[(i * H + h) * dModel + c] = rh[i * dModel + c] }
                }
            }
            r.add(p + "hook_result", "Per-head outputs (layer \(L))", formula: "result[h] = z[h] · W_O[h]",
                  explanation: "What each head writes into the residual stream; they add up to the attention output.",
                  tensor: Tensor(shape: [T, H, dModel], data: result), axes: [r.pos, headAxis, Axis("d_model")],
                  inputs: [p + "hook_z"], layer: L)
        }
        return project(flat, outputPacked, quantized?.output)
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            // `+= x * y`, not `addingProduct`: without FMA in the target that becomes a libm call per lane.
            s += SIMD8<Float>(UnsafeBufferPointer(start: a + i, count: 8)) * SIMD8<Float>(UnsafeBufferPointer(start: b + i, count: 8))
            i += 8
        }
        var t = s.sum()
        while i < n { t += a[i] * b[i]; i += 1 }
        return t
    }
}
