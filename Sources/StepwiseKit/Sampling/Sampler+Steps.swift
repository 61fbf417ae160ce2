import Foundation

// MARK: - The seven `sample.*` steps

extension Sampler.Plan {
    /// Builds the steps shown by the REPL, from the plan and the choice it led to.
    /// - Parameters:
    ///   - raw: the logits as given `[vocab]`.
    ///   - labels: one display label per vocabulary id.
    func steps(raw: [Float], result: SamplingResult, labels: [String]) -> [Step] {
        let v = raw.count
        let vocab = Axis("vocab", labels: labels)
        let field = Axis("field", labels: ["token id", "probability", "cumulative"])
        let t = settings.temperature
        let greedy = settings.isGreedy
        let top = ranked[0]
        let chosen = result.tokenID
        var steps: [Step] = []

        // 1. Logits
        steps.append(Step(
            name: "sample.logits", title: "Next-token logits", formula: "logits[-1, :]",
            explanation: "The model's score for each of the \(v) tokens as the next one: the higher the score, the more the model expects it.",
            tensor: Tensor(shape: [v], data: raw), axes: [vocab], inputs: ["logits"]))

        // 2. Temperature
        let scaled: [Float] = greedy ? raw : logits.map { Self.displayFloat($0 / t) }
        let scaledWhy: String
        if greedy {
            scaledWhy = "Temperature 0 means greedy: no randomness, the token with the highest score is always taken (top-k and top-p do not matter)."
        } else if t < 1 {
            scaledWhy = "Dividing by T = \(Self.number(t)) (below 1) stretches the gaps between scores, so the likely tokens become even more likely."
        } else if t > 1 {
            scaledWhy = "Dividing by T = \(Self.number(t)) (above 1) shrinks the gaps between scores, so the choice becomes more random."
        } else {
            scaledWhy = "T = 1 leaves the scores as they are: sampling follows the model's own probabilities."
        }
        steps.append(Step(
            name: "sample.scaled", title: "Temperature",
            formula: greedy ? "T = 0: greedy, no scaling" : "scaled = logits / T,  T = \(Self.number(t))",
            explanation: scaledWhy, tensor: Tensor(shape: [v], data: scaled), axes: [vocab], inputs: ["sample.logits"]))

        // 3. Top-k
        var filtered = [Float](repeating: -.infinity, count: v)
        for id in ranked { filtered[id] = scaled[id] }
        let k = ranked.count
        let topKFormula: String, topKWhy: String
        if greedy {
            topKFormula = "greedy: keep the highest score only, others → −∞"
            topKWhy = "Greedy keeps only the single highest-scoring token, \(labels[top]) (equal scores go to the lower id)."
        } else if settings.topK == 0 || settings.topK >= v {
            topKFormula = settings.topK == 0 ? "top-k off (k = 0): kept \(k) of \(v)" : "k = \(settings.topK) ≥ vocabulary: kept \(k) of \(v)"
            topKWhy = "Top-k is off, so all \(v) tokens stay in the running."
        } else {
            topKFormula = "keep the k = \(k) highest scores, others → −∞: kept \(k) of \(v)"
            topKWhy = "Top-k keeps only the \(k) highest-scoring tokens (kept \(k) of \(v)); the rest get −∞, probability 0, so a rare token can never be picked."
        }
        steps.append(Step(
            name: "sample.top_k", title: "Top-k filter", formula: topKFormula, explanation: topKWhy,
            tensor: Tensor(shape: [v], data: filtered), axes: [vocab], inputs: ["sample.scaled"]))

        // 4. Top-p
        var table: [Float] = []
        table.reserveCapacity(3 * k)
        for j in 0..<k {
            table += [Float(ranked[j]), Float(probabilities[j]), Float(cumulative[j])]
        }
        let rankAxis = Axis("rank", labels: ranked.map { labels[$0] })
        let topPFormula: String, topPWhy: String
        if greedy {
            topPFormula = "greedy: the top token has probability 1"
            topPWhy = "Greedy leaves one token, so there is nothing for top-p to cut."
        } else if settings.topP >= 1 {
            topPFormula = "top-p off (p = 1): kept \(k) of \(k)"
            topPWhy = "Top-p is off, so all \(k) tokens are kept; the table lists their probabilities, largest first, with the running total."
        } else {
            let p = Self.number(settings.topP)
            topPFormula = "keep the smallest leading group with cumulative ≥ p = \(p): kept \(keepCount) of \(k)"
            topPWhy = "Sorted by probability with a running total: the first \(keepCount) token\(keepCount == 1 ? "" : "s") already add up to \(Self.number(cumulative[keepCount - 1])) ≥ p = \(p), so kept \(keepCount) of \(k) and dropped the long tail of unlikely tokens."
        }
        steps.append(Step(
            name: "sample.top_p", title: "Top-p (nucleus) filter", formula: topPFormula, explanation: topPWhy,
            tensor: Tensor(shape: [k, 3], data: table), axes: [rankAxis, field], inputs: ["sample.top_k"]))

        // 5. Renormalised probabilities
        var probs = [Float](repeating: 0, count: v)
        for tp in kept { probs[tp.id] = Float(tp.probability) }
        steps.append(Step(
            name: "sample.probs", title: "Final probabilities",
            formula: greedy ? "probs = one-hot(argmax)" : "probs = p / Σ kept p  (0 for dropped tokens)",
            explanation: greedy
                ? "Greedy gives the top token probability 1 and every other token 0."
                : "The \(kept.count) kept token\(kept.count == 1 ? "'s probability is" : "s' probabilities are") rescaled to add up to 1 again; every other token has probability 0.",
            tensor: Tensor(shape: [v], data: probs), axes: [vocab], inputs: ["sample.top_p"]))

        // 6. Draw
        var walk: [Float] = []
        walk.reserveCapacity(3 * kept.count)
        var sum = 0.0
        for tp in kept {
            sum += tp.probability
            walk += [Float(tp.id), Float(tp.probability), Float(sum)]
        }
        let reached = kept[0...result.rank].reduce(0) { $0 + $1.probability }
        let drawFormula: String, drawWhy: String
        if let u = result.u {
            drawFormula = "u = \(u) (SplitMix64); choose the first rank with cumulative > u: rank \(result.rank)"
            drawWhy = "A random number u = \(String(format: "%.4f", (u * 1e4).rounded(.down) / 1e4)) between 0 and 1 is drawn; walking down the list and adding up probabilities, \(labels[chosen]) at rank \(result.rank) is the first whose running total (\(String(format: "%.4f", reached))) passes it."
        } else {
            drawFormula = "greedy: no random number, take rank 0"
            drawWhy = "Greedy draws no random number: the top token is always the answer."
        }
        steps.append(Step(
            name: "sample.draw", title: "Random draw", formula: drawFormula, explanation: drawWhy,
            tensor: Tensor(shape: [kept.count, 3], data: walk),
            axes: [Axis("rank", labels: kept.map { labels[$0.id] }), field], inputs: ["sample.probs"]))

        // 7. Choice
        steps.append(Step(
            name: "sample.choice", title: "Chosen token", formula: "next = \(labels[chosen]) (id \(chosen))",
            explanation: "The next token is \(labels[chosen]): it had a \(Self.percent(result.probability)) chance with these settings (the model alone gave it \(Self.percent(result.modelProbability))).",
            tensor: Tensor(shape: [3], data: [Float(chosen), Float(result.probability), Float(result.modelProbability)]),
            axes: [Axis("field", labels: ["token id", "probability", "model probability"])], inputs: ["sample.draw"]))
        return steps
    }

    /// A `Double` shown as `Float`: infinities stay, finite values beyond `Float`'s range are clamped.
    static func displayFloat(_ x: Double) -> Float {
        if x.isInfinite { return x > 0 ? .infinity : -.infinity }
        return Float(max(-Double(Float.greatestFiniteMagnitude), min(Double(Float.greatestFiniteMagnitude), x)))
    }

    static func number(_ x: Double) -> String { String(format: "%.4g", x) }

    static func percent(_ x: Double) -> String {
        x >= 0.001 || x == 0 ? String(format: "%.1f%%", 100 * x) : String(format: "%.2g%%", 100 * x)
    }
}
