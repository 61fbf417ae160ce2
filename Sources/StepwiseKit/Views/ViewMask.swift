/// Which cells of a `[query_pos, key_pos]` matrix a view should draw as masked.
///
/// Cells whose value is `-inf` (masked attention scores) are always drawn as masked; a mask adds
/// cells whose stored value is an ordinary number, such as the zeros above the diagonal of a causal
/// attention pattern.
public enum ViewMask: Sendable, Equatable {
    /// Only `-inf` cells are masked.
    case none
    /// A causal model: a query may not see later keys. With `rows` queries and `cols` keys the
    /// queries are the last `rows` positions (a KV-cached pass), so cell `(q, k)` is masked when
    /// `k > q + cols - rows`.
    case causal
    /// A causal mask with a sliding window of `W` keys (Mistral, Gemma's local layers): cell `(q, k)` is
    /// also masked when `k ≤ q + cols - rows - W`.
    case causalWindow(Int)
    /// A causal mask on a slice of a pattern: row `r` is query position `queries[r]` and column `c` key
    /// position `keys[c]` of the full matrix, whose `offset` first keys are cached positions; masked
    /// when `keys[c] > queries[r] + offset` (or, with a `window`, `keys[c] ≤ queries[r] + offset − window`).
    case causalPositions(queries: [Int], keys: [Int], offset: Int, window: Int? = nil)

    /// The sliding window, if any.
    public var window: Int? {
        switch self {
        case .causalWindow(let w): return w
        case .causalPositions(_, _, _, let w): return w
        case .none, .causal: return nil
        }
    }

    /// Whether cell `(row, col)` of a `[rows, cols]` matrix is masked (before looking at its value).
    public func isMasked(row: Int, col: Int, rows: Int, cols: Int) -> Bool {
        switch self {
        case .none: return false
        case .causal: return col > row + (cols - rows)
        case .causalWindow(let w):
            let q = row + (cols - rows)
            return col > q || col <= q - w
        case let .causalPositions(queries, keys, offset, window):
            guard row < queries.count, col < keys.count else { return false }
            let q = queries[row] + offset
            return keys[col] > q || window.map { keys[col] <= q - $0 } ?? false
        }
    }
}
