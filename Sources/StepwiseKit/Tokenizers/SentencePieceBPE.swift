import Foundation

/// SentencePiece-style BPE (Gemma, Llama 2): spaces become `▁`, the text is split into characters, and
/// adjacent symbols merge until no pair may; characters the vocabulary lacks become byte tokens `<0x..>`.
///
/// Two ways to pick the next merge, one per file kind:
/// - **scores** (GGUF `tokenizer.ggml.model = llama`, as llama.cpp's SentencePiece tokenizer): a pair may
///   merge when the joined text is a piece; the pair whose piece has the highest score merges first,
///   the leftmost among equal scores.
/// - **merges** (Hugging Face tokenizer.json `BPE` with `byte_fallback`): a pair may merge when it is a
///   listed merge; the lowest rank first, the leftmost among equal ranks.
///
/// Control and user-defined tokens (GGUF token types 3 and 4; tokenizer.json `added_tokens`) are matched
/// whole in the raw text first, leftmost and longest, before spaces are replaced.
public final class SentencePieceBPE: Tokenizer {
    /// How merges are chosen.
    public enum Priority: Sendable {
        /// One score per piece (higher merges first).
        case scores([Float])
        /// Ranked pairs (lower merges first).
        case merges([(String, String)])
    }

    let pieces: [String]
    /// Pieces by their UTF-8 bytes: Swift's `String` equality is canonical equivalence, under which
    /// distinct pieces of a real vocabulary (`ায়` spelled with U+09AF U+09BC or with U+09DF) would collide.
    let idsByPiece: [[UInt8]: Int]
    private let pieceBytes: [[UInt8]]
    /// Per piece, a merge priority (lower first) for ``Priority/scores``: the dense rank of its score.
    private let scoreRank: [UInt32]?
    let scores: [Float]?
    /// `(left << 32 | right)` → (rank, merged id) for ``Priority/merges``.
    private let mergeTable: [UInt64: (rank: UInt32, merged: Int32)]
    /// `<0x00>`…`<0xFF>`: the byte tokens, -1 where absent.
    private let byteIDs: [Int32]
    /// Special texts by first scalar, longest first.
    private let specials: SpecialTokenMatcher
    /// A `▁` is put before the text (SentencePiece's `add_dummy_prefix`).
    public let addSpacePrefix: Bool
    public let specialTokens: SpecialTokens
    public let source: String
    /// Which rule picks merges, for `explain` and `info`.
    public let usesScores: Bool

    public var vocabularySize: Int { pieces.count }

    static let space: Unicode.Scalar = "\u{2581}"

    /// - Parameters:
    ///   - pieces: the vocabulary, by id.
    ///   - priority: scores per piece, or ranked merges.
    ///   - specialIDs: ids matched whole in the text (control and user-defined tokens).
    /// - Throws: ``StepwiseError`` naming `source` when the tables contradict each other.
    public init(pieces: [String], priority: Priority, specialIDs: [Int], special: SpecialTokens,
                addSpacePrefix: Bool, source: String) throws {
        self.pieces = pieces
        self.source = source
        self.addSpacePrefix = addSpacePrefix
        specialTokens = special
        let utf8 = pieces.map { Array($0.utf8) }
        pieceBytes = utf8
        var ids: [[UInt8]: Int] = [:]
        ids.reserveCapacity(pieces.count)
        for (i, p) in utf8.enumerated() where ids[p] == nil { ids[p] = i }
        idsByPiece = ids
        var bytes = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = ids[Array(String(format: "<0x%02X>", b).utf8)] { bytes[b] = Int32(id) }
        }
        byteIDs = bytes
        switch priority {
        case .scores(let s):
            guard s.count == pieces.count else {
                throw StepwiseError.file(source, "has \(s.count) scores for \(pieces.count) pieces; there must be one score per piece")
            }
            if let bad = s.firstIndex(where: { !$0.isFinite }) {
                throw StepwiseError.file(source, "the score of piece \(bad) is \(s[bad]); scores must be finite")
            }
            // Equal scores share a rank, so ties go to the leftmost pair as in llama.cpp.
            let distinct = Array(Set(s)).sorted(by: >)
            let rankOf = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, UInt32($0)) })
            scoreRank = s.map { rankOf[$0]! }
            scores = s
            mergeTable = [:]
            usesScores = true
        case .merges(let list):
            var table: [UInt64: (rank: UInt32, merged: Int32)] = [:]
            table.reserveCapacity(list.count)
            for (rank, (a, b)) in list.enumerated() {
                let (ab, bb) = (Array(a.utf8), Array(b.utf8))
                guard let l = ids[ab], let r = ids[bb], let m = ids[ab + bb] else {
                    throw StepwiseError.file(source, "merge \(rank) '\(a) \(b)' joins pieces the vocabulary does not have")
                }
                let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
                if table[key] == nil { table[key] = (UInt32(rank), Int32(m)) }
            }
            mergeTable = table
            scoreRank = nil
            scores = nil
            usesScores = false
        }
        if let bad = specialIDs.first(where: { !pieces.indices.contains($0) }) {
            throw StepwiseError.file(source, "special token id \(bad) is outside the vocabulary (0..<\(pieces.count))")
        }
        specials = SpecialTokenMatcher(specialIDs.map { (text: pieces[$0], id: $0) })
    }

    public func piece(for id: Int) -> String? { pieces.indices.contains(id) ? pieces[id] : nil }
    public func id(for piece: String) -> Int? { idsByPiece[Array(piece.utf8)] }

    /// The bytes a piece stands for: a byte token's byte, else its text with `▁` as a space.
    public func bytes(for id: Int) -> [UInt8]? {
        guard let p = piece(for: id) else { return nil }
        if let b = Self.byteValue(p) { return [b] }
        return Array(p.replacingOccurrences(of: "\u{2581}", with: " ").utf8)
    }

    /// `<0x41>` → 0x41.
    static func byteValue(_ piece: String) -> UInt8? {
        let u = Array(piece.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
    }

    public func decode(_ ids: [Int]) -> String {
        var out: [UInt8] = []
        for id in ids { if let b = bytes(for: id) { out += b } }
        return String(decoding: out, as: UTF8.self)
    }

    public func encode(_ text: String) throws -> [Int] {
        var out: [Int] = []
        for segment in segments(text) {
            switch segment {
            case .special(_, let id): out.append(id)
            case .text(let scalars): merge(try symbols(scalars), into: &out, record: nil)
            }
        }
        return out
    }

    public func explain(_ text: String) throws -> TokenizationExplanation {
        var result: [PretokenExplanation] = []
        for segment in segments(text) {
            switch segment {
            case .special(let s, let id):
                result.append(PretokenExplanation(text: s, initial: [s], rules: [], pieces: [s], ids: [id], isSpecial: true))
            case .text(let scalars):
                let start = try symbols(scalars)
                var rules: [TokenizationRule] = []
                var ids: [Int] = []
                merge(start, into: &ids) { rules.append($0) }
                var v = String.UnicodeScalarView()
                v.append(contentsOf: scalars)
                result.append(PretokenExplanation(text: String(v), initial: start.map { pieces[Int($0)] }, rules: rules,
                                                  pieces: ids.map { pieces[$0] }, ids: ids))
            }
        }
        return TokenizationExplanation(pretokens: result)
    }

    // MARK: - Segments and symbols

    typealias Segment = SpecialTokenMatcher.Segment

    /// The text cut at special tokens (leftmost first, the longest among those starting there).
    func segments(_ text: String) -> [Segment] {
        specials.segments(text)
    }

    /// The starting symbols of a segment: each character (spaces as `▁`) as its piece, or as the byte
    /// tokens of its UTF-8 when the vocabulary lacks it (and as `<unk>` when there are no byte tokens).
    /// - Throws: ``StepwiseError`` when a character has no piece, no byte tokens and there is no `<unk>`.
    func symbols(_ scalars: [Unicode.Scalar]) throws -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(scalars.count + 1)
        var chars = scalars.map { $0 == " " ? Self.space : $0 }
        if addSpacePrefix { chars.insert(Self.space, at: 0) }
        for c in chars {
            if let id = idsByPiece[Array(String(c).utf8)] {
                out.append(Int32(id))
            } else {
                for b in UTF8.encode(c)! {
                    let id = byteIDs[Int(b)]
                    if id >= 0 {
                        out.append(id)
                    } else if let unk = specialTokens.unknown {
                        out.append(Int32(unk))
                    } else {
                        throw StepwiseError(.unsupported, String(format: "the vocabulary has no piece for %@ (U+%04X), no byte token <0x%02X> and no unknown token",
                                                                 String(c).debugDescription, c.value, Int(b)))
                    }
                }
            }
        }
        return out
    }

    // MARK: - Merging

    /// The merge of two adjacent symbols, if they may merge: its priority (lower first) and the new piece.
    @inline(__always)
    private func candidate(_ a: Int32, _ b: Int32) -> (rank: UInt32, merged: Int32)? {
        if let scoreRank {
            guard let m = idsByPiece[pieceBytes[Int(a)] + pieceBytes[Int(b)]] else { return nil }
            return (scoreRank[m], Int32(m))
        }
        return mergeTable[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))]
    }

    /// Merges `start` to its final pieces and appends their ids.
    /// - Parameter record: called after each merge with the rule (for ``explain(_:)``).
    func merge(_ start: [Int32], into out: inout [Int], record: ((TokenizationRule) -> Void)?) {
        var sym = start
        let n = sym.count
        guard n > 1 else { out += sym.map(Int.init); return }
        var next = Array(1...n), prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = MinHeap()
        for k in 0..<(n - 1) {
            if let c = candidate(sym[k], sym[k + 1]) { heap.push(UInt64(c.rank) << 32 | UInt64(k)) }
        }
        while let top = heap.pop() {
            let rank = UInt32(top >> 32), k = Int(top & 0xFFFF_FFFF)
            guard alive[k], next[k] < n else { continue }
            let j = next[k]
            guard let c = candidate(sym[k], sym[j]), c.rank == rank else { continue }  // stale entry
            let (left, right) = (sym[k], sym[j])
            sym[k] = c.merged
            alive[j] = false
            next[k] = next[j]
            if next[j] < n { prev[next[j]] = k }
            if let record {
                var now: [String] = []
                if n <= ByteLevelBPE.maxSnapshotSymbols {
                    var p = 0
                    while p < n { now.append(pieces[Int(sym[p])]); p = next[p] }
                } else {
                    var p = k
                    for _ in 0..<ByteLevelBPE.snapshotContext where prev[p] >= 0 { p = prev[p] }
                    if prev[p] >= 0 { now.append("…") }
                    for _ in 0...(2 * ByteLevelBPE.snapshotContext) where p < n { now.append(pieces[Int(sym[p])]); p = next[p] }
                    if p < n { now.append("…") }
                }
                let a = pieces[Int(left)], b = pieces[Int(right)]
                // By score: the piece's score says why it merged now; by merges: the view shows the rank.
                let why = scores.map { String(format: "  (score %.2f)", $0[Int(c.merged)]) } ?? ""
                record(TokenizationRule(description: "\(a) + \(b) -> \(a + b)" + why,
                                        rank: scores == nil ? Int(rank) : nil, symbols: now))
            }
            if prev[k] >= 0, let c2 = candidate(sym[prev[k]], sym[k]) { heap.push(UInt64(c2.rank) << 32 | UInt64(prev[k])) }
            if next[k] < n, let c2 = candidate(sym[k], sym[next[k]]) { heap.push(UInt64(c2.rank) << 32 | UInt64(k)) }
        }
        var p = 0
        while p < n { out.append(Int(sym[p])); p = next[p] }
    }
}
