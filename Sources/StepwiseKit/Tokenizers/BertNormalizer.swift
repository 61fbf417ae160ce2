import Foundation

/// BERT's text clean-up before WordPiece, as Hugging Face `tokenizers`' `BertNormalizer` and
/// `BertPreTokenizer` do it: clean text, CJK spacing, accent stripping, lowercasing, then split into words
/// on whitespace and punctuation.
///
/// Works on Unicode scalars (not grapheme clusters) and remembers, for every output scalar, the input
/// scalar it came from, so a word can be shown as it appeared in the input.
///
/// Unicode categories (control/format, punctuation, nonspacing marks) are those of Unicode 8.0, the tables
/// the reference implementation was built with: a punctuation mark added later (e.g. U+2E45) stays inside
/// its word there, and so it does here.
public struct BertNormalizer: Sendable, Equatable {
    /// Drop control characters, NUL and U+FFFD; turn every whitespace character into a space.
    public var cleanText: Bool
    /// Put spaces around CJK ideographs so each becomes its own word.
    public var handleChineseChars: Bool
    /// Decompose (NFD) and drop nonspacing marks: `café` → `cafe`.
    public var stripAccents: Bool
    /// Lowercase every character (full Unicode mapping, character by character).
    public var lowercase: Bool

    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents ?? lowercase  // BERT's rule: unset means "as lowercase"
        self.lowercase = lowercase
    }

    /// One normalised scalar and the index of the input scalar it came from.
    public struct Scalar: Sendable, Equatable {
        public var value: Unicode.Scalar
        public var origin: Int
    }

    /// Normalises `scalars`, keeping each output scalar's origin index.
    public func normalize(_ scalars: [Unicode.Scalar]) -> [Scalar] {
        var out: [Scalar] = []
        out.reserveCapacity(scalars.count)
        for (i, c) in scalars.enumerated() {
            if cleanText {
                if c.value == 0 || c.value == 0xFFFD || Self.isControl(c) { continue }
                if Self.isWhitespace(c) { out.append(Scalar(value: " ", origin: i)); continue }
            }
            if handleChineseChars && Self.isChinese(c) {
                out.append(Scalar(value: " ", origin: i))
                out.append(Scalar(value: c, origin: i))
                out.append(Scalar(value: " ", origin: i))
                continue
            }
            out.append(Scalar(value: c, origin: i))
        }
        if stripAccents {
            var stripped: [Scalar] = []
            stripped.reserveCapacity(out.count)
            for s in out {
                if s.value.isASCII { stripped.append(s); continue }
                for d in String(s.value).decomposedStringWithCanonicalMapping.unicodeScalars
                where !Self.isNonspacingMark(d) {
                    stripped.append(Scalar(value: d, origin: s.origin))
                }
            }
            out = stripped
        }
        if lowercase {
            var lowered: [Scalar] = []
            lowered.reserveCapacity(out.count)
            for s in out {
                if s.value.isASCII {
                    let v = s.value.value
                    lowered.append((65...90).contains(v) ? Scalar(value: Unicode.Scalar(v + 32)!, origin: s.origin) : s)
                } else {
                    for l in s.value.properties.lowercaseMapping.unicodeScalars { lowered.append(Scalar(value: l, origin: s.origin)) }
                }
            }
            out = lowered
        }
        return out
    }

    /// Splits normalised text into words: whitespace separates and is dropped, every punctuation
    /// character is a word of its own.
    ///
    /// - Returns: each word's scalars, with their origins.
    public static func splitWords(_ text: [Scalar]) -> [[Scalar]] {
        var words: [[Scalar]] = []
        var current: [Scalar] = []
        for s in text {
            if s.value.properties.isWhitespace {
                if !current.isEmpty { words.append(current); current = [] }
            } else if isPunctuation(s.value) {
                if !current.isEmpty { words.append(current); current = [] }
                words.append([s])
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    // MARK: - Character classes

    /// True when a scalar existed in Unicode 8.0 (the reference's category tables).
    static func inUnicode8(_ c: Unicode.Scalar) -> Bool {
        guard let age = c.properties.age else { return false }
        return age.major < 8 || (age.major == 8 && age.minor == 0)
    }

    /// Tab, newline and carriage return count as whitespace, everything else by the White_Space property.
    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace
    }

    /// Control (Cc), format (Cf), private-use (Co) characters, except tab, newline and carriage return.
    static func isControl(_ c: Unicode.Scalar) -> Bool {
        if c == "\t" || c == "\n" || c == "\r" { return false }
        switch c.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return inUnicode8(c)
        default: return false
        }
    }

    /// The CJK ideograph blocks BERT spaces out (not Hiragana, Katakana or Hangul).
    static func isChinese(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    /// ASCII punctuation and symbols (`!` … `/`, `:` … `@`, `[` … `` ` ``, `{` … `~`) and Unicode P* categories.
    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        if v < 128 { return false }
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return inUnicode8(c)
        default:
            return false
        }
    }

    static func isNonspacingMark(_ c: Unicode.Scalar) -> Bool {
        c.properties.generalCategory == .nonspacingMark && inUnicode8(c)
    }
}
