import Foundation

/// Chooses the next token from one row of logits, stage by stage, so each stage can be shown.
///
/// The stages, in order (each a ``Step`` named `sample.*`):
/// 1. `sample.logits`: the raw scores `[vocab]`.
/// 2. `sample.scaled`: `logits / T`. Temperature 0 is greedy: the highest logit wins (ties: lower id),
///    the later stages show that one token, and no random number is used.
/// 3. `sample.top_k`: the `k` highest scores are kept, the rest set to `-inf`. Exactly `k` are kept:
///    tokens are ranked by logit, highest first, equal logits by lower id.
/// 4. `sample.top_p`: the survivors' probabilities (softmax of the scaled scores), in that rank order,
///    with their running sum `[rank, 3]`; the smallest leading group whose sum is `>= p` is kept (at
///    least one token; `p = 1` keeps all).
/// 5. `sample.probs`: the kept probabilities renormalised to sum to 1 `[vocab]`.
/// 6. `sample.draw`: `u = rng.nextDouble()` (``SplitMix64``, 53 bits, in `[0, 1)`); walking the kept
///    tokens in rank order (descending probability, equal logits by lower id), the first whose cumulative
///    probability is `> u` is chosen. Tokens of probability 0 can never be chosen. Exactly one
///    random number is consumed per non-greedy sample, so a seed fixes the whole sequence on every machine.
/// 7. `sample.choice`: the token, its probability and the model's own (temperature 1) probability.
///
/// Softmaxes are computed in `Double` as `exp((l - max) / T)`, so any positive temperature (1e-6, 100)
/// gives finite probabilities. A NaN logit is treated as `-inf` (never chosen); if every logit is `-inf`,
/// the kept tokens are equally likely.
public enum Sampler {
    /// Samples one token and records every stage.
    /// - Parameters:
    ///   - logits: one row of logits `[vocab]`, not empty.
    ///   - settings: temperature, top-k, top-p (the seed is not used here: `rng` is).
    ///   - rng: the generator; advanced by exactly one ``SplitMix64/nextDouble()`` unless greedy.
    ///   - labels: the display label of a token id (``Tokenizer/label(for:)``), for the vocabulary axis.
    /// - Returns: the choice and the seven `sample.*` steps.
    /// - Complexity: O(V log V) for V = `logits.count` (one sort), plus V calls of `labels`.
    public static func sample(logits: [Float], settings: SamplingSettings, rng: inout SplitMix64,
                              labels: (Int) -> String) -> SamplingResult {
        run(logits, settings, draw: { rng.nextDouble() }, labels: logits.indices.map(labels))
    }

    /// Samples one token with a given random number instead of a generator ("what if u were 0.3?").
    /// - Parameter u: in `[0, 1)`; ignored under greedy.
    public static func sample(logits: [Float], settings: SamplingSettings, u: Double,
                              labels: (Int) -> String) -> SamplingResult {
        precondition(u >= 0 && u < 1, "Sampler.sample: u must be in [0, 1), got \(u)")
        return run(logits, settings, draw: { u }, labels: logits.indices.map(labels))
    }

    /// Samples one token without building steps (the fast path for generation). Makes exactly the same
    /// choice as ``sample(logits:settings:rng:labels:)`` from the same generator state.
    public static func pick(logits: [Float], settings: SamplingSettings, rng: inout SplitMix64) -> SamplingResult {
        run(logits, settings, draw: { rng.nextDouble() }, labels: nil)
    }

    /// The final distribution over the vocabulary `[vocab]`: what ``sample(logits:settings:rng:labels:)``
    /// draws from (one-hot under greedy; 0 for tokens dropped by top-k or top-p).
    public static func distribution(logits: [Float], settings: SamplingSettings) -> [Double] {
        let plan = Plan(logits, settings)
        var probs = [Double](repeating: 0, count: logits.count)
        for t in plan.kept { probs[t.id] = t.probability }
        return probs
    }

    /// The final distributions of two settings on the same logits, side by side (for `compare`).
    /// - Parameters:
    ///   - top: the number of rows, `> 0`.
    /// - Returns: up to `top` tokens, ranked by the larger of their two probabilities (ties: lower id);
    ///   tokens with probability 0 under both settings are left out.
    public static func compare(logits: [Float], a: SamplingSettings, b: SamplingSettings, top: Int,
                               labels: (Int) -> String) -> [SamplingComparisonRow] {
        precondition(top > 0, "Sampler.compare: top must be > 0, got \(top)")
        let pa = distribution(logits: logits, settings: a)
        let pb = distribution(logits: logits, settings: b)
        let ids = pa.indices.filter { pa[$0] > 0 || pb[$0] > 0 }.sorted {
            let (x, y) = (max(pa[$0], pb[$0]), max(pa[$1], pb[$1]))
            return x > y || (x == y && $0 < $1)
        }
        return ids.prefix(top).map {
            SamplingComparisonRow(id: $0, label: labels($0), probabilityA: pa[$0], probabilityB: pb[$0])
        }
    }

    // MARK: - Core

    /// Everything before the draw.
    struct Plan {
        /// The logits as `Double`, NaN replaced by `-inf`.
        var logits: [Double]
        var settings: SamplingSettings
        /// Ids surviving top-k, in rank order (greedy: the argmax alone).
        var ranked: [Int]
        /// Softmax of the scaled scores over `ranked`, same order (greedy: `[1]`).
        var probabilities: [Double]
        /// Running sums of `probabilities`.
        var cumulative: [Double]
        /// How many of `ranked` top-p keeps (a prefix).
        var keepCount: Int
        /// The kept tokens with renormalised probabilities, in rank order.
        var kept: [TokenProbability]

        init(_ raw: [Float], _ settings: SamplingSettings) {
            precondition(!raw.isEmpty, "Sampler: empty logits")
            let l = raw.map { $0.isNaN ? -Double.infinity : Double($0) }
            logits = l
            self.settings = settings
            if settings.isGreedy {
                var best = 0
                for i in 1..<l.count where l[i] > l[best] { best = i }
                ranked = [best]
                probabilities = [1]
                cumulative = [1]
                keepCount = 1
                kept = [TokenProbability(id: best, probability: 1)]
                return
            }
            // Rank order: highest logit first, equal logits by lower id. Dividing by T > 0 keeps it.
            let order = Sampler.rankOrder(raw)
            let k = settings.topK == 0 ? l.count : min(settings.topK, l.count)
            ranked = Array(order.prefix(k))
            probabilities = Sampler.softmax(l, over: ranked, temperature: settings.temperature)
            var sum = 0.0
            cumulative = probabilities.map { sum += $0; return sum }
            keepCount = ranked.count
            if settings.topP < 1, let j = cumulative.firstIndex(where: { $0 >= settings.topP }) {
                keepCount = j + 1
            }
            let (ids, probs, n) = (ranked, probabilities, keepCount)
            let mass = probs[0..<n].reduce(0, +)
            kept = (0..<n).map { TokenProbability(id: ids[$0], probability: probs[$0] / mass) }
        }

        /// The rank in `kept` chosen by `u`: the first whose cumulative probability exceeds `u`
        /// (if rounding leaves the total just below `u`, the last token of non-zero probability).
        func rank(for u: Double) -> Int {
            var sum = 0.0
            for (j, t) in kept.enumerated() {
                sum += t.probability
                if sum > u { return j }
            }
            return kept.lastIndex { $0.probability > 0 } ?? 0
        }

        /// The model's own probability of `id`: softmax of the raw logits at temperature 1.
        func modelProbability(_ id: Int) -> Double {
            var m = -Double.infinity
            for x in logits where x > m { m = x }
            var sum = 0.0
            for x in logits { sum += exp(Sampler.shifted(x, max: m, temperature: 1)) }
            return exp(Sampler.shifted(logits[id], max: m, temperature: 1)) / sum
        }
    }

    /// The ids of `logits` highest first, equal logits (NaN counted as −∞, −0 as +0) by lower id: the
    /// order of sorting by that comparison, found by a radix sort of one 64-bit key per id (a 262,144-entry
    /// vocabulary sorted with a comparison took a third of each generated token).
    static func rankOrder(_ logits: [Float]) -> [Int] {
        precondition(logits.count < 1 << 32, "Sampler.rankOrder: too many logits")
        // High half: the logit's bits made to sort ascending as the logit descends; low half: the id.
        var keys = logits.enumerated().map { i, x -> UInt64 in
            let v: Float = x.isNaN ? -.infinity : (x == 0 ? 0 : x)
            let b = v.bitPattern
            let ascending = b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
            return UInt64(~ascending) << 32 | UInt64(i)
        }
        var spare = [UInt64](repeating: 0, count: keys.count)
        var counts = [Int](repeating: 0, count: 257)
        // Least significant byte first; a byte every key shares moves nothing and is skipped.
        for shift in stride(from: 0, to: 64, by: 8) {
            for i in counts.indices { counts[i] = 0 }
            for k in keys { counts[Int((k >> UInt64(shift)) & 0xFF) + 1] += 1 }
            if counts.contains(keys.count) { continue }
            for i in 1..<counts.count { counts[i] += counts[i - 1] }
            for k in keys {
                let d = Int((k >> UInt64(shift)) & 0xFF)
                spare[counts[d]] = k
                counts[d] += 1
            }
            swap(&keys, &spare)
        }
        return keys.map { Int($0 & 0xFFFF_FFFF) }
    }

    /// `(x - max) / T`, defined for every case: `+inf` logits share all the mass, and when every logit
    /// is `-inf` all are equal (0).
    static func shifted(_ x: Double, max m: Double, temperature t: Double) -> Double {
        if m == .infinity { return x == .infinity ? 0 : -.infinity }
        if m == -.infinity { return 0 }
        if x == m { return 0 }
        return (x - m) / t
    }

    /// Softmax of `logits[ids] / T`, stable at any `T > 0`: the largest entry contributes `exp(0) = 1`,
    /// so the sum is at least 1 and nothing overflows.
    static func softmax(_ logits: [Double], over ids: [Int], temperature t: Double) -> [Double] {
        var m = -Double.infinity
        for id in ids where logits[id] > m { m = logits[id] }
        let w = ids.map { exp(shifted(logits[$0], max: m, temperature: t)) }
        let sum = w.reduce(0, +)
        return w.map { $0 / sum }
    }

    static func run(_ logits: [Float], _ settings: SamplingSettings, draw: () -> Double,
                    labels: [String]?) -> SamplingResult {
        let plan = Plan(logits, settings)
        let u: Double? = settings.isGreedy ? nil : draw()
        let rank = u.map { plan.rank(for: $0) } ?? 0
        let chosen = plan.kept[rank]
        var result = SamplingResult(
            tokenID: chosen.id, probability: chosen.probability, modelProbability: plan.modelProbability(chosen.id),
            u: u, rank: rank, kept: plan.kept, keptByTopK: plan.ranked.count, steps: [])
        if let labels {
            result.steps = plan.steps(raw: logits, result: result, labels: labels)
        }
        return result
    }
}
