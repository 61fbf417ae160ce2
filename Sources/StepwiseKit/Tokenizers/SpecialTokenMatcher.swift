/// Special tokens matched whole in a text before any other rule: leftmost first, and the longest among
/// those starting there (as Hugging Face `tokenizers` matches added tokens). Shared by the tokenizers.
struct SpecialTokenMatcher: Sendable {
    /// A piece of the text: a matched special token (its text and id), or the text between matches.
    enum Segment {
        case special(String, Int)
        case text([Unicode.Scalar])
    }

    /// Candidates by first scalar, longest first (equal lengths by id).
    private let byFirst: [Unicode.Scalar: [(scalars: [Unicode.Scalar], id: Int)]]

    /// - Parameter specials: each special token's text and id; empty texts are ignored.
    init(_ specials: [(text: String, id: Int)]) {
        var m: [Unicode.Scalar: [(scalars: [Unicode.Scalar], id: Int)]] = [:]
        for (text, id) in specials {
            let sc = Array(text.unicodeScalars)
            guard let f = sc.first else { continue }
            m[f, default: []].append((sc, id))
        }
        for k in m.keys {
            m[k]!.sort { $0.scalars.count > $1.scalars.count || ($0.scalars.count == $1.scalars.count && $0.id < $1.id) }
        }
        byFirst = m
    }

    /// The text cut at special tokens; `transform` is applied to each stretch of text between them.
    func segments(_ text: String, transform: ([Unicode.Scalar]) -> [Unicode.Scalar] = { $0 }) -> [Segment] {
        let s = Array(text.unicodeScalars)
        var out: [Segment] = []
        var start = 0, i = 0
        func flush(_ end: Int) {
            guard start < end else { return }
            out.append(.text(transform(Array(s[start..<end]))))
        }
        while !byFirst.isEmpty && i < s.count {
            if let candidates = byFirst[s[i]],
               let hit = candidates.first(where: { i + $0.scalars.count <= s.count && s[i..<i + $0.scalars.count].elementsEqual($0.scalars) }) {
                flush(i)
                var v = String.UnicodeScalarView()
                v.append(contentsOf: hit.scalars)
                out.append(.special(String(v), hit.id))
                i += hit.scalars.count
                start = i
            } else {
                i += 1
            }
        }
        flush(s.count)
        return out
    }
}
