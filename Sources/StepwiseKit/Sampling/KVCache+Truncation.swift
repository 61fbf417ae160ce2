extension KVCache {
    /// Forgets every position from `length` on, so a pass can be run again (recorded this time).
    ///
    /// Each layer's keys and values are `[pos, width]` row-major, so the first `length` rows are kept.
    func truncate(to newLength: Int) {
        precondition(newLength >= 0 && newLength <= length, "KVCache.truncate: \(newLength) not in 0...\(length)")
        guard newLength < length else { return }
        for l in keys.indices {
            let width = length == 0 ? 0 : keys[l].count / length
            keys[l].removeLast(keys[l].count - newLength * width)
            let vWidth = length == 0 ? 0 : values[l].count / length
            values[l].removeLast(values[l].count - newLength * vWidth)
        }
        tokenIDs.removeLast(tokenIDs.count - min(tokenIDs.count, newLength))
        length = newLength
    }
}
