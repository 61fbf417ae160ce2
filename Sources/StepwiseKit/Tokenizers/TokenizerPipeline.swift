import Foundation

// The parts of a Hugging Face tokenizer.json around a SentencePiece-style model (Unigram): normalizers,
// pre-tokenizers and decoders, each with the semantics of the `tokenizers` component of the same name.

/// Where a stretch of text came from, as far as `Metaspace`'s `prepend_scheme: first` cares: whether its
/// first scalar stands at offset 0 of the original text (`tokenizers` prepends only then).
typealias AtOrigin = Bool

// MARK: - Normalizers

/// A tokenizer.json `normalizer`.
indirect enum TextNormalizer: Sendable {
    case nfc, nfd, nfkc, nfkd
    /// Every scalar's full lowercase mapping (`İ` → `i̇`), one scalar at a time as `tokenizers` does.
    case lowercase
    /// Removes White_Space scalars at the start and/or end.
    case strip(left: Bool, right: Bool)
    /// Removes combining marks (general categories Mn, Mc, Me).
    case stripAccents
    /// Replaces every match of the pattern, leftmost first and without overlap.
    case replace(ReplacePattern, content: [Unicode.Scalar])
    /// Puts the string before a non-empty text.
    case prepend([Unicode.Scalar])
    /// SentencePiece's precompiled table (see ``PrecompiledCharsmap``).
    case precompiled(PrecompiledCharsmap)
    /// SentencePiece's `nmt` rules: drops C0 controls (but tab and line ends) and DEL, maps other spaces to ' '.
    case nmt
    case sequence([TextNormalizer])

    /// The normalized text.
    /// - Parameter atOrigin: in: whether the text's first scalar is at offset 0 of the input; out: the same
    ///   for the result (false once a scalar at the start was removed).
    func apply(_ s: [Unicode.Scalar], atOrigin: inout AtOrigin) throws -> [Unicode.Scalar] {
        switch self {
        case .nfc: return Self.unicode(s) { $0.precomposedStringWithCanonicalMapping }
        case .nfd: return Self.unicode(s) { $0.decomposedStringWithCanonicalMapping }
        // Foundation's own NFKC leaves some pairs uncomposed on Linux (ｶﾞ → カ + ゛); NFC of NFKD is NFKC.
        case .nfkc: return Self.unicode(s) { $0.decomposedStringWithCompatibilityMapping.precomposedStringWithCanonicalMapping }
        case .nfkd: return Self.unicode(s) { $0.decomposedStringWithCompatibilityMapping }
        case .lowercase:
            var out: [Unicode.Scalar] = []
            out.reserveCapacity(s.count)
            for c in s {
                if c.isASCII { out.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c) } else {
                    out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
                }
            }
            return out
        case .strip(let left, let right):
            var lo = 0, hi = s.count
            if left { while lo < hi && s[lo].properties.isWhitespace { lo += 1 } }
            if right { while hi > lo && s[hi - 1].properties.isWhitespace { hi -= 1 } }
            if lo > 0 { atOrigin = false }
            return Array(s[lo..<hi])
        case .stripAccents:
            func isMark(_ c: Unicode.Scalar) -> Bool {
                switch c.properties.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark: return true
                default: return false
                }
            }
            if let f = s.first, isMark(f) { atOrigin = false }
            return s.filter { !isMark($0) }
        case .replace(let pattern, let content):
            let (out, removedFirst) = pattern.replace(in: s, with: content)
            if removedFirst { atOrigin = false }
            return out
        case .prepend(let p):
            return s.isEmpty ? s : p + s
        case .precompiled(let table):
            // `tokenizers` aligns the first output scalar with the first input one even when a table entry
            // removed it (its Precompiled normalizer records no removal there), so `atOrigin` is kept.
            return try table.normalize(s)
        case .nmt:
            var out: [Unicode.Scalar] = []
            out.reserveCapacity(s.count)
            for c in s {
                switch c.value {
                case 0x01...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x8F, 0x9F:
                    if out.isEmpty { atOrigin = false }
                case 0x09, 0x0A, 0x0C, 0x0D, 0x1680, 0x200B...0x200F, 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD:
                    out.append(" ")
                default:
                    out.append(c)
                }
            }
            return out
        case .sequence(let steps):
            var t = s
            for step in steps { t = try step.apply(t, atOrigin: &atOrigin) }
            return t
        }
    }

    private static func unicode(_ s: [Unicode.Scalar], _ f: (String) -> String) -> [Unicode.Scalar] {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: s)
        return Array(f(String(v)).unicodeScalars)
    }
}

/// What a `Replace` normalizer or decoder looks for.
enum ReplacePattern: Sendable, Equatable {
    /// A plain string (`{"String": "▁"}`).
    case literal([Unicode.Scalar])
    /// A run of at least `min` U+0020 spaces: the regex ` {2,}` T5-style files use (`{"Regex": " {2,}"}`).
    case spaces(min: Int)

    /// The text with every match replaced (leftmost first, no overlaps), and whether a match at offset 0 was
    /// replaced by nothing.
    func replace(in s: [Unicode.Scalar], with content: [Unicode.Scalar]) -> ([Unicode.Scalar], Bool) {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var removedFirst = false
        var i = 0
        while i < s.count {
            let n = matchLength(s, at: i)
            if n > 0 {
                if i == 0 && content.isEmpty { removedFirst = true }
                out += content
                i += n
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return (out, removedFirst)
    }

    /// The length of the match at `i`, 0 if none.
    func matchLength(_ s: [Unicode.Scalar], at i: Int) -> Int {
        switch self {
        case .literal(let p):
            guard !p.isEmpty, i + p.count <= s.count, s[i] == p[0] else { return 0 }
            return s[i..<i + p.count].elementsEqual(p) ? p.count : 0
        case .spaces(let m):
            var j = i
            while j < s.count && s[j] == " " { j += 1 }
            return j - i >= m ? j - i : 0
        }
    }

    /// The pattern of a `Replace` component: `{"String": s}` or `{"Regex": " {2,}"}`.
    static func read(_ v: JSONValue?, what: String, path: String) throws -> ReplacePattern {
        if let s = v?["String"]?.string {
            guard !s.isEmpty else { throw StepwiseError.file(path, "\(what): the pattern is an empty string") }
            return .literal(Array(s.unicodeScalars))
        }
        if let r = v?["Regex"]?.string {
            if r == " {2,}" { return .spaces(min: 2) }
            throw StepwiseError(.unsupported, "\(path): \(what): the regex '\(r)' is not supported (only ' {2,}', or a plain string)")
        }
        throw StepwiseError.file(path, "\(what) needs a pattern {\"String\": ...} or {\"Regex\": ...}")
    }
}

// MARK: - Pre-tokenizers

/// SentencePiece's space handling (`Metaspace`): spaces become `replacement`, which is also put before the
/// text (per `prependScheme`), and the text is cut before each `replacement` when `split` is set.
struct Metaspace: Sendable, Equatable {
    enum PrependScheme: String, Sendable { case always, first, never }
    var replacement: Unicode.Scalar
    var prependScheme: PrependScheme
    var split: Bool

    /// A `Metaspace` pre-tokenizer or decoder: `replacement`, `prepend_scheme` (default always; the older
    /// `add_prefix_space: false` means never), `split` (default true).
    static func read(_ v: JSONValue, what: String, path: String) throws -> Metaspace {
        guard let r = v["replacement"]?.string else {
            throw StepwiseError.file(path, "\(what) Metaspace has no replacement character")
        }
        let scalars = Array(r.unicodeScalars)
        guard scalars.count == 1 else {
            throw StepwiseError.file(path, "\(what) Metaspace replacement '\(r)' is not one character")
        }
        var scheme = PrependScheme.always
        if let s = v["prepend_scheme"], s != .null {
            guard let name = s.string, let p = PrependScheme(rawValue: name) else {
                throw StepwiseError.file(path, "\(what) Metaspace prepend_scheme is \(s.shown), expected \"always\", \"first\" or \"never\"")
            }
            scheme = p
        } else if v["add_prefix_space"]?.bool == false {
            scheme = .never
        }
        return Metaspace(replacement: scalars[0], prependScheme: scheme, split: v["split"]?.bool ?? true)
    }

    /// `tokenizers`' Metaspace pre-tokenizer on one split.
    func pretokenize(_ s: [Unicode.Scalar], atOrigin: AtOrigin) -> [(scalars: [Unicode.Scalar], atOrigin: AtOrigin)] {
        var t = s.map { $0 == " " ? replacement : $0 }
        let prepend: Bool
        switch prependScheme {
        case .always: prepend = t.first != replacement
        case .first: prepend = t.first != replacement && atOrigin
        case .never: prepend = false
        }
        if prepend { t.insert(replacement, at: 0) }
        guard split else { return [(t, atOrigin)] }
        // Cut before every replacement but one at the start (the delimiter goes with what follows it).
        var out: [(scalars: [Unicode.Scalar], atOrigin: AtOrigin)] = []
        var start = 0
        for i in 1..<max(t.count, 1) where t[i] == replacement {
            out.append((Array(t[start..<i]), atOrigin && start == 0))
            start = i
        }
        if start < t.count { out.append((Array(t[start...]), atOrigin && start == 0)) }
        return out
    }
}

/// One step of a tokenizer.json `pre_tokenizer` (alone or in a `Sequence`) that Stepwise runs for Unigram.
enum PreTokenizerStep: Sendable, Equatable {
    /// Cuts at White_Space scalars and drops them.
    case whitespaceSplit
    case metaspace(Metaspace)

    /// The splits after this step; empty ones are dropped, as `tokenizers` drops them.
    func apply(_ splits: [(scalars: [Unicode.Scalar], atOrigin: AtOrigin)]) -> [(scalars: [Unicode.Scalar], atOrigin: AtOrigin)] {
        var out: [(scalars: [Unicode.Scalar], atOrigin: AtOrigin)] = []
        for (s, origin) in splits {
            switch self {
            case .whitespaceSplit:
                var start = 0
                for i in 0...s.count where i == s.count || s[i].properties.isWhitespace {
                    if start < i { out.append((Array(s[start..<i]), origin && start == 0)) }
                    start = i + 1
                }
            case .metaspace(let m):
                out += m.pretokenize(s, atOrigin: origin).filter { !$0.scalars.isEmpty }
            }
        }
        return out
    }

    /// The steps a tokenizer.json `pre_tokenizer` describes: null (none), `Metaspace`, `WhitespaceSplit`, or
    /// a `Sequence` of those.
    static func read(_ v: JSONValue?, path: String) throws -> [PreTokenizerStep] {
        guard let v, v != .null else { return [] }
        guard let type = v["type"]?.string else {
            throw StepwiseError.file(path, "pre_tokenizer is \(v.shown) without a \"type\"")
        }
        switch type {
        case "Metaspace": return [.metaspace(try Metaspace.read(v, what: "pre_tokenizer", path: path))]
        case "WhitespaceSplit": return [.whitespaceSplit]
        case "Sequence":
            guard let list = v["pretokenizers"]?.array else {
                throw StepwiseError.file(path, "pre_tokenizer Sequence has no \"pretokenizers\" list")
            }
            return try list.flatMap { try read($0, path: path) }
        default:
            throw StepwiseError(.unsupported, "\(path): pre_tokenizer \(type) is not supported for Unigram (Metaspace, WhitespaceSplit, or a Sequence of them)")
        }
    }
}

extension TextNormalizer {
    /// The normalizer a tokenizer.json `normalizer` describes; nil for null.
    static func read(_ v: JSONValue?, path: String) throws -> TextNormalizer? {
        guard let v, v != .null else { return nil }
        guard let type = v["type"]?.string else {
            throw StepwiseError.file(path, "normalizer is \(v.shown) without a \"type\"")
        }
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "StripAccents": return .stripAccents
        case "Nmt": return .nmt
        case "Strip": return .strip(left: v["strip_left"]?.bool ?? true, right: v["strip_right"]?.bool ?? true)
        case "Replace":
            let p = try ReplacePattern.read(v["pattern"], what: "normalizer Replace", path: path)
            guard let c = v["content"]?.string else { throw StepwiseError.file(path, "normalizer Replace has no \"content\" string") }
            return .replace(p, content: Array(c.unicodeScalars))
        case "Prepend":
            guard let p = v["prepend"]?.string else { throw StepwiseError.file(path, "normalizer Prepend has no \"prepend\" string") }
            return .prepend(Array(p.unicodeScalars))
        case "Precompiled":
            guard let s = v["precompiled_charsmap"]?.string else {
                throw StepwiseError.file(path, "normalizer Precompiled has no precompiled_charsmap string (base64)")
            }
            return .precompiled(try PrecompiledCharsmap(base64: s, source: path))
        case "Sequence":
            guard let list = v["normalizers"]?.array else {
                throw StepwiseError.file(path, "normalizer Sequence has no \"normalizers\" list")
            }
            return .sequence(try list.compactMap { try read($0, path: path) })
        default:
            throw StepwiseError(.unsupported, "\(path): normalizer \(type) is not supported for Unigram (NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend, Precompiled, Nmt, Sequence)")
        }
    }
}

// MARK: - Decoders

/// A tokenizer.json `decoder`: turns the pieces of some ids back into text, as `tokenizers` does
/// (`decode_chain` on the list of pieces, then the results joined).
indirect enum TokenDecoder: Sendable {
    /// `replacement` → space; in the first piece the replacements are dropped (unless the scheme is never).
    case metaspace(Metaspace)
    /// Runs of `<0xAB>` pieces become their bytes read as UTF-8, or one U+FFFD per byte when they are not.
    case byteFallback
    /// All pieces joined into one.
    case fuse
    /// Up to `start` leading and `stop` trailing `content` characters removed from each piece.
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case replace(ReplacePattern, content: [Unicode.Scalar])
    case sequence([TokenDecoder])

    /// The text of the pieces; with no decoder `tokenizers` joins the pieces with spaces.
    static func decode(_ pieces: [String], with decoder: TokenDecoder?) -> String {
        guard let decoder else { return pieces.joined(separator: " ") }
        return decoder.chain(pieces).joined()
    }

    func chain(_ pieces: [String]) -> [String] {
        switch self {
        case .metaspace(let m):
            return pieces.enumerated().map { i, p in
                var v = String.UnicodeScalarView()
                for c in p.unicodeScalars {
                    if c == m.replacement {
                        if i == 0 && m.prependScheme != .never { continue }
                        v.append(" ")
                    } else {
                        v.append(c)
                    }
                }
                return String(v)
            }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let s = String(validating: pending, as: UTF8.self) {
                    out.append(s)
                } else {
                    out += Array(repeating: "\u{FFFD}", count: pending.count)
                }
                pending.removeAll()
            }
            for p in pieces {
                if let b = SentencePieceBPE.byteValue(p) {
                    pending.append(b)
                } else {
                    flush()
                    out.append(p)
                }
            }
            flush()
            return out
        case .fuse:
            return [pieces.joined()]
        case .strip(let content, let start, let stop):
            return pieces.map { p in
                let c = Array(p.unicodeScalars)
                var lo = 0, hi = c.count
                while lo < min(start, c.count) && c[lo] == content { lo += 1 }
                var n = 0
                while n < stop && hi > lo && c[hi - 1] == content { hi -= 1; n += 1 }
                var v = String.UnicodeScalarView()
                v.append(contentsOf: c[lo..<hi])
                return String(v)
            }
        case .replace(let pattern, let content):
            return pieces.map { p in
                var v = String.UnicodeScalarView()
                v.append(contentsOf: pattern.replace(in: Array(p.unicodeScalars), with: content).0)
                return String(v)
            }
        case .sequence(let steps):
            var t = pieces
            for s in steps { t = s.chain(t) }
            return t
        }
    }

    /// The decoder a tokenizer.json `decoder` describes; nil for null.
    static func read(_ v: JSONValue?, path: String) throws -> TokenDecoder? {
        guard let v, v != .null else { return nil }
        guard let type = v["type"]?.string else {
            throw StepwiseError.file(path, "decoder is \(v.shown) without a \"type\"")
        }
        switch type {
        case "Metaspace": return .metaspace(try Metaspace.read(v, what: "decoder", path: path))
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Strip":
            guard let c = v["content"]?.string, c.unicodeScalars.count == 1,
                  let start = v["start"]?.int, let stop = v["stop"]?.int, start >= 0, stop >= 0 else {
                throw StepwiseError.file(path, "decoder Strip needs a one-character \"content\" and whole \"start\" and \"stop\" counts")
            }
            return .strip(content: c.unicodeScalars.first!, start: start, stop: stop)
        case "Replace":
            let p = try ReplacePattern.read(v["pattern"], what: "decoder Replace", path: path)
            guard let c = v["content"]?.string else { throw StepwiseError.file(path, "decoder Replace has no \"content\" string") }
            return .replace(p, content: Array(c.unicodeScalars))
        case "Sequence":
            guard let list = v["decoders"]?.array else {
                throw StepwiseError.file(path, "decoder Sequence has no \"decoders\" list")
            }
            return .sequence(try list.compactMap { try read($0, path: path) })
        default:
            throw StepwiseError(.unsupported, "\(path): decoder \(type) is not supported for Unigram (Metaspace, ByteFallback, Fuse, Strip, Replace, Sequence)")
        }
    }
}
