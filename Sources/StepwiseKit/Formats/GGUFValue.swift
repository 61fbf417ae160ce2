/// The type tag of a GGUF metadata value, as stored in the file (a little-endian `uint32`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The name used in messages and `info` (`uint32`, `string`, ...).
    public var name: String { String(describing: self) }

    /// Bytes a value of this type takes in the file, for fixed-size types; nil for strings and arrays.
    var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The fewest bytes one value of this type can take: a string is at least its 8-byte length, an array
    /// its 4-byte element type and 8-byte count.
    var minimumSize: Int { fixedSize ?? (self == .string ? 8 : 12) }
}

/// One metadata value of a GGUF file.
///
/// Numbers keep the exact type the file stored; the accessors (``int``, ``float``, ``string``,
/// ``strings``, ...) convert where the conversion is exact and return nil otherwise, so a model can ask
/// `file.metadata["llama.block_count"]?.int` without caring whether the writer chose `uint32` or `int64`.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    /// An array, stored compactly (see ``GGUFArray``): numbers as the file's bytes, strings as `[String]`.
    case array(GGUFArray)

    /// An array value built from elements, all of type `elementType` (for tests and tools).
    public static func array(_ elementType: GGUFValueType, _ items: [GGUFValue]) -> GGUFValue {
        .array(GGUFArray(elementType, items))
    }

    /// The stored type.
    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// The type as text: `uint32`, `string`, `array<string>[49152]`.
    public var typeName: String {
        if case .array(let a) = self { return "array<\(a.elementType.name)>[\(a.count)]" }
        return type.name
    }

    /// Any integer type, if the value fits in `Int`.
    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// True for the integer types (whether or not the value fits in `Int`).
    public var isInteger: Bool {
        switch type {
        case .uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64: return true
        default: return false
        }
    }

    /// Any number (float or integer) as `Double`.
    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        case .uint64(let v): return Double(v)
        default: return int.map(Double.init)
        }
    }

    /// Any number (float or integer) as `Float`.
    public var float: Float? {
        if case .float32(let v) = self { return v }
        return double.map(Float.init)
    }

    /// A `bool` value.
    public var bool: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    /// A `string` value.
    public var string: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    /// The elements of an array value (decoded one at a time when read).
    public var array: GGUFArray? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// An array of strings (e.g. `tokenizer.ggml.tokens`).
    public var strings: [String]? {
        guard case .array(let a) = self, case .strings(let s) = a.storage else { return nil }
        return s
    }

    /// An array of integers (e.g. `tokenizer.ggml.token_type`), nil if any element is not an integer
    /// that fits in `Int`.
    public var ints: [Int]? {
        guard case .array(let a) = self else { return nil }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for item in a {
            guard let v = item.int else { return nil }
            out.append(v)
        }
        return out
    }

    /// An array of numbers as `Float` (e.g. `tokenizer.ggml.scores`).
    public var floats: [Float]? {
        guard case .array(let a) = self else { return nil }
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for item in a {
            guard let v = item.float else { return nil }
            out.append(v)
        }
        return out
    }
}

/// The elements of a GGUF array, kept about as compact as the file stores them.
///
/// Fixed-size elements (numbers, bools) are the file's little-endian bytes, decoded when an element is
/// read; strings are a `[String]`; nested arrays a `[GGUFArray]`. A 50 MB `array<uint8>` costs 50 MB,
/// not an enum box per element (which cost 40 bytes each, 2 GB).
public struct GGUFArray: Sendable, Equatable, RandomAccessCollection {
    /// The type of every element.
    public let elementType: GGUFValueType
    let storage: Storage

    enum Storage: Sendable, Equatable {
        /// `count * elementType.fixedSize` bytes, little-endian, as in the file.
        case fixed([UInt8])
        case strings([String])
        case arrays([GGUFArray])
    }

    init(elementType: GGUFValueType, storage: Storage) {
        self.elementType = elementType
        self.storage = storage
    }

    /// An array from elements, all of type `elementType`.
    public init(_ elementType: GGUFValueType, _ items: [GGUFValue]) {
        self.elementType = elementType
        switch elementType {
        case .string:
            storage = .strings(items.map { item in
                guard case .string(let s) = item else { preconditionFailure("GGUFArray: \(item.type.name) in array<string>") }
                return s
            })
        case .array:
            storage = .arrays(items.map { item in
                guard case .array(let a) = item else { preconditionFailure("GGUFArray: \(item.type.name) in array<array>") }
                return a
            })
        default:
            var bytes: [UInt8] = []
            for item in items {
                precondition(item.type == elementType, "GGUFArray: \(item.type.name) in array<\(elementType.name)>")
                switch item {
                case .uint8(let v): bytes.append(v)
                case .int8(let v): bytes.append(UInt8(bitPattern: v))
                case .bool(let v): bytes.append(v ? 1 : 0)
                case .uint16(let v): withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
                case .int16(let v): withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
                case .uint32(let v): withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
                case .int32(let v): withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
                case .uint64(let v): withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
                case .int64(let v): withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
                case .float32(let v): withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
                case .float64(let v): withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
                case .string, .array: preconditionFailure("unreachable")
                }
            }
            storage = .fixed(bytes)
        }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch storage {
        case .fixed(let b): return b.count / (elementType.fixedSize ?? 1)
        case .strings(let s): return s.count
        case .arrays(let a): return a.count
        }
    }

    public subscript(i: Int) -> GGUFValue {
        switch storage {
        case .strings(let s): return .string(s[i])
        case .arrays(let a): return .array(a[i])
        case .fixed(let b):
            let size = elementType.fixedSize!
            precondition(i >= 0 && i < b.count / size, "GGUFArray index \(i) out of range")
            return b.withUnsafeBytes { raw -> GGUFValue in
                let at = i * size
                switch elementType {
                case .uint8: return .uint8(raw[at])
                case .int8: return .int8(Int8(bitPattern: raw[at]))
                case .bool: return .bool(raw[at] != 0)
                case .uint16: return .uint16(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
                case .int16: return .int16(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int16.self)))
                case .uint32: return .uint32(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                case .int32: return .int32(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                case .uint64: return .uint64(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
                case .int64: return .int64(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self)))
                case .float32: return .float32(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))))
                case .float64: return .float64(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
                case .string, .array: preconditionFailure("unreachable")
                }
            }
        }
    }
}

extension GGUFValue: CustomStringConvertible {
    /// A short rendering for `info`: long strings and arrays are cut (`[a, b, c, … 49152 items]`).
    public var description: String {
        switch self {
        case .uint8(let v): return "\(v)"
        case .int8(let v): return "\(v)"
        case .uint16(let v): return "\(v)"
        case .int16(let v): return "\(v)"
        case .uint32(let v): return "\(v)"
        case .int32(let v): return "\(v)"
        case .uint64(let v): return "\(v)"
        case .int64(let v): return "\(v)"
        case .float32(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        case .string(let s):
            let cut = s.count > 60 ? String(s.prefix(57)) + "…" : s
            return "\"\(cut)\""
        case .array(let items):
            let shown = items.prefix(4).map(\.description).joined(separator: ", ")
            return items.count > 4 ? "[\(shown), … \(items.count) items]" : "[\(shown)]"
        }
    }
}
