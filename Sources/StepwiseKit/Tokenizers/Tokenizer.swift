import Foundation

/// Turns text into token ids and back, and explains how it did so.
///
/// Each family implements it: ``ByteLevelBPE`` (GPT-2, Llama-3-style GGUF, BART), ``SentencePieceBPE``
/// (Gemma), ``Unigram`` (T5) and ``WordPiece`` (BERT).
public protocol Tokenizer: Sendable {
    /// Number of ids the tokenizer can produce.
    var vocabularySize: Int { get }

    /// Splits text into ids, without special tokens the model would add around it (BOS, [CLS]).
    /// - Throws: ``StepwiseError`` when the text cannot be encoded.
    func encode(_ text: String) throws -> [Int]

    /// Like ``encode(_:)`` and records, per pre-token, every rule applied (BPE merges, WordPiece matches).
    func explain(_ text: String) throws -> TokenizationExplanation

    /// The text the ids stand for.
    func decode(_ ids: [Int]) -> String

    /// The vocabulary string of one id as the tokenizer stores it (e.g. `Ġcat`), nil if out of range.
    func piece(for id: Int) -> String?

    /// The id of a vocabulary string, nil if absent.
    func id(for piece: String) -> Int?

    /// The bytes one id stands for, where the tokenizer works on bytes (byte-level BPE); nil otherwise.
    func bytes(for id: Int) -> [UInt8]?

    /// Special ids the model adds around a text (BOS/CLS, EOS/SEP) — see ``SpecialTokens``.
    var specialTokens: SpecialTokens { get }

    /// A readable label for one id, for tables and headers (the default: its decoded text in quotes).
    func label(for id: Int) -> String
}

/// The ids a model adds around a text, and the ones that end generation.
public struct SpecialTokens: Sendable, Equatable {
    /// Added before the text when ``addBOS`` is set (Llama's `<s>`, BERT's [CLS]).
    public var bos: Int?
    /// Ends generation; added after the text when ``addEOS`` is set (BERT's [SEP]).
    public var eos: Int?
    public var addBOS: Bool
    public var addEOS: Bool
    /// Unknown-token id, if any (WordPiece's [UNK]).
    public var unknown: Int?
    /// Padding id, if any.
    public var padding: Int?

    public init(bos: Int? = nil, eos: Int? = nil, addBOS: Bool = false, addEOS: Bool = false,
                unknown: Int? = nil, padding: Int? = nil) {
        self.bos = bos
        self.eos = eos
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.unknown = unknown
        self.padding = padding
    }
}

extension Tokenizer {
    /// Ids as the model reads them: ``encode(_:)`` plus BOS/EOS when the tokenizer adds them.
    public func encodeForModel(_ text: String) throws -> [Int] {
        var ids = try encode(text)
        if specialTokens.addBOS, let b = specialTokens.bos { ids.insert(b, at: 0) }
        if specialTokens.addEOS, let e = specialTokens.eos { ids.append(e) }
        return ids
    }

    public func bytes(for id: Int) -> [UInt8]? { nil }

    /// A readable label for one id: its decoded text in quotes (see ``TokenLabel``). A token that is
    /// only part of a character (a byte of a multi-byte UTF-8 sequence) shows that byte as `<0xC3>`.
    public func label(for id: Int) -> String {
        if let b = bytes(for: id), String(validating: b, as: UTF8.self) == nil {
            return TokenLabel.display(bytes: b)
        }
        return TokenLabel.display(decode([id]))
    }
}

/// How a text was tokenized, pre-token by pre-token.
public struct TokenizationExplanation: Sendable {
    /// One entry per pre-token (a word-like chunk the pre-tokenizer split off).
    public var pretokens: [PretokenExplanation]
    /// All ids, in order.
    public var ids: [Int] { pretokens.flatMap(\.ids) }

    public init(pretokens: [PretokenExplanation]) { self.pretokens = pretokens }
}

/// The rules applied to one pre-token.
public struct PretokenExplanation: Sendable {
    /// The text of the pre-token as it appeared in the input.
    public var text: String
    /// The symbols before any rule was applied (for byte-level BPE: one per byte, as vocabulary characters).
    public var initial: [String]
    /// Every rule in the order applied, with the symbols after it.
    public var rules: [TokenizationRule]
    /// The final pieces and their ids.
    public var pieces: [String]
    public var ids: [Int]
    /// True when the pre-token matched a special token (`<|endoftext|>`, `[CLS]`) whole.
    public var isSpecial: Bool
    /// For a Unigram pre-token: the scores of its best segmentation and of the next best; nil otherwise.
    public var segmentation: ScoredSegmentation?

    public init(text: String, initial: [String], rules: [TokenizationRule], pieces: [String], ids: [Int],
                isSpecial: Bool = false, segmentation: ScoredSegmentation? = nil) {
        self.text = text
        self.initial = initial
        self.rules = rules
        self.pieces = pieces
        self.ids = ids
        self.isSpecial = isSpecial
        self.segmentation = segmentation
    }
}

/// How a Unigram tokenizer chose one word's pieces: the segmentation whose piece scores (log-probabilities)
/// sum highest, and the runner-up.
public struct ScoredSegmentation: Sendable, Equatable {
    /// One node of a segmentation: a vocabulary piece, or a character the vocabulary lacks.
    public struct Piece: Sendable, Equatable {
        /// The piece's text as it stands in the word (`▁un`).
        public var text: String
        /// The vocabulary id; nil for an unknown character.
        public var id: Int?
        /// The piece's score; for an unknown character the lowest score minus ``Unigram/unknownPenalty``.
        public var score: Double
    }

    public var best: [Piece]
    /// The sum of the best pieces' scores.
    public var bestScore: Double
    /// The best segmentation that differs from ``best``, nil when there is none (one character, one piece).
    public var second: [Piece]?
    public var secondScore: Double?
}

/// One rule application: a BPE merge (`rank` = merge priority) or a WordPiece match.
public struct TokenizationRule: Sendable, Equatable {
    /// Human-readable description, e.g. `Ġ + c -> Ġc` or `match ##ing`.
    public var description: String
    /// Merge rank (0 = first learned merge); nil for non-BPE rules.
    public var rank: Int?
    /// Symbols after the rule. For a pre-token longer than ``ByteLevelBPE/maxSnapshotSymbols`` bytes,
    /// only the symbols around the merge, with `…` first and/or last where the list is cut.
    public var symbols: [String]

    public init(description: String, rank: Int?, symbols: [String]) {
        self.description = description
        self.rank = rank
        self.symbols = symbols
    }
}

/// Display forms for token pieces in tables and headers.
public enum TokenLabel {
    /// Shows whitespace visibly: the text in quotes (so a leading space shows), newlines as `\n`, tabs as `\t`.
    /// `" cat"` → `' cat'`, `"\n"` → `'\n'`.
    public static func display(_ text: String) -> String {
        var s = ""
        for ch in text {
            switch ch {
            case "\n": s += "\\n"
            case "\t": s += "\\t"
            case "\r": s += "\\r"
            case "'": s += "\\'"
            default:
                if let a = ch.asciiValue, a < 32 || a == 127 {
                    s += String(format: "\\x%02x", a)
                } else {
                    s.append(ch)
                }
            }
        }
        // C1 controls and bidirectional overrides become visible too (``TerminalText``).
        return "'" + TerminalText.visible(s) + "'"
    }

    /// Like ``display(_:)`` for bytes that may not be valid UTF-8: each byte that is not part of a
    /// whole character shows as `<0xC3>` (inside the quotes: `' caf<0xC3>'`).
    public static func display(bytes: [UInt8]) -> String {
        var out = ""
        var i = 0
        while i < bytes.count {
            let lead = bytes[i]
            let n = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
            if n > 0, i + n <= bytes.count, let ch = String(validating: bytes[i..<(i + n)], as: UTF8.self) {
                out += String(display(ch).dropFirst().dropLast())
                i += n
            } else {
                out += "<0x" + String(lead, radix: 16, uppercase: true).leftPaddedZero(2) + ">"
                i += 1
            }
        }
        return "'" + out + "'"
    }
}

extension String {
    func leftPaddedZero(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
