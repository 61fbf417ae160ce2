import Foundation

/// Byte-level byte-pair encoding, as GPT-2 defined it (and Llama 3, Qwen2, SmolLM after it).
///
/// Encoding: special tokens are matched whole first (leftmost, longest); the text between them is cut
/// into pre-tokens by a ``PreTokenizerKind``; each pre-token's UTF-8 bytes become one symbol each
/// (through ``ByteEncoder``'s byte-to-character map); then adjacent symbol pairs are merged, lowest merge
/// rank first and leftmost first among equal ranks, until no pair has a rank. Each final symbol is a
/// vocabulary piece. This is the order Hugging Face `tokenizers` and llama.cpp merge in.
///
/// Decoding joins the pieces' bytes and reads them as UTF-8, replacing invalid sequences with U+FFFD.
public struct ByteLevelBPE: Tokenizer {
    /// Vocabulary strings by id (nil for an id no file assigns).
    let pieces: [String?]
    /// Id of each vocabulary string.
    let idsByPiece: [String: Int]
    /// Merge table keyed by the two symbol ids (`left << 32 | right`).
    let merges: [UInt64: Merge]
    /// Id of each byte's one-character piece, -1 if the vocabulary lacks it.
    let byteIDs: [Int32]
    /// Strings matched whole in the text before pre-tokenization, with their ids.
    let specialIDs: [String: Int]
    /// The text of each special id (decoded literally, not through the byte map).
    let specialTextByID: [Int: String]
    /// The special strings as scalar arrays, grouped by first scalar, longest first.
    let specials: SpecialTokenMatcher
    /// Whether to apply Unicode NFC to the text between special tokens (Qwen2's tokenizer.json asks for it).
    let normalizeNFC: Bool
    /// Whether a space is put before each stretch of text between special tokens that does not start with
    /// one (`ByteLevel` `add_prefix_space`, as BART / RoBERTa-style files may set it): `Hello` is encoded as
    /// ` Hello`.
    public let addsPrefixSpace: Bool

    /// How text is cut into pre-tokens.
    public let preTokenizer: PreTokenizerKind
    /// When true, a pre-token that is itself a vocabulary piece becomes that piece without merging
    /// (Hugging Face `ignore_merges`; llama.cpp does it for the Llama 3 pre-tokenizer).
    public let ignoresMerges: Bool
    public let specialTokens: SpecialTokens
    /// Number of merges (ranks run from 0 to `mergeCount - 1`).
    public let mergeCount: Int

    /// One merge: its priority and the id of the joined piece.
    struct Merge {
        var rank: Int32
        var merged: Int32
    }

    public var vocabularySize: Int { pieces.count }

    /// The special strings matched whole in text, with their ids (`<|endoftext|>` → 50256).
    public var specialTokenIDs: [String: Int] { specialIDs }

    // MARK: - Building

    /// A tokenizer from a vocabulary and merge list, as a GGUF file stores them
    /// (`tokenizer.ggml.tokens`, `tokenizer.ggml.merges`, `tokenizer.ggml.pre`).
    /// - Parameters:
    ///   - vocabulary: the piece of each id, in id order, in byte-level form (`Ġthe`). When a string occurs
    ///     twice the later id wins for ``id(for:)`` (as llama.cpp does).
    ///   - merges: merge rules in rank order (rank 0 first); both parts and their concatenation must be
    ///     vocabulary pieces.
    ///   - preTokenizer: how text is cut before merging.
    ///   - specialTokens: strings matched whole in the text before pre-tokenization (`<|im_start|>`),
    ///     each with its id; they are never merged with neighbouring text.
    ///   - special: BOS/EOS ids and whether the model adds them.
    ///   - ignoreMerges: see ``ignoresMerges``; nil = what llama.cpp does for the pre-tokenizer
    ///     (true for ``PreTokenizerKind/llama3`` only).
    ///   - source: the file name used in error messages.
    /// - Throws: ``StepwiseError`` naming `source` when a merge or special token does not fit the vocabulary.
    public init(vocabulary: [String], merges: [(String, String)], preTokenizer: PreTokenizerKind,
                specialTokens: [String: Int] = [:], special: SpecialTokens = SpecialTokens(),
                ignoreMerges: Bool? = nil, source: String = "tokenizer") throws {
        var ids: [String: Int] = [:]
        ids.reserveCapacity(vocabulary.count)
        for (i, p) in vocabulary.enumerated() { ids[p] = i }
        try self.init(pieces: vocabulary, ids: ids, merges: merges, preTokenizer: preTokenizer,
                      specialTokens: specialTokens, special: special,
                      ignoreMerges: ignoreMerges ?? (preTokenizer == .llama3), normalizeNFC: false, source: source)
    }

    /// The designated initialiser: pieces by id (with holes) and the reverse map already checked.
    init(pieces: [String?], ids: [String: Int], merges mergeList: [(String, String)], preTokenizer: PreTokenizerKind,
         specialTokens: [String: Int], special: SpecialTokens, ignoreMerges: Bool, normalizeNFC: Bool,
         addPrefixSpace: Bool = false, lstrip: Set<Int> = [], rstrip: Set<Int> = [], source: String) throws {
        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(mergeList.count)
        for (rank, (a, b)) in mergeList.enumerated() {
            guard let ia = ids[a] else {
                throw StepwiseError.file(source, "merge \(rank) '\(a) \(b)': '\(a)' is not in the vocabulary")
            }
            guard let ib = ids[b] else {
                throw StepwiseError.file(source, "merge \(rank) '\(a) \(b)': '\(b)' is not in the vocabulary")
            }
            guard let m = ids[a + b] else {
                throw StepwiseError.file(source, "merge \(rank) '\(a) \(b)': the merged piece '\(a + b)' is not in the vocabulary")
            }
            // A repeated pair keeps its later rank, as GPT-2's and Hugging Face's dictionaries do.
            table[UInt64(ia) << 32 | UInt64(ib)] = Merge(rank: Int32(rank), merged: Int32(m))
        }
        for (text, id) in specialTokens {
            guard !text.isEmpty else { throw StepwiseError.file(source, "special token \(id) is an empty string") }
            guard id >= 0 && id < pieces.count else {
                throw StepwiseError.file(source, "special token '\(text)' has id \(id), outside the vocabulary (0..<\(pieces.count))")
            }
        }

        self.pieces = pieces
        self.idsByPiece = ids
        self.merges = table
        self.mergeCount = mergeList.count
        self.byteIDs = ByteEncoder.scalars.map { s in Int32(ids[String(s)] ?? -1) }
        self.specialIDs = specialTokens
        self.specialTextByID = Dictionary(specialTokens.map { ($0.value, $0.key) }, uniquingKeysWith: { a, b in min(a, b) })
        self.specials = SpecialTokenMatcher(specialTokens.map { (text: $0.key, id: $0.value) }, lstrip: lstrip, rstrip: rstrip)
        self.preTokenizer = preTokenizer
        self.ignoresMerges = ignoreMerges
        self.specialTokens = special
        self.normalizeNFC = normalizeNFC
        self.addsPrefixSpace = addPrefixSpace
    }

    // MARK: - Tokenizer

    public func piece(for id: Int) -> String? {
        id >= 0 && id < pieces.count ? pieces[id] : nil
    }

    public func id(for piece: String) -> Int? { idsByPiece[piece] }

    /// - Throws: ``StepwiseError`` when a byte of the text has no vocabulary piece (never for a complete
    ///   byte-level vocabulary).
    /// - Complexity: O(n log n) in the text length.
    public func encode(_ text: String) throws -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(text.utf8.count / 3 + 1)
        var bytes: [UInt8] = []
        for segment in segments(text) {
            switch segment {
            case .special(_, let id):
                out.append(id)
            case .text(let scalars):
                let scalars = prefixed(scalars)
                for r in preTokenizer.ranges(scalars) {
                    bytes.removeAll(keepingCapacity: true)
                    for s in scalars[r] { bytes.append(contentsOf: UTF8.encode(s)!) }
                    try mergeWord(bytes, into: &out, record: nil)
                }
            }
        }
        return out
    }

    public func explain(_ text: String) throws -> TokenizationExplanation {
        var result: [PretokenExplanation] = []
        for segment in segments(text) {
            switch segment {
            case .special(let s, let id):
                result.append(PretokenExplanation(text: s, initial: [s], rules: [], pieces: [s], ids: [id],
                                                  isSpecial: true))
            case .text(let scalars):
                let scalars = prefixed(scalars)
                for r in preTokenizer.ranges(scalars) {
                    var v = String.UnicodeScalarView()
                    v.append(contentsOf: scalars[r])
                    let word = String(v)
                    let bytes = Array(word.utf8)
                    var rules: [TokenizationRule] = []
                    var ids: [Int] = []
                    try mergeWord(bytes, into: &ids) { rule in rules.append(rule) }
                    result.append(PretokenExplanation(
                        text: word, initial: bytes.map { String(ByteEncoder.scalars[Int($0)]) }, rules: rules,
                        pieces: ids.map { pieces[$0] ?? "" }, ids: ids))
                }
            }
        }
        return TokenizationExplanation(pretokens: result)
    }

    /// Ids out of range are skipped; bytes that do not form valid UTF-8 become U+FFFD.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if let t = specialTextByID[id] {
                bytes.append(contentsOf: t.utf8)
            } else if let p = piece(for: id) {
                ByteEncoder.appendBytes(of: p, to: &bytes)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The text with a space put before it when ``addsPrefixSpace`` asks for one.
    func prefixed(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard addsPrefixSpace, scalars.first != " " else { return scalars }
        return [" "] + scalars
    }

    // MARK: - Special tokens

    typealias Segment = SpecialTokenMatcher.Segment

    /// The text cut at special tokens (leftmost match first, the longest among those starting there),
    /// the text between them NFC-normalized when the tokenizer says so.
    func segments(_ text: String) -> [Segment] {
        guard normalizeNFC else { return specials.segments(text) }
        return specials.segments(text) { part in
            var v = String.UnicodeScalarView()
            v.append(contentsOf: part)
            return Array(String(v).precomposedStringWithCanonicalMapping.unicodeScalars)
        }
    }

    // MARK: - Merging

    /// Pre-tokens of up to this many bytes get the full symbol list after every merge in ``explain(_:)``;
    /// longer ones get ``snapshotContext`` symbols either side of the merge, with `…` where the list is cut.
    public static let maxSnapshotSymbols = 512
    /// Symbols shown either side of a merge in a long pre-token's explanation.
    public static let snapshotContext = 3

    /// Byte-pair merges one pre-token's bytes and appends the ids of its final pieces.
    /// - Parameter record: called after each merge with the rule (for ``explain(_:)``); nil when encoding.
    func mergeWord(_ bytes: [UInt8], into out: inout [Int], record: ((TokenizationRule) -> Void)?) throws {
        if ignoresMerges, let whole = idsByPiece[ByteEncoder.encode(bytes)] {
            if let record {
                let p = pieces[whole] ?? ""
                record(TokenizationRule(description: "whole pre-token \(p) is in the vocabulary", rank: nil,
                                        symbols: [p]))
            }
            out.append(whole)
            return
        }
        let n = bytes.count
        var sym = [Int32](repeating: 0, count: n)
        for (k, b) in bytes.enumerated() {
            let id = byteIDs[Int(b)]
            guard id >= 0 else {
                throw StepwiseError(.unsupported, String(format: "the vocabulary has no piece for byte 0x%02X (%@)",
                                                         Int(b), String(ByteEncoder.scalars[Int(b)])))
            }
            sym[k] = id
        }
        if n == 1 {
            out.append(Int(sym[0]))
            return
        }
        // Doubly linked list of live symbols; a min-heap of candidate merges keyed (rank, position).
        var next = Array(1...n)
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = MinHeap()
        @inline(__always) func rank(_ a: Int32, _ b: Int32) -> Int32? {
            merges[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))]?.rank
        }
        for k in 0..<(n - 1) {
            if let r = rank(sym[k], sym[k + 1]) { heap.push(UInt64(r) << 32 | UInt64(k)) }
        }
        while let top = heap.pop() {
            let r = Int32(top >> 32)
            let k = Int(top & 0xFFFF_FFFF)
            guard alive[k], next[k] < n else { continue }
            let j = next[k]
            let key = UInt64(UInt32(sym[k])) << 32 | UInt64(UInt32(sym[j]))
            guard let m = merges[key], m.rank == r else { continue }  // stale entry
            let left = sym[k]
            let right = sym[j]
            sym[k] = m.merged
            alive[j] = false
            next[k] = next[j]
            if next[j] < n { prev[next[j]] = k }
            if let record {
                var now: [String] = []
                if n <= Self.maxSnapshotSymbols {
                    var p = 0
                    while p < n { now.append(pieces[Int(sym[p])] ?? ""); p = next[p] }
                } else {
                    // A long pre-token: the symbols around the merge only, "…" marking the cut ends, so an
                    // explanation costs O(merges), not O(merges × symbols) (15,000 letters took 2 GB).
                    var p = k
                    for _ in 0..<Self.snapshotContext where prev[p] >= 0 { p = prev[p] }
                    if prev[p] >= 0 { now.append("…") }
                    for _ in 0...(2 * Self.snapshotContext) where p < n {
                        now.append(pieces[Int(sym[p])] ?? "")
                        p = next[p]
                    }
                    if p < n { now.append("…") }
                }
                let a = pieces[Int(left)] ?? "", b = pieces[Int(right)] ?? ""
                record(TokenizationRule(description: "\(a) + \(b) -> \(a + b)", rank: Int(r), symbols: now))
            }
            if prev[k] >= 0, let r2 = rank(sym[prev[k]], sym[k]) {
                heap.push(UInt64(r2) << 32 | UInt64(prev[k]))
            }
            if next[k] < n, let r2 = rank(sym[k], sym[next[k]]) {
                heap.push(UInt64(r2) << 32 | UInt64(k))
            }
        }
        var p = 0
        while p < n {
            out.append(Int(sym[p]))
            p = next[p]
        }
    }
}

/// A binary min-heap of packed `(rank << 32 | position)` keys.
struct MinHeap {
    private var a: [UInt64] = []

    mutating func push(_ x: UInt64) {
        a.append(x)
        var i = a.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if a[p] <= a[i] { break }
            a.swapAt(p, i)
            i = p
        }
    }

    mutating func pop() -> UInt64? {
        guard let last = a.popLast() else { return nil }
        guard !a.isEmpty else { return last }
        let top = a[0]
        a[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < a.count && a[l] < a[m] { m = l }
            if r < a.count && a[r] < a[m] { m = r }
            if m == i { break }
            a.swapAt(m, i)
            i = m
        }
        return top
    }
}
