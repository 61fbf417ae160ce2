import Foundation

/// BERT's WordPiece tokenizer: normalise, split into words, then cut each word greedily into the longest
/// vocabulary pieces from the left, later pieces carrying the `##` continuation prefix.
///
/// `playing` → `play`, `##ing`; a word with no complete cut (or longer than ``maxInputCharsPerWord``
/// scalars) becomes `[UNK]` as a whole. Mirrors Hugging Face `tokenizers`' `WordPiece` model with
/// `BertNormalizer` and `BertPreTokenizer`; special tokens written in the text (`[MASK]`) are matched
/// whole before normalisation, as the reference's added-token pass does.
public struct WordPiece: Tokenizer {
    /// Piece strings by id.
    public let vocabulary: [String]
    /// The clean-up applied before splitting.
    public let normalizer: BertNormalizer
    /// The piece a word with no match becomes (`[UNK]`).
    public let unknownToken: String
    /// The prefix of a piece that continues a word (`##`).
    public let continuingPrefix: String
    /// Words longer than this many scalars become `[UNK]` without trying.
    public let maxInputCharsPerWord: Int
    public let specialTokens: SpecialTokens
    /// Strings matched whole in the raw text, longest first, with their ids.
    let addedTokens: [(text: [Unicode.Scalar], id: Int)]
    /// Vocabulary lookup by UTF-8 bytes (not by `String` equality, which is canonical equivalence:
    /// a decomposed Hangul syllable must not match its precomposed piece).
    let idsByBytes: [WordPieceKey: Int]
    let unknownID: Int

    /// Builds a tokenizer from its vocabulary.
    ///
    /// - Parameters:
    ///   - vocabulary: piece strings in id order.
    ///   - specialPieces: tokens matched whole in the raw text (default: the five BERT specials present).
    /// - Throws: ``StepwiseError`` if the unknown token is not in the vocabulary.
    public init(vocabulary: [String], normalizer: BertNormalizer = BertNormalizer(), unknownToken: String = "[UNK]",
                continuingPrefix: String = "##", maxInputCharsPerWord: Int = 100,
                specialPieces: [String] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]) throws {
        self.vocabulary = vocabulary
        self.normalizer = normalizer
        self.unknownToken = unknownToken
        self.continuingPrefix = continuingPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        var table: [WordPieceKey: Int] = [:]
        table.reserveCapacity(vocabulary.count)
        for (i, p) in vocabulary.enumerated() where table[WordPieceKey(p)] == nil { table[WordPieceKey(p)] = i }
        idsByBytes = table
        guard let unk = table[WordPieceKey(unknownToken)] else {
            throw StepwiseError(.file, "WordPiece vocabulary: the unknown token '\(unknownToken)' is not in the vocabulary")
        }
        unknownID = unk
        addedTokens = specialPieces.compactMap { p in table[WordPieceKey(p)].map { (Array(p.unicodeScalars), $0) } }
            .sorted { $0.0.count > $1.0.count }
        specialTokens = SpecialTokens(bos: table[WordPieceKey("[CLS]")], eos: table[WordPieceKey("[SEP]")],
                                      addBOS: table[WordPieceKey("[CLS]")] != nil, addEOS: table[WordPieceKey("[SEP]")] != nil,
                                      unknown: unk, padding: table[WordPieceKey("[PAD]")])
    }

    public var vocabularySize: Int { vocabulary.count }

    public func piece(for id: Int) -> String? {
        id >= 0 && id < vocabulary.count ? vocabulary[id] : nil
    }

    public func id(for piece: String) -> Int? { idsByBytes[WordPieceKey(piece)] }

    public func encode(_ text: String) throws -> [Int] {
        tokenize(text, explain: false).ids
    }

    /// Per word: the normalised word as the initial symbol, then one rule per piece matched
    /// (`match 'play'`, `match '##ing'`), or the reason the word became `[UNK]`.
    public func explain(_ text: String) throws -> TokenizationExplanation {
        tokenize(text, explain: true)
    }

    /// Joins pieces with spaces, glues `##` pieces to the one before, then tidies spaces before
    /// punctuation and contractions (`tokenizers`' WordPiece decoder with `cleanup`). Special tokens are kept.
    public func decode(_ ids: [Int]) -> String {
        var out = ""
        for (i, id) in ids.enumerated() {
            guard var p = piece(for: id) else { continue }
            if i != 0 {
                // Compare scalars, not Characters: in `##िनद` the second `#` and the vowel sign form one Character.
                let scalars = p.unicodeScalars, prefix = continuingPrefix.unicodeScalars
                if scalars.starts(with: prefix) {
                    p = String(String.UnicodeScalarView(scalars.dropFirst(prefix.count)))
                } else {
                    p = " " + p
                }
            }
            out += Self.cleanup(p)
        }
        return out
    }

    static func cleanup(_ s: String) -> String {
        var s = s
        for (a, b) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                       (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = s.replacingOccurrences(of: a, with: b)
        }
        return s
    }

    // MARK: - Tokenizing

    func tokenize(_ text: String, explain: Bool) -> TokenizationExplanation {
        let raw = Array(text.unicodeScalars)
        var result: [PretokenExplanation] = []
        var segmentStart = 0
        var i = 0
        func flush(upTo end: Int) {
            guard segmentStart < end else { return }
            let normalized = normalizer.normalize(Array(raw[segmentStart..<end]))
            for word in BertNormalizer.splitWords(normalized) {
                let lo = word.map(\.origin).min()! + segmentStart, hi = word.map(\.origin).max()! + segmentStart
                let original = String(String.UnicodeScalarView(raw[lo...hi]))
                result.append(cut(word.map(\.value), original: original, explain: explain))
            }
        }
        while i < raw.count {
            if let (tok, id) = addedTokens.first(where: { matches($0.text, in: raw, at: i) }) {
                flush(upTo: i)
                let s = String(String.UnicodeScalarView(tok))
                result.append(PretokenExplanation(text: s, initial: [s], rules: [], pieces: [s], ids: [id], isSpecial: true))
                i += tok.count
                segmentStart = i
            } else {
                i += 1
            }
        }
        flush(upTo: raw.count)
        return TokenizationExplanation(pretokens: result)
    }

    private func matches(_ token: [Unicode.Scalar], in raw: [Unicode.Scalar], at i: Int) -> Bool {
        guard i + token.count <= raw.count else { return false }
        for (j, c) in token.enumerated() where raw[i + j] != c { return false }
        return true
    }

    /// Greedy longest-match-first over one normalised word.
    func cut(_ word: [Unicode.Scalar], original: String, explain: Bool) -> PretokenExplanation {
        let wordText = String(String.UnicodeScalarView(word))
        func unknown(_ reason: String) -> PretokenExplanation {
            let rules = explain ? [TokenizationRule(description: reason, rank: nil, symbols: [unknownToken])] : []
            return PretokenExplanation(text: original, initial: [wordText], rules: rules, pieces: [unknownToken], ids: [unknownID])
        }
        if word.count > maxInputCharsPerWord {
            return unknown("'\(wordText.prefix(20))…' has \(word.count) characters, more than \(maxInputCharsPerWord): \(unknownToken)")
        }
        let prefix = Array(continuingPrefix.utf8)
        let utf8 = word.map { Array(String($0).utf8) }
        var pieces: [String] = [], ids: [Int] = [], rules: [TokenizationRule] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int?
            var bytes = (start > 0 ? prefix : []) + utf8[start..<end].flatMap { $0 }
            while end > start {
                if let id = idsByBytes[WordPieceKey(bytes: bytes)] { found = id; break }
                bytes.removeLast(utf8[end - 1].count)
                end -= 1
            }
            guard let id = found else {
                let rest = (start > 0 ? continuingPrefix : "") + String(String.UnicodeScalarView(word[start...]))
                return unknown("no piece of '\(rest)' is in the vocabulary: the whole word is \(unknownToken)")
            }
            let piece = vocabulary[id]
            pieces.append(piece)
            ids.append(id)
            start = end
            if explain {
                let rest = start < word.count ? [continuingPrefix + String(String.UnicodeScalarView(word[start...]))] : []
                rules.append(TokenizationRule(description: "match '\(piece)'", rank: nil, symbols: pieces + rest))
            }
        }
        return PretokenExplanation(text: original, initial: [wordText], rules: rules, pieces: pieces, ids: ids)
    }
}

/// A vocabulary key compared byte for byte.
struct WordPieceKey: Hashable, Sendable {
    var bytes: [UInt8]
    init(bytes: [UInt8]) { self.bytes = bytes }
    init(_ s: String) { bytes = Array(s.utf8) }
}
