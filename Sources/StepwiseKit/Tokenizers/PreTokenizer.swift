/// How a byte-level BPE tokenizer cuts text into pre-tokens (word-like chunks) before merging bytes.
///
/// Each case is a published regular expression, implemented here by hand over Unicode scalars with the
/// same leftmost, ordered-alternation semantics as the Python `regex` module and Oniguruma (what Hugging
/// Face `tokenizers` runs). Character classes: `\p{L}` = general categories L*, `\p{N}` = N*,
/// `\s` = the Unicode White_Space property.
public enum PreTokenizerKind: String, Sendable, CaseIterable, Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|`
    /// ` ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// SmolLM / SmolLM2 (llama.cpp's `smollm`): every `\p{N}` is split off on its own first, then GPT-2's
    /// regex runs on each remaining piece.
    case smollm
    /// Qwen2: Llama 3's regex with single digits (`\p{N}` instead of `\p{N}{1,3}`).
    case qwen2

    /// The pre-tokenizer for a GGUF `tokenizer.ggml.pre` value, nil for names Stepwise does not know
    /// (the caller reports those as an unsupported file).
    public init?(ggufName: String) {
        switch ggufName {
        case "gpt-2", "default": self = .gpt2
        case "llama-bpe", "llama3": self = .llama3
        case "smollm": self = .smollm
        case "qwen2": self = .qwen2
        default: return nil
        }
    }

    /// The regex this kind implements, as written in tokenizer files (for smollm: the regex applied after
    /// the digit split).
    public var pattern: String {
        switch self {
        case .gpt2, .smollm: return Self.gpt2Pattern
        case .llama3: return Self.llama3Pattern
        case .qwen2: return Self.qwen2Pattern
        }
    }

    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Splits text into pre-tokens; their concatenation is the text.
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        return ranges(scalars).map { r in
            var v = String.UnicodeScalarView()
            v.append(contentsOf: scalars[r])
            return String(v)
        }
    }

    /// The pre-token ranges of a scalar array, in order, covering it exactly.
    /// - Complexity: O(n).
    func ranges(_ s: [Unicode.Scalar]) -> [Range<Int>] {
        let cls = s.map(ScalarClass.init)
        var out: [Range<Int>] = []
        out.reserveCapacity(s.count / 3 + 1)
        switch self {
        case .gpt2:
            Self.gpt2(s, cls, 0, s.count, &out)
        case .smollm:
            var start = 0
            for i in 0..<s.count where cls[i] == .number {
                if start < i { Self.gpt2(s, cls, start, i, &out) }
                out.append(i..<i + 1)
                start = i + 1
            }
            if start < s.count { Self.gpt2(s, cls, start, s.count, &out) }
        case .llama3:
            Self.llama3(s, cls, 0, s.count, maxDigits: 3, &out)
        case .qwen2:
            Self.llama3(s, cls, 0, s.count, maxDigits: 1, &out)
        }
        return out
    }

    // MARK: - The regexes by hand

    /// End of the run of `c` starting at `i` (exclusive), within `hi`.
    @inline(__always)
    private static func run(_ cls: [ScalarClass], _ i: Int, _ hi: Int, _ c: ScalarClass) -> Int {
        var j = i
        while j < hi && cls[j] == c { j += 1 }
        return j
    }

    /// `\s+(?!\S)|\s+` at `i` (a whitespace scalar): the run, minus its last scalar when a non-space follows
    /// and the run is longer than one.
    @inline(__always)
    private static func trailingWhitespace(_ cls: [ScalarClass], _ i: Int, _ hi: Int) -> Int {
        let e = run(cls, i, hi, .whitespace)
        if e == hi || e - i == 1 { return e }
        return e - 1
    }

    /// GPT-2's regex over `s[lo..<hi]` (the piece ends at `hi`: lookahead does not see past it).
    private static func gpt2(_ s: [Unicode.Scalar], _ cls: [ScalarClass], _ lo: Int, _ hi: Int,
                             _ out: inout [Range<Int>]) {
        var i = lo
        while i < hi {
            let end: Int
            if let n = contraction(s, i, hi, caseInsensitive: false) {
                end = i + n
            } else {
                // ` ?X+` for X in letters, numbers, others: an optional U+0020 then a run of one class.
                let start = (s[i] == " " && i + 1 < hi) ? i + 1 : i
                let c = cls[start]
                end = c == .whitespace ? trailingWhitespace(cls, i, hi) : run(cls, start, hi, c)
            }
            out.append(i..<end)
            i = end
        }
    }

    /// Llama 3's (or, with `maxDigits` 1, Qwen2's) regex over `s[lo..<hi]`.
    private static func llama3(_ s: [Unicode.Scalar], _ cls: [ScalarClass], _ lo: Int, _ hi: Int,
                               maxDigits: Int, _ out: inout [Range<Int>]) {
        var i = lo
        while i < hi {
            let end: Int
            if let n = contraction(s, i, hi, caseInsensitive: true) {
                end = i + n
            } else {
                switch cls[i] {
                case .letter:
                    // [^\r\n\p{L}\p{N}]?\p{L}+ with no prefix
                    end = run(cls, i, hi, .letter)
                case .number:
                    // \p{N}{1,3}
                    var e = i + 1
                    while e < hi && e - i < maxDigits && cls[e] == .number { e += 1 }
                    end = e
                case .other, .whitespace:
                    if !isCRLF(s[i]), i + 1 < hi, cls[i + 1] == .letter {
                        // [^\r\n\p{L}\p{N}]?\p{L}+ with one prefix scalar (punctuation or whitespace)
                        end = run(cls, i + 1, hi, .letter)
                    } else if let e = punctuation(s, cls, i, hi) {
                        end = e
                    } else {
                        // i is whitespace here. \s*[\r\n]+ ends after the run's last CR/LF, if it has one.
                        let e = run(cls, i, hi, .whitespace)
                        if let k = (i..<e).last(where: { isCRLF(s[$0]) }) {
                            end = k + 1
                        } else {
                            end = trailingWhitespace(cls, i, hi)
                        }
                    }
                }
            }
            out.append(i..<end)
            i = end
        }
    }

    /// ` ?[^\s\p{L}\p{N}]+[\r\n]*` at `i`: its end, or nil when it does not match.
    @inline(__always)
    private static func punctuation(_ s: [Unicode.Scalar], _ cls: [ScalarClass], _ i: Int, _ hi: Int) -> Int? {
        let start = (s[i] == " " && i + 1 < hi) ? i + 1 : i
        guard cls[start] == .other else { return nil }
        var e = run(cls, start, hi, .other)
        while e < hi && isCRLF(s[e]) { e += 1 }
        return e
    }

    /// Length of `'s|'t|'re|'ve|'m|'ll|'d` at `i`, nil when none matches. Case-insensitively as the
    /// regex engines do it (simple case folding: `ſ` U+017F folds to `s`).
    @inline(__always)
    private static func contraction(_ s: [Unicode.Scalar], _ i: Int, _ hi: Int, caseInsensitive: Bool) -> Int? {
        guard s[i] == "'", i + 1 < hi else { return nil }
        func fold(_ c: Unicode.Scalar) -> UInt32 {
            guard caseInsensitive else { return c.value }
            if c.value >= 0x41 && c.value <= 0x5A { return c.value + 32 }
            if c.value == 0x17F { return 0x73 }
            return c.value
        }
        let a = fold(s[i + 1])
        switch a {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        default: break
        }
        guard i + 2 < hi else { return nil }
        let b = fold(s[i + 2])
        switch (a, b) {
        case (0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C): return 3  // re ve ll
        default: return nil
        }
    }

    @inline(__always)
    private static func isCRLF(_ c: Unicode.Scalar) -> Bool { c == "\r" || c == "\n" }
}

/// The regex character class of one scalar.
enum ScalarClass: UInt8 {
    /// `\p{L}`: general category Lu, Ll, Lt, Lm or Lo.
    case letter
    /// `\p{N}`: general category Nd, Nl or No.
    case number
    /// `\s`: the White_Space property.
    case whitespace
    /// Everything else (punctuation, symbols, marks, controls, ...).
    case other

    @inline(__always)
    init(_ s: Unicode.Scalar) {
        let v = s.value
        if v < 128 {
            self = Self.ascii[Int(v)]
            return
        }
        let p = s.properties
        if p.isWhitespace { self = .whitespace; return }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = .other
        }
    }

    private static let ascii: [ScalarClass] = (0..<128).map { v in
        switch v {
        case 0x09...0x0D, 0x20: return .whitespace
        case 0x30...0x39: return .number
        case 0x41...0x5A, 0x61...0x7A: return .letter
        default: return .other
        }
    }
}
