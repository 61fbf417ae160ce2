import Foundation

/// Writes tensors and token lists to `.json`, `.npy` and `.csv`, atomically and never over an
/// existing file unless asked.
public enum Exporter {
    /// The formats, chosen by the file's extension: data (`json`, `npy`, `csv`) or a picture
    /// (`svg`, `png`, `html`: ``PictureExport``).
    public enum Format: String, CaseIterable, Sendable {
        case json, npy, csv, svg, png, html

        /// A picture of what `show` prints rather than the numbers themselves.
        public var isPicture: Bool { self == .svg || self == .png || self == .html }
    }

    /// The format for a path, from its extension.
    /// - Throws: ``StepwiseError`` for any other extension.
    public static func format(for path: String) throws -> Format {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        guard let f = Format(rawValue: ext) else {
            throw StepwiseError.usage("cannot export to '\(path)': use a .json, .npy, .csv, .svg, .png or .html file name")
        }
        return f
    }

    /// The bytes of a step in a format. JSON is `{"name", "shape", "axes", "data"}` with `data` flat and
    /// row-major (a masked score, −∞, is `null`); NPY is float32, C order; CSV is one row per index of the
    /// first axis (rank ≤ 2; a header row names the columns) or `index,value` lines for rank 1.
    public static func encode(name: String, tensor: Tensor, axes: [Axis], format: Format) throws -> Data {
        switch format {
        case .json:
            var s = "{\"name\": \(jsonString(name)), \"shape\": [\(tensor.shape.map(String.init).joined(separator: ", "))], "
            s += "\"axes\": [" + axes.map { axis in
                var a = "{\"name\": \(jsonString(axis.name))"
                if let labels = axis.labels { a += ", \"labels\": [" + labels.map(jsonString).joined(separator: ", ") + "]" }
                return a + "}"
            }.joined(separator: ", ") + "], "
            s += "\"data\": [" + tensor.data.map(jsonNumber).joined(separator: ", ") + "]}\n"
            return Data(s.utf8)
        case .npy:
            return npy(tensor)
        case .csv:
            return Data(csv(tensor, axes: axes).utf8)
        case .svg, .png, .html:
            throw StepwiseError.usage("a .\(format.rawValue) file is a picture: PictureExport draws it")
        }
    }

    /// `{"ids": [...], "pieces": [...]}` for the `tokens` export; with an encoder-decoder model's `source`,
    /// also `"source_ids"` and `"source_pieces"` (JSON), or a `sequence` column (CSV).
    public static func encodeTokens(ids: [Int], pieces: [String], source: (ids: [Int], pieces: [String])? = nil,
                                    format: Format) throws -> Data {
        func list(_ xs: [Int]) -> String { "[" + xs.map(String.init).joined(separator: ", ") + "]" }
        switch format {
        case .json:
            var s = "{"
            if let source {
                s += "\"source_ids\": " + list(source.ids) + ", \"source_pieces\": [" + source.pieces.map(jsonString).joined(separator: ", ") + "], "
            }
            s += "\"ids\": " + list(ids) + ", \"pieces\": [" + pieces.map(jsonString).joined(separator: ", ") + "]}\n"
            return Data(s.utf8)
        case .csv:
            guard let source else {
                var s = "position,id,piece\n"
                for (i, (id, p)) in zip(ids, pieces).enumerated() { s += "\(i),\(id),\(csvField(p))\n" }
                return Data(s.utf8)
            }
            var s = "sequence,position,id,piece\n"
            for (i, (id, p)) in zip(source.ids, source.pieces).enumerated() { s += "source,\(i),\(id),\(csvField(p))\n" }
            for (i, (id, p)) in zip(ids, pieces).enumerated() { s += "target,\(i),\(id),\(csvField(p))\n" }
            return Data(s.utf8)
        case .npy:
            if source != nil {
                throw StepwiseError.usage("an .npy file holds one array: export tokens of a source and a target to .json or .csv")
            }
            return npy(Tensor(shape: [ids.count], data: ids.map(Float.init)))
        case .svg, .png, .html:
            throw StepwiseError.usage("'tokens' exports to .json, .npy or .csv; a picture is of a step, 'heads L' or 'top K'")
        }
    }

    /// Writes `data` to `path` whole (``AtomicFile``): never over an existing file unless `force`, never
    /// through a symbolic link or into a special file.
    /// - Parameter shownAs: the path as the user typed it, for messages (default `path`).
    public static func write(_ data: Data, to path: String, force: Bool, shownAs: String? = nil) throws {
        try AtomicFile.write(data, to: path, replace: force, shownAs: shownAs)
    }

    // MARK: - Encoders

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    /// Shortest text that reads back as the same float32; non-finite values become `null`.
    static func jsonNumber(_ v: Float) -> String {
        v.isFinite ? "\(v)" : "null"
    }

    static func npy(_ t: Tensor) -> Data {
        let shape = t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let hl = UInt16(header.utf8.count)
        d.append(contentsOf: [UInt8(hl & 0xff), UInt8(hl >> 8)])
        d.append(contentsOf: Array(header.utf8))
        t.data.withUnsafeBufferPointer { p in
            for v in p {
                let b = v.bitPattern.littleEndian
                d.append(contentsOf: [UInt8(b & 0xff), UInt8((b >> 8) & 0xff), UInt8((b >> 16) & 0xff), UInt8(b >> 24)])
            }
        }
        return d
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == " " })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func csv(_ t: Tensor, axes: [Axis]) -> String {
        func num(_ v: Float) -> String { v.isFinite ? "\(v)" : (v > 0 ? "inf" : (v < 0 ? "-inf" : "nan")) }
        var s = ""
        if t.rank <= 1 {
            s += "index,value\n"
            for (i, v) in t.data.enumerated() { s += "\(i),\(num(v))\n" }
            return s
        }
        // Rank ≥ 2: rows are every index of the leading axes, columns the last axis.
        let cols = t.shape[t.rank - 1]
        let rows = t.count / Swift.max(cols, 1)
        let lead = axes.dropLast().map(\.name)
        s += (lead + (0..<cols).map { "\(axes.last!.name)_\($0)" }).map(csvField).joined(separator: ",")
        if t.rank == 2, axes[0].labels != nil { s = "label," + s }
        s += "\n"
        let leadShape = Array(t.shape.dropLast())
        for r in 0..<rows {
            var idx: [Int] = []
            var rem = r
            for n in leadShape.reversed() { idx.insert(rem % n, at: 0); rem /= n }
            var fields = idx.map(String.init)
            if t.rank == 2, let labels = axes[0].labels { fields.insert(csvField(labels[r]), at: 0) }
            fields += t.data[(r * cols)..<((r + 1) * cols)].map(num)
            s += fields.joined(separator: ",") + "\n"
        }
        return s
    }
}
