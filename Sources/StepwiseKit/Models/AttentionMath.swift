import CKernels
import Dispatch
import Foundation

/// The pieces of scaled dot-product attention, shared by every family, each returning a value a
/// trace can show. Supports grouped-query attention: query head `h` reads key/value head
/// `h / (heads / kvHeads)`.
public enum AttentionMath {
    /// Copies head `h` of a `[pos, heads, dHead]` buffer into a contiguous `[pos, dHead]` buffer.
    static func head(_ x: [Float], positions: Int, heads: Int, dHead: Int, _ h: Int) -> [Float] {
        var out = [Float](repeating: 0, count: positions * dHead)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for p in 0..<positions {
                    let s = (p * heads + h) * dHead
                    for d in 0..<dHead { dst[p * dHead + d] = src[s + d] }
                }
            }
        }
        return out
    }

    /// Scaled scores `q·kᵀ · scale` for every query head.
    ///
    /// - Parameters:
    ///   - q: `[queries, heads, dHead]`.
    ///   - k: `[keys, kvHeads, dHead]`.
    /// - Returns: `[heads, queries, keys]`.
    public static func scores(q: Tensor, k: Tensor, scale: Float) -> Tensor {
        let (tq, heads, dHead) = (q.shape[0], q.shape[1], q.shape[2])
        let (tk, kvHeads) = (k.shape[0], k.shape[1])
        precondition(heads % kvHeads == 0 && k.shape[2] == dHead, "AttentionMath.scores: q \(q.shape) vs k \(k.shape)")
        let group = heads / kvHeads
        if tq <= directRows {
            return Tensor(shape: [heads, tq, tk], data: directScores(q: q.data, k: k.data, tq: tq, tk: tk, heads: heads,
                                                                     kvHeads: kvHeads, dHead: dHead, scale: scale))
        }
        var out = [Float](repeating: 0, count: heads * tq * tk)
        let kHeads = (0..<kvHeads).map { head(k.data, positions: tk, heads: kvHeads, dHead: dHead, $0) }
        for h in 0..<heads {
            let qh = head(q.data, positions: tq, heads: heads, dHead: dHead, h)
            let s = MatMul.abT(a: qh, b: kHeads[h / group], m: tq, n: tk, k: dHead)
            let base = h * tq * tk
            for i in 0..<(tq * tk) { out[base + i] = s[i] * scale }
        }
        return Tensor(shape: [heads, tq, tk], data: out)
    }

    /// Up to this many queries (token-by-token generation), scores and weighted sums are computed in
    /// place from the `[pos, heads, dHead]` layout: copying each head out and calling the matrix kernel
    /// costs more than the arithmetic for one or two rows.
    static let directRows = 2

    /// One query's attention over at least this many floats of keys (or of values) is split over the
    /// cores. The cache is cold when a layer's attention runs (the weights streamed through since), so
    /// that work waits on memory, and two cores reading it get more of it at once than one.
    static let splitFloats = 8_192

    /// How many parts to split `count` units of work into (1 below ``splitFloats`` or on one core).
    static func parts(_ count: Int, floats: Int) -> Int {
        floats < splitFloats || Parallel.threads == 1 ? 1 : Swift.max(1, Swift.min(4, count))
    }

    /// `scores[h, i, j] = q[i, h] · k[j, h / group] · scale`, straight from the interleaved layouts
    /// (``stepwise_attention_scores``, one query at a time), the keys split into `chunks` runs over the
    /// cores (by default as ``parts(_:floats:)`` says). A score does not depend on the split.
    static func directScores(q: [Float], k: [Float], tq: Int, tk: Int, heads: Int, kvHeads: Int, dHead: Int,
                             scale: Float, isa: KernelISA = .selected, chunks: Int? = nil) -> [Float] {
        let n = chunks ?? parts(tk / 16, floats: tk * kvHeads * dHead)
        let per = (tk + n - 1) / n
        return [Float](unsafeUninitializedCapacity: heads * tq * tk) { out, initialized in
            q.withUnsafeBufferPointer { qp in
                k.withUnsafeBufferPointer { kp in
                    let (uq, uk, uo, code) = (UnsafeSendable(qp.baseAddress!), UnsafeSendable(kp.baseAddress!),
                                              UnsafeSendable(out.baseAddress!), isa.code)
                    Parallel.forEach(n) { c in
                        let j0 = Swift.min(tk, c * per), j1 = Swift.min(tk, j0 + per)
                        guard j0 < j1 else { return }
                        for i in 0..<tq {
                            stepwise_attention_scores(code, uq.value + i * heads * dHead, uk.value + j0 * kvHeads * dHead,
                                                      heads, kvHeads, dHead, j1 - j0, scale, uo.value + i * tk + j0, tq * tk)
                        }
                    }
                }
            }
            initialized = heads * tq * tk
        }
    }

    /// Keys per run of ``directWeightedSum(pattern:v:tq:tk:heads:kvHeads:dHead:isa:parallel:)``.
    static let valueSpan = 32

    /// `z[i, h] = Σⱼ pattern[h, i, j] · v[j, h / group]` from the interleaved layouts
    /// (``stepwise_attention_values``, one query at a time), keys weighted 0 skipped.
    ///
    /// The keys are summed in runs of ``valueSpan``, and the runs' sums added in order: the runs go over
    /// the cores when there are enough of them (`parallel`, by default as ``parts(_:floats:)`` says), and
    /// z has the same bits either way, on any number of cores.
    static func directWeightedSum(pattern: [Float], v: [Float], tq: Int, tk: Int, heads: Int, kvHeads: Int,
                                  dHead: Int, isa: KernelISA = .selected, parallel: Bool? = nil) -> [Float] {
        let runs = Swift.max(1, (tk + valueSpan - 1) / valueSpan), width = heads * dHead
        let split = parallel ?? (parts(runs, floats: tk * kvHeads * dHead) > 1)
        // Run r of query i at sums[(i · runs + r) · width]; with one run, z itself.
        var sums = [Float](unsafeUninitializedCapacity: tq * runs * width) { buf, initialized in
            pattern.withUnsafeBufferPointer { pp in
                v.withUnsafeBufferPointer { vp in
                    let (up, uv, us, code) = (UnsafeSendable(pp.baseAddress!), UnsafeSendable(vp.baseAddress!),
                                              UnsafeSendable(buf.baseAddress!), isa.code)
                    let run: @Sendable (Int) -> Void = { task in
                        let (i, r) = task.quotientAndRemainder(dividingBy: runs)
                        let j0 = r * valueSpan, j1 = Swift.min(tk, j0 + valueSpan)
                        stepwise_attention_values(code, up.value + i * tk + j0, tq * tk, uv.value + j0 * kvHeads * dHead,
                                                  heads, kvHeads, dHead, Swift.max(0, j1 - j0), us.value + task * width)
                    }
                    if split { Parallel.forEach(tq * runs, run) } else { (0..<(tq * runs)).forEach(run) }
                }
            }
            initialized = tq * runs * width
        }
        guard runs > 1 else { return sums }
        return [Float](unsafeUninitializedCapacity: tq * width) { z, initialized in
            sums.withUnsafeMutableBufferPointer { s in
                for i in 0..<tq {
                    let first = s.baseAddress! + i * runs * width
                    for r in 1..<runs {
                        let add = first + r * width
                        for e in 0..<width { first[e] += add[e] }
                    }
                    (z.baseAddress! + i * width).update(from: first, count: width)
                }
            }
            initialized = tq * width
        }
    }

    /// The scores with every key a query may not see set to `-infinity`.
    ///
    /// Query `i` sits at absolute position `start + i`; with `causal` it sees keys `0...start + i`, and
    /// with a sliding `window` of `W` keys only the last `W` of them (`start + i − W < k`, as transformers'
    /// `sliding_window` masks: a query sees itself and the `W − 1` keys before it; without `causal`, the
    /// `W − 1` after it too).
    public static func masked(_ scores: Tensor, start: Int, causal: Bool, window: Int? = nil) -> Tensor {
        guard causal || window != nil else { return scores }
        let (heads, tq, tk) = (scores.shape[0], scores.shape[1], scores.shape[2])
        var out = scores.data
        out.withUnsafeMutableBufferPointer { o in
            for h in 0..<heads {
                maskRows(UnsafeMutableBufferPointer(rebasing: o[(h * tq * tk)..<((h + 1) * tq * tk)]), tq: tq, tk: tk,
                         start: start, causal: causal, window: window)
            }
        }
        return Tensor(shape: scores.shape, data: out)
    }

    /// Sets the keys each query of one head's `[tq, tk]` scores may not see to `-infinity` (see
    /// ``masked(_:start:causal:window:)``).
    static func maskRows(_ out: UnsafeMutableBufferPointer<Float>, tq: Int, tk: Int, start: Int, causal: Bool, window: Int?) {
        for i in 0..<tq {
            let row = i * tk
            let q = start + i
            if causal {
                var j = q + 1
                while j < tk { out[row + j] = -.infinity; j += 1 }
            }
            if let window {
                var j = 0
                while j <= q - window && j < tk { out[row + j] = -.infinity; j += 1 }
                if !causal {
                    j = max(q + window, 0)
                    while j < tk { out[row + j] = -.infinity; j += 1 }
                }
            }
        }
    }

    /// Gemma 2's soft-capping: `cap · tanh(x / cap)` for every element.
    public static func softcapped(_ x: Tensor, cap: Float) -> Tensor {
        var out = x.data
        for i in out.indices { out[i] = cap * Foundation.tanh(out[i] / cap) }
        return Tensor(shape: x.shape, data: out)
    }

    /// The pattern-weighted sum of values.
    ///
    /// - Parameters:
    ///   - pattern: `[heads, queries, keys]`.
    ///   - v: `[keys, kvHeads, dHead]`.
    /// - Returns: `z` `[queries, heads, dHead]`.
    public static func weightedSum(pattern: Tensor, v: Tensor) -> Tensor {
        let (heads, tq, tk) = (pattern.shape[0], pattern.shape[1], pattern.shape[2])
        let (kvHeads, dHead) = (v.shape[1], v.shape[2])
        let group = heads / kvHeads
        if tq <= directRows {
            return Tensor(shape: [tq, heads, dHead], data: directWeightedSum(pattern: pattern.data, v: v.data, tq: tq, tk: tk,
                                                                             heads: heads, kvHeads: kvHeads, dHead: dHead))
        }
        var z = [Float](repeating: 0, count: tq * heads * dHead)
        let vT = valueColumns(v)
        for h in 0..<heads {
            let p = Array(pattern.data[(h * tq * tk)..<((h + 1) * tq * tk)])
            addWeightedHead(&z, pattern: p, vT: vT[h / group], h: h, tq: tq, tk: tk, heads: heads, dHead: dHead)
        }
        return Tensor(shape: [tq, heads, dHead], data: z)
    }

    /// `vᵀ` per kv head, `[dHead, keys]` each, so `z_h = pattern_h · v_h = abT(pattern_h, v_hᵀ)`.
    /// - Parameter v: `[keys, kvHeads, dHead]`.
    static func valueColumns(_ v: Tensor) -> [[Float]] {
        let (tk, kvHeads, dHead) = (v.shape[0], v.shape[1], v.shape[2])
        return (0..<kvHeads).map { g -> [Float] in
            let vh = head(v.data, positions: tk, heads: kvHeads, dHead: dHead, g)
            return Tensor(shape: [tk, dHead], data: vh).transposed(0, 1).data
        }
    }

    /// Writes head `h` of `z` `[tq, heads, dHead]`: its pattern `[tq, tk]` times its kv head's values
    /// (``valueColumns(_:)``), the product ``weightedSum(pattern:v:)`` makes for that head.
    static func addWeightedHead(_ z: inout [Float], pattern p: [Float], vT: [Float], h: Int, tq: Int, tk: Int,
                                heads: Int, dHead: Int) {
        let zh = MatMul.abT(a: p, b: vT, m: tq, n: dHead, k: tk)
        for i in 0..<tq {
            for d in 0..<dHead { z[(i * heads + h) * dHead + d] = zh[i * dHead + d] }
        }
    }

    /// Each head's output through its slice of the output projection.
    ///
    /// - Parameters:
    ///   - z: `[pos, heads, dHead]`.
    ///   - outputSlices: `W_O` by head (``OutputSlices``).
    ///   - heads: only these heads (each computed as with all of them); nil for every head.
    /// - Returns: `[pos, heads, dModel]` (`heads.count` heads when given).
    public static func perHeadResult(z: Tensor, outputSlices: OutputSlices, heads picked: Range<Int>? = nil) -> Tensor {
        let (t, heads, dHead) = (z.shape[0], z.shape[1], z.shape[2])
        let dModel = outputSlices.dModel
        let range = picked ?? 0..<heads
        let n = range.count
        var out = [Float](repeating: 0, count: t * n * dModel)
        out.withUnsafeMutableBufferPointer { o in
            for h in range {
                let zh = head(z.data, positions: t, heads: heads, dHead: dHead, h)
                let r = outputSlices.result(head: h, Tensor(shape: [t, dHead], data: zh))
                let j = h - range.lowerBound
                r.data.withUnsafeBufferPointer { rp in
                    for i in 0..<t { (o.baseAddress! + (i * n + j) * dModel).update(from: rp.baseAddress! + i * dModel, count: dModel) }
                }
            }
        }
        return Tensor(shape: [t, n, dModel], data: out)
    }

    // MARK: - One head at a time

    /// What turns one head's `q · kᵀ` into its masked scores and pattern, in the order the pass applies it.
    struct ScoreSteps: Sendable {
        var scale: Float
        /// Gemma 2's `cap · tanh(x / cap)`, before the bias and the mask.
        var softcap: Float?
        var start: Int
        var causal: Bool
        var window: Int?
    }

    /// How far ``headScores(q:kHead:tk:h:bias:steps:through:)`` goes: the three attention steps.
    enum ScoreStage: Sendable {
        case unmasked, masked, pattern
    }

    /// Head `h`'s scores before the mask, `[tq, tk]`: the product and scale ``scores(q:k:scale:)`` computes
    /// for that head (more than ``directRows`` queries), soft-capped as ``softcapped(_:cap:)``, plus the
    /// bias's head as `scores + bias` adds it.
    /// - Parameters:
    ///   - q: `[tq, heads, dHead]`.
    ///   - kHead: the head's key/value head of `k`, `[tk, dHead]` (``head(_:positions:heads:dHead:_:)``).
    ///   - bias: `[heads, tq, tk]`.
    static func unmaskedHead(q: Tensor, kHead: [Float], tk: Int, h: Int, bias: Tensor?, steps: ScoreSteps) -> [Float] {
        let (tq, heads, dHead) = (q.shape[0], q.shape[1], q.shape[2])
        let qh = head(q.data, positions: tq, heads: heads, dHead: dHead, h)
        var s = MatMul.abT(a: qh, b: kHead, m: tq, n: tk, k: dHead)
        let n = tq * tk
        s.withUnsafeMutableBufferPointer { o in
            let scale = steps.scale
            for i in 0..<n { o[i] = o[i] * scale }
            if let cap = steps.softcap {
                for i in 0..<n { o[i] = cap * Foundation.tanh(o[i] / cap) }
            }
            if let bias {
                bias.data.withUnsafeBufferPointer { b in
                    let base = h * n
                    for i in 0..<n { o[i] += b[base + i] }
                }
            }
        }
        return s
    }


    /// Head `h`'s scores, masked scores or pattern `[tq, tk]`, as the pass computes them a head at a time.
    static func headScores(q: Tensor, kHead: [Float], tk: Int, h: Int, bias: Tensor?, steps: ScoreSteps,
                           through stage: ScoreStage) -> [Float] {
        let tq = q.shape[0]
        var s = unmaskedHead(q: q, kHead: kHead, tk: tk, h: h, bias: bias, steps: steps)
        guard stage != .unmasked else { return s }
        s.withUnsafeMutableBufferPointer { o in
            if steps.causal || steps.window != nil {
                maskRows(o, tq: tq, tk: tk, start: steps.start, causal: steps.causal, window: steps.window)
            }
            if stage == .pattern { Tensor.softmaxRows(o, n: tk) }
        }
        return s
    }

    /// Heads `heads` of the scores, masked scores or pattern `[heads.count, tq, tk]` (a ``StepRecipe``'s value).
    /// - Parameters:
    ///   - q: `[tq, heads, dHead]`; `k`: `[tk, kvHeads, dHead]`; `bias`: `[heads, tq, tk]`.
    static func scoreHeads(q: Tensor, k: Tensor, bias: Tensor?, steps: ScoreSteps, stage: ScoreStage, heads picked: Range<Int>) -> Tensor {
        let (tq, heads) = (q.shape[0], q.shape[1])
        let (tk, kvHeads, dHead) = (k.shape[0], k.shape[1], k.shape[2])
        let group = heads / kvHeads
        var out: [Float] = []
        out.reserveCapacity(picked.count * tq * tk)
        var kHead: (g: Int, values: [Float])?
        for h in picked {
            let g = h / group
            if kHead?.g != g { kHead = (g, head(k.data, positions: tk, heads: kvHeads, dHead: dHead, g)) }
            out += headScores(q: q, kHead: kHead!.values, tk: tk, h: h, bias: bias, steps: steps, through: stage)
        }
        return Tensor(shape: [picked.count, tq, tk], data: out)
    }

    /// Sums a `[pos, heads, dModel]` per-head result over heads and adds the bias.
    public static func sumHeads(_ result: Tensor, bias: Tensor?) -> Tensor {
        let (t, heads, dModel) = (result.shape[0], result.shape[1], result.shape[2])
        var out = [Float](repeating: 0, count: t * dModel)
        // Each value summed over the heads in order, then the bias: eight values at a time.
        func add(_ o: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>) {
            var d = 0
            while d + 8 <= dModel {
                let s = UnsafeRawPointer(o + d).loadUnaligned(as: SIMD8<Float>.self) + UnsafeRawPointer(r + d).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(o + d).storeBytes(of: s, as: SIMD8<Float>.self)
                d += 8
            }
            while d < dModel { o[d] += r[d]; d += 1 }
        }
        out.withUnsafeMutableBufferPointer { op in
            result.data.withUnsafeBufferPointer { rp in
                for i in 0..<t {
                    let o = op.baseAddress! + i * dModel
                    for h in 0..<heads { add(o, rp.baseAddress! + (i * heads + h) * dModel) }
                    if let bias { bias.data.withUnsafeBufferPointer { add(o, $0.baseAddress!) } }
                }
            }
        }
        return Tensor(shape: [t, dModel], data: out)
    }
}
