/// Special tokens matched whole in a text before any other rule: leftmost first, and the longest among
/// those starting there (as Hugging Face `tokenizers` matches added tokens). Shared by the tokenizers.
///
/// A token marked `lstrip` also takes the whitespace before it (back to the previous match), one marked
/// `rstrip` the whitespace after it, as `tokenizers` does for added tokens with those flags (BART's
/// `<mask>`); that whitespace is then part of no text segment.
struct SpecialTokenMatcher: Sendable {
    /// A piece of the text: a matched special token (its text and id), or the text between matches.
    enum Segment {
        case special(String, Int)
        case text([Unicode.Scalar])
    }

    /// Candidates by first scalar, longest first (equal lengths by id).
    private let byFirst: [Unicode.Scalar: [(scalars: [Unicode.Scalar], id: Int)]]
    private let lstrip: Set<Int>
    private let rstrip: Set<Int>

    /// - Parameters:
    ///   - specials: each special token's text and id; empty texts are ignored.
    ///   - lstrip: ids that take the whitespace before them; `rstrip`: after them.
    init(_ specials: [(text: String, id: Int)], lstrip: Set<Int> = [], rstrip: Set<Int> = []) {
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
        self.lstrip = lstrip
        self.rstrip = rstrip
    }

    var isEmpty: Bool { byFirst.isEmpty }

    /// The text cut at special tokens; `transform` is applied to each stretch of text between them.
    func segments(_ text: String, transform: ([Unicode.Scalar]) -> [Unicode.Scalar] = { $0 }) -> [Segment] {
        located(Array(text.unicodeScalars)).map { s in
            if case .text(let t) = s.segment { return .text(transform(t)) }
            return s.segment
        }
    }

    /// The scalars cut at special tokens, each segment with the scalar offset where it starts.
    func located(_ s: [Unicode.Scalar]) -> [(segment: Segment, start: Int)] {
        var out: [(segment: Segment, start: Int)] = []
        var start = 0, i = 0
        func flush(_ end: Int) {
            guard start < end else { return }
            out.append((.text(Array(s[start..<end])), start))
        }
        while !byFirst.isEmpty && i < s.count {
            if let candidates = byFirst[s[i]],
               let hit = candidates.first(where: { i + $0.scalars.count <= s.count && s[i..<i + $0.scalars.count].elementsEqual($0.scalars) }) {
                var from = i, to = i + hit.scalars.count
                if lstrip.contains(hit.id) {
                    while from > start && s[from - 1].properties.isWhitespace { from -= 1 }
                }
                if rstrip.contains(hit.id) {
                    while to < s.count && s[to].properties.isWhitespace { to += 1 }
                }
                flush(from)
                var v = String.UnicodeScalarView()
                v.append(contentsOf: hit.scalars)
                out.append((.special(String(v), hit.id), from))
                i = to
                start = i
            } else {
                i += 1
            }
        }
        flush(s.count)
        return out
    }
}
