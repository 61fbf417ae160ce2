/// Chooses which indices of a long axis a view shows: all of them when they fit, else the first
/// and last ones around a single gap (`nil`), where the elision mark is drawn.
enum Elision {
    /// Indices `0..<count` when `count <= limit`, else `limit` indices (at least one) split
    /// ⌈limit/2⌉ before and ⌊limit/2⌋ after a `nil` gap.
    static func pick(count: Int, limit: Int) -> [Int?] {
        if count <= limit { return Array(0..<count) }
        let k = max(1, limit)
        let head = (k + 1) / 2
        let tail = k / 2
        return Array(0..<head) + [nil] + Array((count - tail)..<count)
    }
}
