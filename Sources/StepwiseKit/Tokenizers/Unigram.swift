import Foundation

/// SentencePiece's unigram language-model tokenizer (T5, mT5, ALBERT, XLM-R, converted Marian), as
/// Hugging Face `tokenizers` runs a tokenizer.json whose `model.type` is `Unigram`.
///
/// Every piece has a score, its log-probability. A word is split into the pieces whose scores sum
/// highest: a Viterbi pass over the lattice of every vocabulary piece that starts at each character
/// (found by walking a byte trie). A character that is not itself a piece also gets an *unknown* node,
/// scored as the lowest score in the vocabulary minus ``unknownPenalty``; consecutive unknown nodes are
/// fused into one `<unk>`, or, with `byte_fallback`, spelled as the byte pieces `<0x..>` of their UTF-8.
/// Among equally good paths the one whose last piece starts earliest wins, as in `tokenizers`.
///
/// Encoding: added tokens are matched whole in the raw text (``SpecialTokenMatcher``; `normalized`
/// ones after normalization), the text between them normalized (``TextNormalizer``), cut into words
/// (``PreTokenizerStep``: `Metaspace`, `WhitespaceSplit`), and each word segmented. Decoding runs the
/// file's decoder (``TokenDecoder``) over the pieces, special tokens included.
public struct Unigram: Tokenizer {
    /// How much below the lowest piece score an unknown character is scored (`tokenizers`' `K_UNK_PENALTY`).
    public static let unknownPenalty = 10.0

    /// Pieces by id: the model's vocabulary, then added tokens past it (an added token's text wins).
    let pieces: [String]
    /// Scores of the model's pieces (the first `scores.count` ids).
    let scores: [Double]
    let trie: PieceTrie
    /// The model's `unk_id`; nil when the file has none (an unknown character is then an error).
    public let unknownID: Int?
    /// Whether unknown characters become byte pieces `<0x..>` instead of `<unk>`.
    public let byteFallback: Bool
    /// `<0x00>`…`<0xFF>` → id, -1 where absent.
    let byteIDs: [Int32]
    /// The score of an unknown node: the lowest score minus ``unknownPenalty``.
    public let unknownScore: Double
    let normalizer: TextNormalizer?
    let preTokenizer: [PreTokenizerStep]
    let decoder: TokenDecoder?
    /// Added tokens matched in the raw text, and (`normalized: true`) in the normalized text.
    let rawSpecials: SpecialTokenMatcher
    let normalizedSpecials: SpecialTokenMatcher
    /// Added tokens by text (their ids win over the model's in ``id(for:)``, as in `tokenizers`).
    let addedIDs: [String: Int]
    let addedTexts: Set<Int>
    /// What stands for a space in pieces (the Metaspace replacement, `▁` by default), for labels.
    let spaceMark: Unicode.Scalar
    public internal(set) var specialTokens: SpecialTokens
    /// The file the tokenizer came from, named in errors.
    public let source: String

    /// An added token of a tokenizer.json (`added_tokens`).
    public struct AddedToken: Sendable, Equatable {
        public var content: String
        public var id: Int
        public var special: Bool
        /// Matched in the normalized text instead of the raw text.
        public var normalized: Bool
        public var lstrip: Bool
        public var rstrip: Bool

        public init(content: String, id: Int, special: Bool = true, normalized: Bool = false,
                    lstrip: Bool = false, rstrip: Bool = false) {
            self.content = content
            self.id = id
            self.special = special
            self.normalized = normalized
            self.lstrip = lstrip
            self.rstrip = rstrip
        }
    }

    public var vocabularySize: Int { pieces.count }

    /// - Parameters:
    ///   - vocabulary: the model's pieces and scores, by id.
    ///   - unknownID: the model's `unk_id`.
    ///   - added: added tokens; an id past the vocabulary extends it (without holes).
    /// - Throws: ``StepwiseError`` naming `source` for an empty vocabulary, a non-finite score, a piece
    ///   given twice, an `unk_id` outside the vocabulary or added tokens that do not fit.
    init(vocabulary: [(piece: String, score: Double)], unknownID: Int?, byteFallback: Bool,
         normalizer: TextNormalizer?, preTokenizer: [PreTokenizerStep], decoder: TokenDecoder?,
         added: [AddedToken], special: SpecialTokens, source: String) throws {
        guard !vocabulary.isEmpty else { throw StepwiseError.file(source, "model.vocab is empty: a Unigram model needs at least its pieces") }
        if let bad = vocabulary.firstIndex(where: { !$0.score.isFinite }) {
            throw StepwiseError.file(source, "model.vocab[\(bad)] ('\(vocabulary[bad].piece)') has the score \(vocabulary[bad].score); scores must be finite")
        }
        if let u = unknownID, !(0..<vocabulary.count).contains(u) {
            throw StepwiseError.file(source, "model.unk_id is \(u), outside the vocabulary (0..<\(vocabulary.count))")
        }
        let keys = vocabulary.map { Array($0.piece.utf8) }
        trie = try PieceTrie(keys: keys) { a, b in
            throw StepwiseError.file(source, "the piece '\(vocabulary[a].piece)' appears twice in model.vocab (ids \(a) and \(b))")
        }
        scores = vocabulary.map(\.score)
        unknownScore = (scores.min() ?? 0) - Self.unknownPenalty

        var table = vocabulary.map(\.piece)
        var ids: [String: Int] = [:]
        for t in added.sorted(by: { $0.id < $1.id }) {
            guard !t.content.isEmpty else { throw StepwiseError.file(source, "added token \(t.id) has an empty content") }
            if t.id < table.count {
                table[t.id] = t.content
            } else if t.id == table.count {
                table.append(t.content)
            } else {
                throw StepwiseError.file(source, "added token '\(t.content)' has id \(t.id), but the ids before it end at \(table.count - 1): the vocabulary would have holes")
            }
            ids[t.content] = t.id
        }
        pieces = table
        addedIDs = ids
        addedTexts = Set(added.map(\.id))
        var bytes = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = trie.id(of: Array(String(format: "<0x%02X>", b).utf8)) { bytes[b] = Int32(id) }
        }
        byteIDs = bytes
        self.unknownID = unknownID
        self.byteFallback = byteFallback
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.decoder = decoder
        let raw = added.filter { !$0.normalized }, norm = added.filter(\.normalized)
        func matcher(_ list: [AddedToken]) -> SpecialTokenMatcher {
            SpecialTokenMatcher(list.map { (text: $0.content, id: $0.id) },
                                lstrip: Set(list.filter(\.lstrip).map(\.id)), rstrip: Set(list.filter(\.rstrip).map(\.id)))
        }
        rawSpecials = matcher(raw)
        normalizedSpecials = matcher(norm)
        var mark: Unicode.Scalar = "\u{2581}"
        for step in preTokenizer { if case .metaspace(let m) = step { mark = m.replacement; break } }
        spaceMark = mark
        specialTokens = special
        self.source = source
    }

    // MARK: - Tokenizer

    public func piece(for id: Int) -> String? { pieces.indices.contains(id) ? pieces[id] : nil }

    public func id(for piece: String) -> Int? { addedIDs[piece] ?? trie.id(of: piece.utf8) }

    /// The score of a model piece (nil for an added token past the vocabulary or an id out of range).
    public func score(for id: Int) -> Double? { scores.indices.contains(id) ? scores[id] : nil }

    /// A byte piece's byte (with byte fallback), else the piece's text with the space mark as a space.
    public func bytes(for id: Int) -> [UInt8]? {
        guard let p = piece(for: id) else { return nil }
        if byteFallback, !addedTexts.contains(id), let b = SentencePieceBPE.byteValue(p) { return [b] }
        if addedTexts.contains(id) { return Array(p.utf8) }
        var v = String.UnicodeScalarView()
        for c in p.unicodeScalars { v.append(c == spaceMark ? " " : c) }
        return Array(String(v).utf8)
    }

    /// The piece with its space mark shown as a space (`'▁the'` → `' the'`); a byte piece as `<0xE2>`.
    public func label(for id: Int) -> String {
        guard let b = bytes(for: id) else { return TokenLabel.display("") }
        if String(validating: b, as: UTF8.self) == nil { return TokenLabel.display(bytes: b) }
        return TokenLabel.display(String(decoding: b, as: UTF8.self))
    }

    /// The text of the ids through the file's decoder, special tokens included (`tokenizers`'
    /// `decode(ids, skip_special_tokens=False)`); ids out of range are skipped.
    public func decode(_ ids: [Int]) -> String {
        TokenDecoder.decode(ids.compactMap { piece(for: $0) }, with: decoder)
    }

    /// - Throws: ``StepwiseError`` when the text holds a character the vocabulary lacks and the model has
    ///   no `unk_id`, or when a precompiled normalizer's table is malformed.
    /// - Complexity: O(n · L) for n bytes of text and pieces of up to L bytes.
    public func encode(_ text: String) throws -> [Int] {
        var out: [Int] = []
        try forEachWord(text) { item in
            switch item {
            case .special(_, let id): out.append(id)
            case .word(let w): try appendIDs(of: bestPath(Array(w.utf8)), in: Array(w.utf8), to: &out)
            }
        }
        return out
    }

    public func explain(_ text: String) throws -> TokenizationExplanation {
        var result: [PretokenExplanation] = []
        try forEachWord(text) { item in
            switch item {
            case .special(let s, let id):
                result.append(PretokenExplanation(text: s, initial: [s], rules: [], pieces: [s], ids: [id], isSpecial: true))
            case .word(let w):
                result.append(try explainWord(w))
            }
        }
        return TokenizationExplanation(pretokens: result)
    }

    // MARK: - Words

    enum Item {
        case special(String, Int)
        case word(String)
    }

    /// The added tokens and words of a text, in order: `tokenizers`' added-token split, normalizer and
    /// pre-tokenizer, each dropping what comes out empty.
    func forEachWord(_ text: String, _ body: (Item) throws -> Void) throws {
        for (segment, start) in rawSpecials.located(Array(text.unicodeScalars)) {
            switch segment {
            case .special(let s, let id): try body(.special(s, id))
            case .text(let raw):
                var origin = start == 0
                let normalized = try normalizer?.apply(raw, atOrigin: &origin) ?? raw
                for (inner, at) in normalizedSpecials.located(normalized) {
                    switch inner {
                    case .special(let s, let id): try body(.special(s, id))
                    case .text(let t):
                        var splits = [(scalars: t, atOrigin: origin && at == 0)]
                        for step in preTokenizer { splits = step.apply(splits) }
                        for s in splits where !s.scalars.isEmpty {
                            var v = String.UnicodeScalarView()
                            v.append(contentsOf: s.scalars)
                            try body(.word(String(v)))
                        }
                    }
                }
            }
        }
    }

    // MARK: - The lattice

    /// One node of a path: bytes `start..<end` of the word, and its piece id, or nil for an unknown character.
    struct Node: Equatable {
        var start: Int
        var end: Int
        var id: Int?
    }

    @inline(__always)
    static func utf8Length(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }

    private func missingUnknown(_ word: [UInt8], at s: Int) -> StepwiseError {
        let ch = String(decoding: word[s..<min(word.count, s + Self.utf8Length(word[s]))], as: UTF8.self)
        let code = ch.unicodeScalars.first.map { String(format: "U+%04X", $0.value) } ?? "?"
        return StepwiseError(.unsupported, "\(source): the text has a character the vocabulary lacks ('\(ch)', \(code)) and model.unk_id is not set, so it cannot be encoded")
    }

    /// The best path through a word's lattice, exactly as `tokenizers`' `encode_optimized` chooses it.
    func bestPath(_ word: [UInt8]) throws -> [Node] {
        let n = word.count
        guard n > 0 else { return [] }
        var best = [Double](repeating: 0, count: n + 1)
        var from = [Int](repeating: -1, count: n + 1)
        var idAt = [Int](repeating: -1, count: n + 1)  // -1: an unknown node
        var s = 0
        while s < n {
            let here = best[s]
            let len = Self.utf8Length(word[s])
            var single = false
            var node = PieceTrie.root, j = s
            while j < n, let c = trie.child(node, word[j]) {
                node = c
                j += 1
                let v = Int(trie.value[node])
                guard v >= 0 else { continue }
                let candidate = scores[v] + here
                if from[j] < 0 || candidate > best[j] {
                    best[j] = candidate
                    from[j] = s
                    idAt[j] = v
                }
                if j - s == len { single = true }
            }
            if !single {
                let e = min(n, s + len)
                let candidate = unknownScore + here
                if from[e] < 0 || candidate > best[e] {
                    guard unknownID != nil else { throw missingUnknown(word, at: s) }
                    best[e] = candidate
                    from[e] = s
                    idAt[e] = -1
                }
            }
            s += len
        }
        var path: [Node] = []
        var e = n
        while e > 0 {
            let st = from[e]
            path.append(Node(start: st, end: e, id: idAt[e] >= 0 ? idAt[e] : nil))
            e = st
        }
        return path.reversed()
    }

    /// The ids of a path, as `tokenizers` turns its pieces into tokens: runs of unknown nodes (and of the
    /// `<unk>` piece itself) are fused into one string; a string that is a piece is that piece; else, with
    /// byte fallback, the byte pieces of its UTF-8 when all exist; else `unk_id`.
    func appendIDs(of path: [Node], in word: [UInt8], to out: inout [Int]) throws {
        for t in tokens(of: path) {
            out += try ids(of: word[t.start..<t.end])
        }
    }

    /// The path's tokens as byte ranges of the word (unknown runs fused), with whether each was fused.
    func tokens(of path: [Node]) -> [(start: Int, end: Int, unknown: Bool)] {
        var out: [(start: Int, end: Int, unknown: Bool)] = []
        for node in path {
            let isUnknown = node.id == nil || node.id == unknownID
            if isUnknown, let last = out.last, last.unknown, last.end == node.start {
                out[out.count - 1].end = node.end
            } else {
                out.append((node.start, node.end, isUnknown))
            }
        }
        return out
    }

    func ids(of bytes: ArraySlice<UInt8>) throws -> [Int] {
        if let id = trie.id(of: bytes) { return [id] }
        if byteFallback {
            let b = bytes.map { byteIDs[Int($0)] }
            if b.allSatisfy({ $0 >= 0 }) { return b.map(Int.init) }
        }
        guard let unk = unknownID else { throw missingUnknown(Array(bytes), at: 0) }
        return [unk]
    }

    /// The two best paths of a word (best first; distinct node sequences), for ``explain(_:)``: a 2-best
    /// Viterbi over the same lattice as ``bestPath(_:)``.
    /// - Complexity: O(n · L), twice the work of ``bestPath(_:)``.
    func topTwo(_ word: [UInt8]) -> [(path: [Node], score: Double)] {
        struct Entry { var score: Double; var start: Int; var id: Int; var rank: Int }
        let n = word.count
        guard n > 0 else { return [] }
        var top = [[Entry]](repeating: [], count: n + 1)
        top[0] = [Entry(score: 0, start: -1, id: -1, rank: 0)]
        func offer(_ e: Int, _ entry: Entry) {
            if top[e].count < 2 {
                top[e].append(entry)
                if top[e].count == 2 && top[e][1].score > top[e][0].score { top[e].swapAt(0, 1) }
            } else if entry.score > top[e][1].score {
                top[e][1] = entry
                if top[e][1].score > top[e][0].score { top[e].swapAt(0, 1) }
            }
        }
        var s = 0
        while s < n {
            let len = Self.utf8Length(word[s])
            let here = top[s]
            var single = false
            var node = PieceTrie.root, j = s
            while j < n, let c = trie.child(node, word[j]) {
                node = c
                j += 1
                let v = Int(trie.value[node])
                guard v >= 0 else { continue }
                for (r, h) in here.enumerated() { offer(j, Entry(score: h.score + scores[v], start: s, id: v, rank: r)) }
                if j - s == len { single = true }
            }
            if !single {
                for (r, h) in here.enumerated() { offer(min(n, s + len), Entry(score: h.score + unknownScore, start: s, id: -1, rank: r)) }
            }
            s += len
        }
        return top[n].indices.map { r0 in
            var path: [Node] = []
            var e = n, r = r0
            while e > 0 {
                let entry = top[e][r]
                path.append(Node(start: entry.start, end: e, id: entry.id >= 0 ? entry.id : nil))
                e = entry.start
                r = entry.rank
            }
            return (path.reversed(), top[n][r0].score)
        }
    }

    // MARK: - Explaining

    /// Pieces shown in one rule's description; a longer segmentation is cut with `…`.
    public static let maxDescribedPieces = 48

    private func scored(_ path: [Node], _ word: [UInt8]) -> [ScoredSegmentation.Piece] {
        path.map { node in
            ScoredSegmentation.Piece(text: String(decoding: word[node.start..<node.end], as: UTF8.self), id: node.id,
                                     score: node.id.map { scores[$0] } ?? unknownScore)
        }
    }

    private static func describe(_ pieces: [ScoredSegmentation.Piece], total: Double) -> String {
        let shown = pieces.prefix(maxDescribedPieces).map { p in
            p.id == nil ? "\(p.text) (unknown \(format(p.score)))" : "\(p.text) (\(format(p.score)))"
        }
        let more = pieces.count > maxDescribedPieces ? " + … (\(pieces.count - maxDescribedPieces) more)" : ""
        return shown.joined(separator: " + ") + more + " = \(format(total))"
    }

    static func format(_ x: Double) -> String { String(format: "%.2f", x) }

    func explainWord(_ w: String) throws -> PretokenExplanation {
        let word = Array(w.utf8)
        let best = try bestPath(word)
        let bestPieces = scored(best, word)
        let total = bestPieces.reduce(0.0) { $0 + $1.score }
        var rules = [TokenizationRule(description: "best: " + Self.describe(bestPieces, total: total), rank: nil,
                                      symbols: bestPieces.map(\.text))]
        var second: (pieces: [ScoredSegmentation.Piece], score: Double)?
        if let alt = topTwo(word).first(where: { $0.path != best }) {
            let p = scored(alt.path, word)
            second = (p, alt.score)
            rules.append(TokenizationRule(description: "next best: " + Self.describe(p, total: alt.score), rank: nil,
                                          symbols: p.map(\.text)))
        }
        var ids: [Int] = []
        for t in tokens(of: best) {
            let got = try self.ids(of: word[t.start..<t.end])
            ids += got
            let text = String(decoding: word[t.start..<t.end], as: UTF8.self)
            let names = got.map { pieces[$0] }
            guard t.unknown, names != [text] else { continue }
            // Unknown characters (fused when consecutive) become <unk>, or their bytes with byte fallback.
            let how = got == [unknownID] ? "unknown" : "byte fallback"
            rules.append(TokenizationRule(description: "\(how): \(text) -> " + names.joined(separator: " "), rank: nil, symbols: names))
        }
        let initial = w.unicodeScalars.map { String($0) }
        var explanation = PretokenExplanation(text: w, initial: initial, rules: rules, pieces: ids.map { pieces[$0] }, ids: ids)
        explanation.segmentation = ScoredSegmentation(best: bestPieces, bestScore: total, second: second?.pieces,
                                                      secondScore: second?.score)
        return explanation
    }
}
