import Foundation

/// T5's relative position bias: a learned number per head for each bucket of key-minus-query distance,
/// read from the first block of a stack (`relative_attention_bias` `[num_buckets, heads]`) and added to the
/// scores of every block of that stack.
///
/// Mirrors transformers' `T5Attention._relative_position_bucket` and `compute_bias`: the encoder's buckets
/// are bidirectional (half for keys after the query), the decoder's look back only; within a direction,
/// the first half of the buckets hold one distance each, the rest grow logarithmically up to
/// `max_distance`, beyond which every distance shares the last bucket.
struct T5PositionBias: Sendable {
    /// `[num_buckets, heads]`.
    let table: Tensor
    let numBuckets: Int
    let maxDistance: Int
    /// The encoder's (keys on both sides) or the decoder's (keys before the query only).
    let bidirectional: Bool

    var heads: Int { table.dim(1) }

    /// The bucket of `relative` = key position − query position, as transformers computes it (in float32).
    static func bucket(_ relative: Int, bidirectional: Bool, numBuckets: Int, maxDistance: Int) -> Int {
        var buckets = numBuckets
        var bucket = 0
        var distance: Int
        if bidirectional {
            buckets /= 2
            if relative > 0 { bucket += buckets }
            distance = abs(relative)
        } else {
            distance = -min(relative, 0)
        }
        let maxExact = buckets / 2
        if distance < maxExact { return bucket + distance }
        // float32 throughout, like torch: log(d / max_exact) / log(max_distance / max_exact) · (buckets − max_exact).
        let ratio = log(Float(distance) / Float(maxExact)) / Float(Foundation.log(Double(maxDistance) / Double(maxExact)))
        let large = maxExact + Int(ratio * Float(buckets - maxExact))
        return bucket + min(large, buckets - 1)
    }

    func bucket(_ relative: Int) -> Int {
        Self.bucket(relative, bidirectional: bidirectional, numBuckets: numBuckets, maxDistance: maxDistance)
    }

    /// The bias for queries at absolute positions `start ..< start + queries` over keys `0 ..< keys`.
    /// - Returns: `[heads, queries, keys]`.
    func callAsFunction(queries: Int, keys: Int, start: Int) -> Tensor {
        let H = heads
        var out = [Float](repeating: 0, count: H * queries * keys)
        table.data.withUnsafeBufferPointer { w in
            for i in 0..<queries {
                for j in 0..<keys {
                    let b = bucket(j - (start + i))
                    for h in 0..<H { out[(h * queries + i) * keys + j] = w[b * H + h] }
                }
            }
        }
        return Tensor(shape: [H, queries, keys], data: out)
    }

    /// How the buckets are laid out, for the step's formula: `8 buckets, 4 per direction: distances 0–1 exact, …`.
    var layout: String {
        let perSide = bidirectional ? numBuckets / 2 : numBuckets
        let maxExact = perSide / 2
        let side = bidirectional ? "\(perSide) per direction (keys before and after the query)" : "keys at or before the query only"
        return "\(numBuckets) buckets, \(side): distances 0–\(maxExact - 1) one bucket each, "
            + "then \(perSide - maxExact) logarithmic buckets up to \(maxDistance), beyond which all share the last"
    }
}

/// One T5 attention layer: self-attention (with the stack's position bias) or the decoder's
/// cross-attention (queries from the decoder, keys and values from the encoder's output, no position bias).
/// No projection has a bias, and the scores are not divided by `√d_kv`: T5 folds that scale into the
/// initialisation of `W_Q`.
///
/// Mirrors transformers' `T5Attention` (eager path) in `modeling_t5.py`.
struct T5Attention: Sendable {
    let layer: Int
    let heads: Int
    /// `d_kv`.
    let dHead: Int
    /// `[heads·d_kv, d_model]`.
    let query: Projection
    let key: Projection
    let value: Projection
    /// `[d_model, heads·d_kv]`.
    let output: Projection
    /// `output` split by head, for `hook_result`.
    let outputPerHead: OutputSlices

    static let scoreText = "scores = q · kᵀ  (no 1/√d_head: T5 folds that scale into W_Q's initialisation; no position bias)"

    /// Projects `x` `[pos, d_model]` to `[pos, heads, d_kv]`.
    func project(_ p: Projection, _ x: Tensor) -> Tensor {
        p(x).reshaped([x.dim(0), heads, dHead])
    }

    /// Self-attention over the new positions and the cached ones.
    ///
    /// - Parameters:
    ///   - x: the ln1 output `[pos, d_model]` of the new tokens.
    ///   - bias: the stack's position bias `[heads, pos, keys]` for these queries.
    ///   - start: absolute position of the first new token (the decoder's cache length; 0 in the encoder).
    ///   - cache: the decoder's self-attention keys and values (nil in the encoder).
    /// - Returns: the attention output `[pos, d_model]`.
    func selfAttention(_ x: Tensor, bias: Tensor, start: Int, cache: KVCache?, causal: Bool,
                       recorder r: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = r.pos
        let T = x.dim(0), H = heads, d = dHead
        let axes = [pos, TraceRecorder.head, TraceRecorder.dHead]
        let ln1: [HookName] = [.normOut(.ln1(layer: L))]
        let q = r.hook(.q(layer: L), project(query, x), title: "Queries (layer \(L))", formula: "q = ln1 · W_Q",
                       explanation: "What each position looks for, per head (\(H) heads of d_kv = \(d); no bias).",
                       axes: axes, inputs: ln1)
        let k = r.hook(.k(layer: L), project(key, x), title: "Keys (layer \(L))", formula: "k = ln1 · W_K",
                       explanation: "What each position offers to be found by; T5 has no position embedding, the position bias says where keys are.",
                       axes: axes, inputs: ln1)
        let v = r.hook(.v(layer: L), project(value, x), title: "Values (layer \(L))", formula: "v = ln1 · W_V",
                       explanation: "What each position passes on when attended to.", axes: axes, inputs: ln1)
        let keys: [Float], values: [Float]
        if let cache {
            cache.keys[L] += k.data
            cache.values[L] += v.data
            keys = cache.keys[L]
            values = cache.values[L]
        } else {
            keys = k.data
            values = v.data
        }
        let S = keys.count / (H * d)
        precondition(S == start + T, "T5Attention: cache holds \(S - T) positions, expected \(start)")
        let decoder = r.stack == .decoder
        let maskText: String
        if decoder {
            maskText = causal ? "The decoder's causal mask: each target token sees itself and the tokens before it."
                              : "The causal mask is switched off: every target token sees every other (T5 was not trained so)."
        } else {
            maskText = "An encoder has no causal mask: every source token sees every other, before and after it."
        }
        return r.recordAttention(
            layer: L, q: q, k: Tensor(shape: [S, H, d], data: keys), v: Tensor(shape: [S, H, d], data: values),
            scale: 1, start: start, causal: causal, maskExplanation: maskText, outputSlices: outputPerHead, bO: nil,
            project: { output($0) },
            attnOutExplanation: "The heads' outputs through W_O (no bias), added together: what self-attention adds to the residual stream.",
            scaleText: "scores = q · kᵀ + position_bias  (no 1/√d_head: T5 folds that scale into W_Q's initialisation)",
            scoreBias: bias, scoreBiasInput: .positionBias,
            scoreExplanation: "How well each query matches each key: a plain dot product (T5 does not divide by √d_head), plus the learned bias for how far apart the two positions are.")
    }

    /// Cross-attention of the new decoder positions over the encoded source.
    ///
    /// - Parameters:
    ///   - x: the ln2 output `[pos, d_model]` of the new decoder tokens.
    ///   - cross: this layer's keys and values `[sourcePos, heads·d_kv]`, computed here from the encoder's
    ///     output (and hooked) when it does not hold them yet.
    /// - Returns: the cross-attention output `[pos, d_model]`.
    func crossAttention(_ x: Tensor, cross: inout T5CrossState, recorder r: inout TraceRecorder) -> Tensor {
        let L = layer
        let H = heads, d = dHead
        let pos = r.pos
        let q = r.hook(.q(layer: L), project(query, x), title: "Queries (layer \(L))", formula: "q = ln2 · W_Q",
                       explanation: "What each target position looks for in the source, per head.",
                       axes: [pos, TraceRecorder.head, TraceRecorder.dHead], inputs: [.normOut(.ln2(layer: L))])
        if cross.keys == nil || cross.values == nil {
            guard let encoded = cross.encoded else { preconditionFailure("T5Attention: no cross keys and no encoder output") }
            (cross.keys, cross.values) = crossKeysValues(encoded, from: cross.encodedStep, recorder: &r)
        }
        let keys = cross.keys!, values = cross.values!
        let S = keys.dim(0)
        return r.recordAttention(
            layer: L, q: q, k: keys.reshaped([S, H, d]), v: values.reshaped([S, H, d]), scale: 1, start: 0, causal: false,
            maskExplanation: "No mask: every target token may read every source token.",
            outputSlices: outputPerHead, bO: nil, project: { output($0) },
            attnOutExplanation: "The heads' outputs through W_O, added together: what the source adds to the decoder's residual stream.",
            scaleText: Self.scoreText,
            scoreExplanation: "How well each target query matches each source key: a plain dot product (no √d_head, and no position bias across the two sequences).")
    }

    /// The cross-attention keys and values of the encoder's output `[sourcePos, d_model]`, hooked as
    /// `cross_attn.hook_k` / `hook_v` `[sourcePos, head, d_kv]` (key axis labelled with the source).
    /// - Returns: both `[sourcePos, heads·d_kv]`, for the cache.
    func crossKeysValues(_ encoded: Tensor, from input: HookName, recorder r: inout TraceRecorder) -> (Tensor, Tensor) {
        let L = layer
        let S = encoded.dim(0), H = heads, d = dHead
        let keyPos = r.keyPos
        let axes = [keyPos, TraceRecorder.head, TraceRecorder.dHead]
        let k = r.hook(.k(layer: L), project(key, encoded), title: "Keys (layer \(L))", formula: "k = encoder_out · W_K",
                       explanation: "What each source position offers to the decoder, from the encoder's final output.",
                       axes: axes, inputs: [input])
        let v = r.hook(.v(layer: L), project(value, encoded), title: "Values (layer \(L))", formula: "v = encoder_out · W_V",
                       explanation: "What each source position passes on when the decoder attends to it.",
                       axes: axes, inputs: [input])
        return (k.reshaped([S, H * d]), v.reshaped([S, H * d]))
    }
}

/// What one decoder layer's cross-attention reads: its keys and values `[sourcePos, heads·d_kv]` when
/// already computed (from the cache), else the encoder's output to compute them from.
struct T5CrossState {
    var keys: Tensor?
    var values: Tensor?
    /// The encoder's final norm output `[sourcePos, d_model]`; nil when the keys and values come from the cache.
    let encoded: Tensor?
    /// The step `encoded` was recorded as.
    let encodedStep: HookName
    let sourceLabels: [String]
}
