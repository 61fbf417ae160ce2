import Foundation

/// A memory-mapped `.safetensors` file: an 8-byte little-endian header length, a JSON header that maps
/// each tensor name to its dtype, shape and byte range, then the raw data.
///
/// Every field of the header is validated before a byte of data is read: dtypes, shapes, offsets
/// inside the file, ranges that match their shape, no overlaps. A malformed file is a ``StepwiseError``
/// that names the file and what is wrong, never a crash.
public final class SafetensorsFile: WeightSource, @unchecked Sendable {
    public let path: String
    public let tensorNames: [String]
    /// The `__metadata__` string map, if any.
    public let metadata: [String: String]

    private let file: MappedFile
    private let entries: [String: Entry]
    private let dataStart: Int

    struct Entry {
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
        let headerData = Data(bytes[8..<dataStart])
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw StepwiseError.file(path, "header is not valid JSON (not a safetensors file, or corrupt)")
        }
        guard let dict = json as? [String: Any] else {
            throw StepwiseError.file(path, "header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        var meta: [String: String] = [:]
        let dataSize = bytes.count - dataStart
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw StepwiseError.file(path, "__metadata__ is not an object")
                }
                for (k, v) in m { meta[k] = (v as? String) ?? "\(v)" }
                continue
            }
            guard let obj = value as? [String: Any] else {
                throw StepwiseError.file(path, "entry '\(name)' is not an object")
            }
            guard let dtypeName = obj["dtype"] as? String else {
                throw StepwiseError.file(path, "tensor '\(name)' has no dtype")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw StepwiseError(.unsupported, "\(path): tensor '\(name)' has dtype \(dtypeName); Stepwise reads F32, F16, BF16, F64 and I64/I32/I16/I8/U8")
            }
            guard let shapeAny = obj["shape"] as? [Any], let shape = Self.integers(shapeAny), shape.allSatisfy({ $0 >= 0 }) else {
                throw StepwiseError.file(path, "tensor '\(name)' has a malformed shape")
            }
            guard let offAny = obj["data_offsets"] as? [Any], let offs = Self.integers(offAny), offs.count == 2 else {
                throw StepwiseError.file(path, "tensor '\(name)' has malformed data_offsets")
            }
            let (begin, end) = (offs[0], offs[1])
            guard begin >= 0, end >= begin, end <= dataSize else {
                throw StepwiseError.file(path, "tensor '\(name)' spans bytes \(begin)..<\(end) but the data section has \(dataSize) (truncated?)")
            }
            var elements = 1
            for d in shape {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw StepwiseError.file(path, "tensor '\(name)' shape \(shape) overflows") }
                elements = p
            }
            let (nbytes, o2) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !o2, nbytes == end - begin else {
                throw StepwiseError.file(path, "tensor '\(name)' has shape \(shape) of \(dtypeName) (\(elements) values) but \(end - begin) bytes")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, begin: begin, end: end)
        }
        // Ranges must not overlap.
        let sorted = entries.sorted { $0.value.begin < $1.value.begin }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.value.begin < a.value.end {
            throw StepwiseError.file(path, "tensors '\(a.key)' and '\(b.key)' overlap")
        }
        self.entries = entries
        self.tensorNames = sorted.map(\.key)
        self.metadata = meta
    }

    private static func integers(_ a: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in a {
            guard let n = v as? NSNumber else { return nil }
            let d = n.doubleValue
            guard d == d.rounded(), d >= -9.0e15, d <= 9.0e15 else { return nil }
            out.append(n.intValue)
        }
        return out
    }

    public func tensorInfo(_ name: String) -> WeightInfo? {
        entries[name].map { WeightInfo(shape: $0.shape, dtype: $0.dtype.rawValue, byteCount: $0.end - $0.begin) }
    }

    public func tensor(_ name: String) throws -> Tensor {
        guard let e = entries[name] else {
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
