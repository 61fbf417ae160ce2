import Foundation

/// SentencePiece's precompiled normalization table (`precompiled_charsmap`), as T5, mT5, XLM-R and
/// converted Marian tokenizer.json files carry it in a `Precompiled` normalizer.
///
/// The bytes are a little-endian `UInt32` trie size, the trie (a darts-clone double array of `UInt32`
/// units whose keys are UTF-8 byte strings), then a blob of NUL-terminated UTF-8 replacement strings; a
/// key's value is the offset of its replacement in the blob.
///
/// ``normalize(_:)`` applies it the way Hugging Face `tokenizers` does (its `Precompiled` normalizer),
/// which is what the ids of those tokenizer.json files were made with: the text is walked by grapheme
/// cluster; a cluster shorter than 6 bytes whose bytes start with a key is replaced whole by the
/// replacement of the *shortest* such key; otherwise each scalar is looked up alone (again the shortest
/// key it starts with) and kept when none matches. (SentencePiece itself takes the longest key at each
/// position; the two differ only where a key is a prefix of a longer one or spans clusters.)
struct PrecompiledCharsmap: Sendable {
    let units: [UInt32]
    let blob: [UInt8]
    /// The file named in errors.
    let source: String

    /// - Parameters:
    ///   - bytes: the decoded `precompiled_charsmap`.
    ///   - source: the file it comes from, for messages.
    /// - Throws: ``StepwiseError`` naming `source` when the bytes are too short for their header, the
    ///   trie size is not whole units, or the strings are not UTF-8.
    init(bytes: [UInt8], source: String) throws {
        let what = "normalizer Precompiled: precompiled_charsmap"
        guard bytes.count >= 4 else {
            throw StepwiseError.file(source, "\(what) is truncated: \(bytes.count) bytes, fewer than its 4-byte header")
        }
        let size = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        guard size % 4 == 0, size >= 4 else {
            throw StepwiseError.file(source, "\(what) says its trie takes \(size) bytes, which is not a whole number of 4-byte units")
        }
        guard size <= bytes.count - 4 else {
            throw StepwiseError.file(source, "\(what) is truncated: its trie takes \(size) bytes but only \(bytes.count - 4) follow the header")
        }
        var u = [UInt32](repeating: 0, count: size / 4)
        for k in 0..<u.count {
            let o = 4 + 4 * k
            u[k] = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
        }
        let strings = Array(bytes[(4 + size)...])
        guard String(validating: strings, as: UTF8.self) != nil else {
            throw StepwiseError.file(source, "\(what): its replacement strings are not UTF-8")
        }
        units = u
        blob = strings
        self.source = source
    }

    /// - Throws: ``StepwiseError`` when `base64` is not standard padded base64, or as ``init(bytes:source:)``.
    init(base64: String, source: String) throws {
        guard let data = Data(base64Encoded: base64) else {
            throw StepwiseError.file(source, "normalizer Precompiled: precompiled_charsmap is not valid base64")
        }
        try self.init(bytes: [UInt8](data), source: source)
    }

    // MARK: - The double array

    @inline(__always) private static func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    @inline(__always) private static func value(_ u: UInt32) -> Int { Int(u & 0x7FFF_FFFF) }
    @inline(__always) private static func label(_ u: UInt32) -> UInt32 { u & 0x8000_00FF }
    @inline(__always) private static func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }

    private func malformed(_ why: String) -> StepwiseError {
        StepwiseError.file(source, "normalizer Precompiled: precompiled_charsmap is malformed (\(why))")
    }

    /// The replacement of the shortest key `key` starts with (a NUL byte ends the key), nil if none.
    /// - Throws: ``StepwiseError`` when the trie leads outside itself or outside the strings (a crafted or
    ///   damaged table; `tokenizers` would stop the process there).
    func transform<C: Collection>(_ key: C) throws -> ArraySlice<UInt8>? where C.Element == UInt8 {
        var pos = Self.offset(units[0])
        for c in key {
            if c == 0 { break }
            pos ^= Int(c)
            guard pos < units.count else { throw malformed("unit \(pos) is past its \(units.count) units") }
            let unit = units[pos]
            if Self.label(unit) != UInt32(c) { return nil }
            pos ^= Self.offset(unit)
            if Self.hasLeaf(unit) {
                guard pos < units.count else { throw malformed("unit \(pos) is past its \(units.count) units") }
                let start = Self.value(units[pos])
                guard start <= blob.count else {
                    throw malformed("a replacement starts at byte \(start) of \(blob.count)")
                }
                guard start == blob.count || blob[start] & 0xC0 != 0x80 else {
                    throw malformed("a replacement starts inside a character, at byte \(start)")
                }
                var end = start
                while end < blob.count && blob[end] != 0 { end += 1 }
                return blob[start..<end]
            }
        }
        return nil
    }

    // MARK: - Normalizing

    /// The text normalized as `tokenizers`' `Precompiled` normalizer does (see the type's description).
    /// - Complexity: O(n) in the text's length (keys are at most 5 bytes).
    func normalize(_ scalars: [Unicode.Scalar]) throws -> [Unicode.Scalar] {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        func append(_ bytes: ArraySlice<UInt8>) {
            // The strings were checked to be UTF-8 and start on a character, and end at NUL or the end.
            out.append(contentsOf: String(decoding: bytes, as: UTF8.self).unicodeScalars)
        }
        for cluster in String(view) {
            let bytes = Array(cluster.utf8)
            if bytes.count < 6, let r = try transform(bytes) {
                append(r)
                continue
            }
            for s in cluster.unicodeScalars {
                if let r = try transform(UTF8.encode(s)!) {
                    append(r)
                } else {
                    out.append(s)
                }
            }
        }
        return out
    }
}
