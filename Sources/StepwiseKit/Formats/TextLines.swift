/// The lines of a small UTF-8 text file (`merges.txt`, `vocab.txt`, `vocab.bpe`), read the way Python's
/// text mode reads them: a UTF-8 byte-order mark at the start is dropped, lines end at LF, and a CR before
/// the LF (a file saved on Windows) is not part of the line.
///
/// Swift's `String.split(separator: "\n")` does not split CRLF (`"\r\n"` is one `Character`), which made
/// a CRLF `vocab.txt` one giant line; lines here are cut on bytes.
struct TextLines {
    let path: String
    /// Every line, without its line end; a final line end does not start an empty last line.
    let lines: [String]

    /// - Throws: ``StepwiseError`` naming the file if it cannot be read or is not UTF-8 (with the line).
    init(path: String) throws {
        self.path = path
        let file = try MappedFile(path: path)
        lines = try withExtendedLifetime(file) { () throws -> [String] in
            let b = file.bytes
            var start = b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0
            var out: [String] = []
            while start < b.count {
                var end = start
                while end < b.count && b[end] != 0x0A { end += 1 }
                let next = end + 1
                if end > start && b[end - 1] == 0x0D { end -= 1 }
                guard let s = String(validating: UnsafeRawBufferPointer(rebasing: b[start..<end]), as: UTF8.self) else {
                    throw StepwiseError.file(path, "is not UTF-8 text (line \(out.count + 1), bytes \(start)..<\(end))")
                }
                out.append(s)
                start = next
            }
            return out
        }
    }
}
