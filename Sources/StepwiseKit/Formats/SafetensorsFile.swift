import Foundation

/// A memory-mapped `.safetensors` file: an 8-byte little-endian header length, a JSON header that maps
/// each tensor name to its dtype, shape and byte range, then the raw data.
///
/// Every field of the header is validated before a byte of data is read: dtypes, shapes, offsets
/// inside the file, ranges that match their shape, no overlaps. A malformed file is a ``StepwiseError``
/// that names the file and what is wrong, never a crash. As with ``GGUFFile``, a truncated file is caught
/// by these checks; a file shrunk by another process after it was mapped can still raise SIGBUS when a
/// tensor is read (see GGUFFile and tools/fuzz/README.md).
public final class SafetensorsFile: WeightSource, @unchecked Sendable {
    public let path: String
    public let tensorNames: [String]
    /// The `__metadata__` string map, if any.
    public let metadata: [String: String]

    private let file: MappedFile
    private let entries: [Entry]
    private let index: [String: Int]
    private let dataStart: Int

    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int  // relative to the data section
        var end: Int
    }

    /// The element types Stepwise reads.
    enum DType: String {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
        /// Integer tensors (e.g. BERT's `position_ids` buffer), converted to float when read.
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8"

        var size: Int {
            switch self {
            case .f32, .i32: return 4
            case .f16, .bf16, .i16: return 2
            case .f64, .i64: return 8
            case .i8, .u8: return 1
            }
        }
    }

    /// The largest header accepted (the format's reference reader uses 100 MB).
    static let maxHeaderBytes = 100_000_000

    /// Opens and validates a safetensors file.
    /// - Throws: ``StepwiseError`` naming the file and the first problem found.
    public init(path: String) throws {
        file = try MappedFile(path: path)
        self.path = path
        let bytes = file.bytes
        guard bytes.count >= 8 else {
            throw StepwiseError.file(path, "is \(bytes.count) bytes, too short for a safetensors header (needs at least 8)")
        }
        let headerLen = bytes.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLen <= UInt64(Self.maxHeaderBytes) else {
            throw StepwiseError.file(path, "header length \(headerLen) is implausible (not a safetensors file?)")
        }
        guard Int(headerLen) <= bytes.count - 8 else {
            throw StepwiseError.file(path, "header says \(headerLen) bytes but the file has only \(bytes.count - 8) after the length (truncated?)")
        }
        dataStart = 8 + Int(headerLen)
        let dataSize = bytes.count - dataStart
        // The header is read straight into entries by a strict pull parser (duplicate names, numbers that
        // are not whole, trailing text are errors): a header of a million tiny entries costs about its own
        // size, not the gigabytes Foundation's dictionaries took.
        var r = JSONReader(path: path, bytes: UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart]), maxValues: 0)
        // Safetensors writers pad the header with spaces; the reference reader accepts trailing spaces only.
        guard (try? r.peek()) == .object else {
            if case .some(let k) = try? r.peek() {
                throw StepwiseError.file(path, "header is \(k.article), not a JSON object")
            }
            throw StepwiseError.file(path, "header is not valid JSON (not a safetensors file, or corrupt)")
        }
        var list: [Entry] = []
        var index: [String: Int] = [:]
        var meta: [String: String] = [:]
        var sawMetadata = false
        do {
            try r.object("the header", checkDuplicates: false) { r, name in
                if name == "__metadata__" {
                    guard !sawMetadata else { throw StepwiseError.file(path, "key '__metadata__' appears twice in the header") }
                    sawMetadata = true
                    try r.object("__metadata__") { r, k in meta[k] = try r.string("__metadata__.\(k)") }
                    return
                }
                guard index[name] == nil else {
                    throw StepwiseError.file(path, "tensor '\(name)' appears twice in the header")
                }
                index[name] = list.count
                list.append(try Self.entry(&r, name: name, path: path, dataSize: dataSize))
            }
            try r.end()
        } catch let e as StepwiseError where e.message.hasPrefix(path + ": is not valid JSON") {
            throw StepwiseError.file(path, "header" + e.message.dropFirst(path.count + 1))
        }
        // Ranges must not overlap.
        let byBegin = list.indices.sorted { (list[$0].begin, list[$0].end) < (list[$1].begin, list[$1].end) }
        for (a, b) in zip(byBegin, byBegin.dropFirst()) where list[b].begin < list[a].end {
            throw StepwiseError.file(path, "tensors '\(list[a].name)' and '\(list[b].name)' overlap")
        }
        self.entries = list
        self.index = index
        self.tensorNames = byBegin.map { list[$0].name }
        self.metadata = meta
    }

    /// One tensor's entry: `{"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}`, checked against
    /// the data section.
    private static func entry(_ r: inout JSONReader, name: String, path: String, dataSize: Int) throws -> Entry {
        var dtypeName: String?
        var shape: [Int]?
        var offsets: [Int]?
        let what = "tensor '\(name)'"
        // Dimensions and offsets beyond 2^53 are refused, as the float-based readers cannot represent them.
        let limit = 9_007_199_254_740_992
        try r.object(what) { r, key in
            switch key {
            case "dtype":
                if try r.null() { return }
                dtypeName = try r.string("\(what) dtype")
            case "shape":
                guard try r.peek() == .array else { throw StepwiseError.file(path, "\(what) has a malformed shape (not an array)") }
                var s: [Int] = []
                try r.array("\(what) shape") { r, i in
                    guard try r.peek() == .number, let n = try? r.number("").int, (0..<limit).contains(n) else {
                        throw StepwiseError.file(path, "\(what) has a malformed shape (dimension \(i) is not a whole number ≥ 0)")
                    }
                    s.append(n)
                }
                shape = s
            case "data_offsets":
                guard try r.peek() == .array else { throw StepwiseError.file(path, "\(what) has malformed data_offsets (not an array)") }
                var o: [Int] = []
                try r.array("\(what) data_offsets") { r, _ in
                    guard try r.peek() == .number, let n = try? r.number("").int, abs(n) < limit else {
                        throw StepwiseError.file(path, "\(what) has malformed data_offsets (not whole numbers below 2^53)")
                    }
                    o.append(n)
                }
                offsets = o
            default:
                try r.skip()
            }
        }
        guard let dtypeName else {
            throw StepwiseError.file(path, "\(what) has no dtype")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw StepwiseError(.unsupported, "\(path): \(what) has dtype \(dtypeName); Stepwise reads F32, F16, BF16, F64 and I64/I32/I16/I8/U8")
        }
        guard let shape else { throw StepwiseError.file(path, "\(what) has a malformed shape (missing)") }
        guard let offs = offsets, offs.count == 2 else {
            throw StepwiseError.file(path, "\(what) has malformed data_offsets (expected [begin, end])")
        }
        let (begin, end) = (offs[0], offs[1])
        guard begin >= 0, end >= begin, end <= dataSize else {
            throw StepwiseError.file(path, "\(what) spans bytes \(begin)..<\(end) but the data section has \(dataSize) (truncated?)")
        }
        var elements = 1
        for d in shape {
            let (p, o) = elements.multipliedReportingOverflow(by: d)
            guard !o else { throw StepwiseError.file(path, "\(what) shape \(shape) overflows") }
            elements = p
        }
        let (nbytes, o2) = elements.multipliedReportingOverflow(by: dtype.size)
        guard !o2, nbytes == end - begin else {
            throw StepwiseError.file(path, "\(what) has shape \(shape) of \(dtypeName) (\(elements) values) but \(end - begin) bytes")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    public func tensorInfo(_ name: String) -> WeightInfo? {
        index[name].map { entries[$0] }.map { WeightInfo(shape: $0.shape, dtype: $0.dtype.rawValue, byteCount: $0.end - $0.begin) }
    }

    /// A matrix's float32, float16 or bfloat16 values in the mapping (little-endian, as the format says).
    public func storedBytes(_ name: String) -> (format: StoredMatrix.Format, bytes: UnsafeRawBufferPointer, owner: AnyObject)? {
        guard let e = index[name].map({ entries[$0] }), e.shape.count == 2,
              let format = StoredMatrix.Format(safetensors: e.dtype.rawValue) else { return nil }
        return (format, UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + e.begin)..<(dataStart + e.end)]), self)
    }

    public func tensor(_ name: String) throws -> Tensor {
        guard let e = index[name].map({ entries[$0] }) else {
            throw StepwiseError.file(path, "has no tensor '\(name)'")
        }
        let n = e.shape.reduce(1, *)
        let raw = UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + e.begin)..<(dataStart + e.end)])
        var out = [Float](repeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { o in
            switch e.dtype {
            case .f32:
                for i in 0..<n { o[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .f16:
                for i in 0..<n { o[i] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
            case .bf16:
                for i in 0..<n { o[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
            case .f64:
                for i in 0..<n { o[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case .i64:
                for i in 0..<n { o[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            case .i32:
                for i in 0..<n { o[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case .i16:
                for i in 0..<n { o[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case .i8:
                for i in 0..<n { o[i] = Float(raw.loadUnaligned(fromByteOffset: i, as: Int8.self)) }
            case .u8:
                for i in 0..<n { o[i] = Float(raw[i]) }
            }
        }
        return Tensor(shape: e.shape, data: out)
    }
}
