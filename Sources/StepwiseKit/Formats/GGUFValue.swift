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
    /// An array: its element type (kept so that an empty array still has one) and its elements, all of
    /// that type. Elements may themselves be arrays.
    case array(GGUFValueType, [GGUFValue])

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
        if case .array(let t, let items) = self { return "array<\(t.name)>[\(items.count)]" }
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

    /// The elements of an array value.
    public var array: [GGUFValue]? {
        if case .array(_, let v) = self { return v }
        return nil
    }

    /// An array of strings (e.g. `tokenizer.ggml.tokens`).
    public var strings: [String]? {
        guard case .array(.string, let items) = self else { return nil }
        return items.map { item in
            guard case .string(let s) = item else { preconditionFailure("GGUFValue: non-string in array<string>") }
            return s
        }
    }

    /// An array of integers (e.g. `tokenizer.ggml.token_type`), nil if any element is not an integer
    /// that fits in `Int`.
    public var ints: [Int]? {
        guard case .array(_, let items) = self else { return nil }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let v = item.int else { return nil }
            out.append(v)
        }
        return out
    }

    /// An array of numbers as `Float` (e.g. `tokenizer.ggml.scores`).
    public var floats: [Float]? {
        guard case .array(_, let items) = self else { return nil }
        var out: [Float] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let v = item.float else { return nil }
            out.append(v)
        }
        return out
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
        case .array(_, let items):
            let shown = items.prefix(4).map(\.description).joined(separator: ", ")
            return items.count > 4 ? "[\(shown), … \(items.count) items]" : "[\(shown)]"
        }
    }
}
