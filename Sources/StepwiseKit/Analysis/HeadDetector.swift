import Foundation

/// Scores attention heads for known behaviours, after TransformerLens's `head_detector`.
///
/// Each behaviour is a 0/1 *detection pattern* `D[query, key]` (lower triangular). A head's score is
/// TransformerLens's `"mul"` measure — the fraction of the head's attention that falls on the
/// pattern, `Σ P·D / Σ P` — taken over the query rows where the pattern has at least one key (rows
/// with nothing to find, such as the first copy of a repeated sequence, are left out, so a perfect
/// head scores 1). ``Score/transformerLens`` keeps TransformerLens's own number, which divides by
/// every row (`exclude_bos` and `exclude_current_token` off).
public enum HeadDetector {
    /// A behaviour to look for.
    public enum Kind: String, CaseIterable, Sendable {
        /// Attends to the previous position: `D[q, q−1] = 1`.
        case previous
        /// Attends to earlier positions holding the same token: `D[q, k] = 1` for `k < q`, `id[k] == id[q]`.
        case duplicate
        /// Attends to the token after an earlier occurrence of the current one: `D[q, k+1] = 1` for
        /// `k < q`, `id[k] == id[q]`, `k + 1 ≤ q`.
        case induction
        /// Attends to position 0, the attention sink: `D[q, 0] = 1` for `q ≥ 1` (not a TransformerLens pattern).
        case first

        /// Accepted spellings, e.g. `prev`, `previous_token_head`.
        public init?(name: String) {
            switch name.lowercased() {
            case "previous", "prev", "previous-token", "previous_token_head": self = .previous
            case "duplicate", "dup", "duplicate-token", "duplicate_token_head": self = .duplicate
            case "induction", "ind", "induction_head": self = .induction
            case "first", "sink", "bos", "first-token": self = .first
            default: return nil
            }
        }

        /// A one-letter mark for the summary table.
        public var letter: String {
            switch self {
            case .previous: return "P"
            case .duplicate: return "D"
            case .induction: return "I"
            case .first: return "S"
            }
        }

        /// What the score measures, for the output.
        public var explanation: String {
            switch self {
            case .previous: return "attention from each position to the one just before it"
            case .duplicate: return "attention from a token to earlier copies of the same token"
            case .induction: return "attention from a token to the token after an earlier copy of it (A B … A → B)"
            case .first: return "attention to position 0 (the attention sink), from positions 1 on"
            }
        }
    }

    /// One head's score.
    public struct Score: Sendable, Equatable {
        /// Fraction of attention on the pattern, over the rows where it applies (0…1).
        public var value: Float
        /// TransformerLens's `detect_head` value: the same sum divided by every row's attention.
        public var transformerLens: Float
        /// Query rows the pattern applies to, and all query rows.
        public var rows: Int
        public var allRows: Int
    }

    /// The detection pattern `[pos, pos]` for `ids`.
    public static func pattern(_ kind: Kind, ids: [Int]) -> Tensor {
        let t = ids.count
        var d = Tensor.zeros([t, t])
        for q in 0..<t {
            switch kind {
            case .previous:
                if q >= 1 { d[q, q - 1] = 1 }
            case .duplicate:
                for k in 0..<q where ids[k] == ids[q] { d[q, k] = 1 }
            case .induction:
                for k in 0..<q where ids[k] == ids[q] && k + 1 <= q { d[q, k + 1] = 1 }
            case .first:
                if q >= 1 { d[q, 0] = 1 }
            }
        }
        return d
    }

    /// Scores one head's pattern `[query_pos, key_pos]` (square) against a detection pattern.
    public static func score(pattern p: Tensor, detection d: Tensor) -> Score {
        precondition(p.rank == 2 && p.shape == d.shape && p.shape[0] == p.shape[1],
                     "HeadDetector.score: pattern \(p.shape) vs detection \(d.shape)")
        let t = p.shape[0]
        var hit = 0.0, total = 0.0, applicable = 0.0
        var rows = 0
        for q in 0..<t {
            var rowHit = 0.0, rowSum = 0.0, any = false
            for k in 0..<t {
                let w = Double(p.data[q * t + k])
                rowSum += w
                if d.data[q * t + k] != 0 { rowHit += w * Double(d.data[q * t + k]); any = true }
            }
            hit += rowHit
            total += rowSum
            if any { applicable += rowSum; rows += 1 }
        }
        return Score(value: applicable > 0 ? Float(hit / applicable) : 0,
                     transformerLens: total > 0 ? Float(hit / total) : 0, rows: rows, allRows: t)
    }

    /// Scores every head of a trace: `[layer][head]`.
    /// - Throws: ``StepwiseError`` if a layer has no square attention pattern (an incremental pass).
    public static func scores(_ kind: Kind, trace: Trace, layers: Int) throws -> [[Score]] {
        let ids = trace.tokenIDs
        let detection = pattern(kind, ids: ids)
        return try (0..<layers).map { l in
            let name = HookName.pattern(layer: l).name
            guard let step = trace[name] else {
                throw StepwiseError(.model, trace.absence(of: name) ?? "the trace has no attention pattern for layer \(l)")
            }
            let (heads, tq, tk) = (step.shape[0], step.shape[1], step.shape[2])
            guard tq == tk, tq == ids.count else {
                throw StepwiseError(.model, "layer \(l)'s pattern is \(tq)×\(tk): head detection needs a full pass over the prompt")
            }
            return (0..<heads).map { h in score(pattern: step.sliced([.index(h)]), detection: detection) }
        }
    }

    /// A prompt of `length` random tokens repeated twice, with the BOS id first when the tokenizer adds one.
    ///
    /// Tokens are drawn without repetition (when the range allows) by ``SplitMix64`` from the middle of the
    /// vocabulary — ids `vocab/10 ..< vocab − vocab/10`, capped to `1000 ..< 20000` for large vocabularies —
    /// and never a special token.
    public static func repeatedRandomPrompt(vocabularySize v: Int, specials: SpecialTokens, length: Int = 40,
                                            seed: UInt64 = 0) -> [Int] {
        precondition(v > 0 && length > 0, "HeadDetector.repeatedRandomPrompt: empty vocabulary or length")
        let lo = min(v / 10, 1000)
        let hi = max(lo + 1, min(v - v / 10, 20000))
        let skip = Set([specials.bos, specials.eos, specials.unknown, specials.padding].compactMap { $0 })
        let pool = (lo..<hi).filter { !skip.contains($0) }
        var rng = SplitMix64(seed: seed)
        var chosen: [Int] = []
        var used = Set<Int>()
        while chosen.count < length {
            let id = pool[Int(rng.next() % UInt64(pool.count))]
            if pool.count >= length && used.contains(id) { continue }
            used.insert(id)
            chosen.append(id)
        }
        var ids = chosen + chosen
        if specials.addBOS, let b = specials.bos { ids.insert(b, at: 0) }
        return ids
    }
}
