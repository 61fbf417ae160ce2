/// A bounds-checked little-endian cursor over a GGUF file's header.
///
/// Every read first checks that the bytes exist, and every count is checked against what the
/// remaining bytes could hold before anything is allocated, so a corrupt file is a ``StepwiseError``
/// naming the file, the field and the offset, never a crash or a huge allocation.
struct GGUFByteReader {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    /// Arrays nested deeper than this are rejected (they would only serve to exhaust the stack).
    static let maxNesting = 8

    init(path: String, bytes: UnsafeRawBufferPointer) {
        self.path = path
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    func error(_ what: String) -> StepwiseError {
        StepwiseError.file(path, what)
    }

    /// Throws unless `n` more bytes exist.
    func need(_ n: Int, for what: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw error("truncated: \(what()) needs \(n) bytes at offset \(offset) but the file has \(bytes.count)")
        }
    }

    mutating func skip(_ n: Int, for what: @autoclosure () -> String) throws {
        try need(n, for: what())
        offset += n
    }

    mutating func load<T: FixedWidthInteger>(_: T.Type, for what: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, for: what())
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return v
    }

    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try load(UInt32.self, for: what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try load(UInt64.self, for: what()) }

    /// A count or length: a `uint64` that must be at most what `remaining` bytes could hold at
    /// `minimumSize` bytes per item.
    mutating func count(_ what: @autoclosure () -> String, minimumSize: Int) throws -> Int {
        let start = offset
        let n = try u64(what())
        let room = remaining / max(1, minimumSize)
        guard n <= UInt64(room) else {
            throw error("\(what()) is \(n) at offset \(start), but the \(remaining) bytes left could hold at most \(room)")
        }
        return Int(n)
    }

    /// A GGUF string: `uint64` byte length, then UTF-8 bytes (invalid sequences become U+FFFD).
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let n = try count("length of \(what())", minimumSize: 1)
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]), as: UTF8.self)
        offset += n
        return s
    }

    mutating func valueType(_ what: @autoclosure () -> String) throws -> GGUFValueType {
        let start = offset
        let raw = try u32("type of \(what())")
        guard let t = GGUFValueType(rawValue: raw) else {
            throw error("\(what()) has unknown value type \(raw) at offset \(start)")
        }
        return t
    }

    /// One metadata value of type `type`.
    mutating func value(_ type: GGUFValueType, _ what: @autoclosure () -> String, depth: Int = 0) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try load(UInt8.self, for: what()))
        case .int8: return .int8(try load(Int8.self, for: what()))
        case .uint16: return .uint16(try load(UInt16.self, for: what()))
        case .int16: return .int16(try load(Int16.self, for: what()))
        case .uint32: return .uint32(try load(UInt32.self, for: what()))
        case .int32: return .int32(try load(Int32.self, for: what()))
        case .uint64: return .uint64(try load(UInt64.self, for: what()))
        case .int64: return .int64(try load(Int64.self, for: what()))
        case .float32: return .float32(Float(bitPattern: try load(UInt32.self, for: what())))
        case .float64: return .float64(Double(bitPattern: try load(UInt64.self, for: what())))
        case .bool: return .bool(try load(UInt8.self, for: what()) != 0)
        case .string: return .string(try string(what()))
        case .array:
            guard depth < Self.maxNesting else {
                throw error("\(what()) nests arrays more than \(Self.maxNesting) deep")
            }
            let elementType = try valueType("elements of \(what())")
            let n = try count("element count of \(what())", minimumSize: elementType.minimumSize)
            switch elementType {
            case .string:
                // Exactly n: `count` bounded n by the bytes left (8 per string), so this is at most twice
                // the file, and growing by doubling would briefly hold two copies.
                var items: [String] = []
                items.reserveCapacity(n)
                for i in 0..<n { items.append(try string("\(what())[\(i)]")) }
                return .array(GGUFArray(elementType: .string, storage: .strings(items)))
            case .array:
                var items: [GGUFArray] = []
                items.reserveCapacity(n)
                for i in 0..<n {
                    guard case .array(let a) = try value(.array, "\(what())[\(i)]", depth: depth + 1) else { preconditionFailure() }
                    items.append(a)
                }
                return .array(GGUFArray(elementType: .array, storage: .arrays(items)))
            default:
                // Fixed-size elements: the bytes as stored (`count` already checked they exist).
                let size = n * elementType.fixedSize!
                try need(size, for: what())
                let raw = Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + size)]))
                offset += size
                return .array(GGUFArray(elementType: elementType, storage: .fixed(raw)))
            }
        }
    }
}
