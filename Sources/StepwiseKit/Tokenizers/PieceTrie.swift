/// A byte trie of vocabulary pieces (their UTF-8), for the prefix searches of Unigram's lattice.
///
/// Nodes are stored breadth-first per parent: the children of a node are consecutive, sorted by their
/// byte, so a step is a search in a short sorted run, and the whole trie is five arrays (about 11 bytes
/// per node: 1.5M nodes for mT5's 250k pieces).
struct PieceTrie: Sendable {
    private var label: [UInt8] = [0]
    /// The piece id ending at each node, -1 where none does.
    private(set) var value: [Int32] = [-1]
    private var childStart: [Int32] = [0]
    private var childCount: [UInt16] = [0]

    /// The root node.
    static let root = 0

    /// Builds the trie; empty keys are left out (`tokenizers` never matches them either).
    /// - Parameters:
    ///   - keys: the pieces' bytes, by id.
    ///   - duplicate: called with the two ids of a key given twice (the first, then the second); the trie
    ///     keeps the later id, as `tokenizers`' piece → id map does.
    /// - Complexity: O(total key bytes · log) for the sort, then O(total key bytes).
    init(keys: [[UInt8]], duplicate: (Int, Int) throws -> Void) rethrows {
        let order = keys.indices.filter { !keys[$0].isEmpty }.sorted { a, b in
            keys[a].lexicographicallyPrecedes(keys[b]) || (keys[a] == keys[b] && a < b)
        }
        // Depth-first with an explicit stack; a node's children are created together, so they are consecutive.
        var stack: [(node: Int, lo: Int, hi: Int, depth: Int)] = [(0, 0, order.count, 0)]
        while let (node, lo, hi, d) = stack.popLast() {
            var i = lo
            while i < hi && keys[order[i]].count == d {
                if value[node] >= 0 { try duplicate(Int(value[node]), order[i]) }
                value[node] = Int32(order[i])
                i += 1
            }
            childStart[node] = Int32(label.count)
            var count = 0
            var pending: [(node: Int, lo: Int, hi: Int, depth: Int)] = []
            while i < hi {
                let b = keys[order[i]][d]
                var j = i + 1
                while j < hi && keys[order[j]][d] == b { j += 1 }
                let child = label.count
                label.append(b)
                value.append(-1)
                childStart.append(0)
                childCount.append(0)
                pending.append((child, i, j, d + 1))
                count += 1
                i = j
            }
            childCount[node] = UInt16(count)
            stack += pending.reversed()
        }
    }

    /// The child of `node` along byte `b`, nil if none.
    @inline(__always)
    func child(_ node: Int, _ b: UInt8) -> Int? {
        var lo = Int(childStart[node]), hi = lo + Int(childCount[node])
        while lo < hi {
            let mid = (lo + hi) >> 1
            let l = label[mid]
            if l == b { return mid }
            if l < b { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    /// The id of the piece whose bytes are exactly `bytes`, nil if none.
    func id<C: Collection>(of bytes: C) -> Int? where C.Element == UInt8 {
        var node = Self.root
        for b in bytes {
            guard let c = child(node, b) else { return nil }
            node = c
        }
        return value[node] >= 0 ? Int(value[node]) : nil
    }
}
