import Foundation

/// A head's QK and OV circuits on the vocabulary, as in *A Mathematical Framework for Transformer
/// Circuits* (Elhage et al., 2021): the direct path through the token embedding only, ignoring layer
/// norms, positions and earlier layers.
///
/// - QK: `W_E W_Q (W_E W_K)ᵀ` `[query token, key token]`: how much a query token attends to a key token.
/// - OV: `W_E W_V W_O W_U` `[source token, output token]`: which logits a head raises for the token it attends to.
///
/// A real vocabulary makes these `vocab × vocab` (49,152² for SmolLM2), so both are computed for a
/// token subset through their low-rank factors, `[n, d_head] · [d_head, n]`.
public enum Circuits {
    /// One cell of a circuit: `(row token, column token, value)`.
    public struct TokenPair: Sendable, Equatable {
        public var from: Int
        public var to: Int
        public var value: Float
    }

    /// A circuit restricted to `tokens`.
    public struct Summary: Sendable {
        /// The token ids the circuit was restricted to (rows and columns, in this order).
        public var tokens: [Int]
        /// The largest entries, largest first.
        public var top: [TokenPair]
    }

    /// The OV circuit's summary and copying statistics.
    public struct OVSummary: Sendable {
        public var circuit: Summary
        /// `Re(Σλ) / Σ|λ|` over the eigenvalues of the OV circuit on the subset (the paper's copying
        /// score): near 1 for a head that copies, near −1 for one that suppresses.
        public var copyingScore: Double
        /// Fraction of the (at most `d_head`) nonzero eigenvalues with a positive real part.
        public var positiveFraction: Double
        /// Fraction of source tokens whose own logit is the one the head raises most.
        public var selfTopFraction: Double
        /// The eigenvalues (of the `d_head × d_head` matrix with the same nonzero spectrum).
        public var eigenvalues: [Eigenvalues.Value]
    }

    /// The first `count` ids of the vocabulary that are not special tokens (BOS, EOS, UNK, padding).
    ///
    /// Byte-level BPE vocabularies list their earliest (most frequent) merges first, so the first ids
    /// are mostly common pieces.
    public static func tokenSubset(vocabularySize: Int, specials: SpecialTokens, count: Int) -> [Int] {
        let skip = Set([specials.bos, specials.eos, specials.unknown, specials.padding].compactMap { $0 })
        var out: [Int] = []
        var id = 0
        while out.count < count && id < vocabularySize {
            if !skip.contains(id) { out.append(id) }
            id += 1
        }
        return out
    }

    /// The `k` largest entries of an `[n, n]` matrix over `tokens`.
    static func top(_ m: Tensor, tokens: [Int], k: Int) -> [TokenPair] {
        let n = m.shape[1]
        var best: [(Int, Float)] = []
        for (i, v) in m.data.enumerated() where best.count < k || v > best[best.count - 1].1 {
            let at = best.firstIndex { $0.1 < v } ?? best.count
            best.insert((i, v), at: at)
            if best.count > k { best.removeLast() }
        }
        return best.map { TokenPair(from: tokens[$0.0 / n], to: tokens[$0.0 % n], value: $0.1) }
    }

    /// The QK circuit `(W_E W_Q)(W_E W_K)ᵀ` on `tokens`, scaled by `1/√d_head` like the scores.
    /// - Parameter embedding: the rows of `W_E` for `tokens`, in order (`[tokens, d_model]`).
    /// - Returns: the `[tokens, tokens]` matrix (rows: query token, columns: key token).
    public static func qk(_ w: HeadWeights, embedding e: Tensor, tokens: [Int]) -> Tensor {
        precondition(e.shape[0] == tokens.count, "Circuits.qk: \(e.shape[0]) embedding rows for \(tokens.count) tokens")
        let q = e.matmul(w.wQ), k = e.matmul(w.wK)  // [n, d_head]
        return q.linear(k) * (1 / Float(w.dHead).squareRoot())
    }

    /// Summary of ``qk(_:embedding:tokens:)``: its `k` largest entries.
    public static func qkSummary(_ w: HeadWeights, embedding: Tensor, tokens: [Int], k: Int = 8) -> Summary {
        Summary(tokens: tokens, top: top(qk(w, embedding: embedding, tokens: tokens), tokens: tokens, k: k))
    }

    /// The OV circuit `W_E W_V W_O W_U` on `tokens` (rows: source token, columns: output logit).
    /// - Parameters:
    ///   - embedding: the rows of `W_E` for `tokens` (`[tokens, d_model]`).
    ///   - unembedding: the rows of the `[vocab, d_model]` unembedding for `tokens` (PyTorch layout; `W_U` is its transpose).
    public static func ov(_ w: HeadWeights, embedding: Tensor, unembedding: Tensor, tokens: [Int]) -> Tensor {
        let a = embedding.matmul(w.wV)  // [n, d_head]
        let b = unembedding.matmul(w.wO.transposed(0, 1))  // [n, d_head] = (W_O W_U)ᵀ
        return a.linear(b)
    }

    /// Summary of the OV circuit with the copying statistics.
    ///
    /// The eigenvalues come from `(W_O W_Uₛ)(W_Eₛ W_V)` `[d_head, d_head]`, which has the same nonzero
    /// eigenvalues as the `[n, n]` circuit `(W_Eₛ W_V)(W_O W_Uₛ)`.
    public static func ovSummary(_ w: HeadWeights, embedding: Tensor, unembedding: Tensor, tokens: [Int],
                                 k: Int = 8) -> OVSummary {
        let a = embedding.matmul(w.wV)  // [n, d_head]
        let b = unembedding.matmul(w.wO.transposed(0, 1))  // [n, d_head]
        let full = a.linear(b)  // [n, n]
        let small = b.transposed(0, 1).matmul(a)  // [d_head, d_head]
        let eig = Eigenvalues.of(small)
        let trace = eig.reduce(0) { $0 + $1.re }
        let absSum = eig.reduce(0) { $0 + $1.magnitude }
        let nonzero = eig.filter { $0.magnitude > 1e-9 * max(absSum, 1e-30) }
        let positive = nonzero.filter { $0.re > 0 }.count
        let n = tokens.count
        var selfTop = 0
        for i in 0..<n {
            let row = full.data[(i * n)..<((i + 1) * n)]
            if let m = row.indices.max(by: { row[$0] < row[$1] }), m - i * n == i { selfTop += 1 }
        }
        return OVSummary(circuit: Summary(tokens: tokens, top: top(full, tokens: tokens, k: k)),
                         copyingScore: absSum > 0 ? trace / absSum : 0,
                         positiveFraction: nonzero.isEmpty ? 0 : Double(positive) / Double(nonzero.count),
                         selfTopFraction: n == 0 ? 0 : Double(selfTop) / Double(n), eigenvalues: eig)
    }

    /// The Frobenius norm `√Σx²`.
    public static func frobenius(_ t: Tensor) -> Float {
        Float(t.data.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
    }
}
