/// A `Decoder` over a ``JSONValue`` tree, so `Codable` configs are read through ``JSONReader`` (duplicate
/// keys refused, exact integers) and every failure names the field: a `vocab_size` of `300.5` is
/// "field 'vocab_size' is 300.5; it must be a whole number", not "not valid JSON".
///
/// Failures are ``StepwiseError``s naming `path`, except a missing key, which is a
/// `DecodingError.keyNotFound` so the caller can say which family of config it expected.
struct JSONValueDecoder: Decoder {
    let value: JSONValue
    let path: String
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(value: JSONValue, path: String, codingPath: [any CodingKey] = []) {
        self.value = value
        self.path = path
        self.codingPath = codingPath
    }

    static func field(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    func mismatch(_ v: JSONValue, expected: String, at codingPath: [any CodingKey]) -> StepwiseError {
        StepwiseError.file(path, "field '\(Self.field(codingPath))' has the wrong type: it is \(v.shown), expected \(expected)")
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let o) = value else { throw mismatch(value, expected: "an object", at: codingPath) }
        return KeyedDecodingContainer(Keyed<Key>(object: o, decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let a) = value else { throw mismatch(value, expected: "an array", at: codingPath) }
        return Unkeyed(items: a, decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }

    // MARK: - Scalars

    func decodeScalar<T: Decodable>(_ type: T.Type, _ v: JSONValue, at codingPath: [any CodingKey]) throws -> T {
        let field = Self.field(codingPath)
        func number() throws -> JSONNumber {
            if case .null = v { throw StepwiseError.file(path, "field '\(field)' is null") }
            guard case .number(let n) = v else { throw mismatch(v, expected: "a number", at: codingPath) }
            return n
        }
        func whole() throws -> Int {
            if case .null = v { throw StepwiseError.file(path, "field '\(field)' is null") }
            guard case .number(let n) = v else { throw mismatch(v, expected: "a whole number", at: codingPath) }
            guard let i = n.int else {
                throw StepwiseError.file(path, "field '\(field)' is \(n.text); it must be a whole number\(n.isWhole ? " that fits in 64 bits" : "")")
            }
            return i
        }
        switch type {
        case is Int.Type: return try whole() as! T
        case is Int64.Type: return Int64(try whole()) as! T
        case is Int32.Type:
            let i = try whole()
            guard let x = Int32(exactly: i) else { throw StepwiseError.file(path, "field '\(field)' is \(i), which does not fit in 32 bits") }
            return x as! T
        case is UInt.Type:
            let i = try whole()
            guard i >= 0 else { throw StepwiseError.file(path, "field '\(field)' is \(i); it must not be negative") }
            return UInt(i) as! T
        case is Double.Type: return try number().double as! T
        case is Float.Type:
            let n = try number()
            let f = Float(n.double)
            guard f.isFinite || !n.double.isFinite else {
                throw StepwiseError.file(path, "field '\(field)' is \(n.text), which does not fit in a 32-bit float")
            }
            return f as! T
        case is Bool.Type:
            guard case .bool(let b) = v else {
                if case .null = v { throw StepwiseError.file(path, "field '\(field)' is null") }
                throw mismatch(v, expected: "true or false", at: codingPath)
            }
            return b as! T
        case is String.Type:
            guard case .string(let s) = v else {
                if case .null = v { throw StepwiseError.file(path, "field '\(field)' is null") }
                throw mismatch(v, expected: "a string", at: codingPath)
            }
            return s as! T
        default:
            return try T(from: JSONValueDecoder(value: v, path: path, codingPath: codingPath))
        }
    }

    // MARK: - Containers

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let object: JSONObject
        let decoder: JSONValueDecoder
        var codingPath: [any CodingKey] { decoder.codingPath }
        var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { object.values[key.stringValue] != nil }

        func decodeNil(forKey key: Key) throws -> Bool {
            guard let v = object.values[key.stringValue] else { return true }
            return v == .null
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            guard let v = object.values[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
            }
            return try decoder.decodeScalar(type, v, at: codingPath + [key])
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            guard let v = object.values[key.stringValue], v != .null else { return nil }
            return try decoder.decodeScalar(type, v, at: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try JSONValueDecoder(value: object.values[key.stringValue] ?? .null, path: decoder.path,
                                 codingPath: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try JSONValueDecoder(value: object.values[key.stringValue] ?? .null, path: decoder.path,
                                 codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { decoder }
        func superDecoder(forKey key: Key) throws -> any Decoder {
            JSONValueDecoder(value: object.values[key.stringValue] ?? .null, path: decoder.path, codingPath: codingPath + [key])
        }
    }

    struct Index: CodingKey {
        var intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(_ i: Int) { intValue = i }
        init?(intValue: Int) { self.intValue = intValue }
        init?(stringValue: String) { return nil }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONValue]
        let decoder: JSONValueDecoder
        var currentIndex = 0
        var codingPath: [any CodingKey] { decoder.codingPath }
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        init(items: [JSONValue], decoder: JSONValueDecoder) {
            self.items = items
            self.decoder = decoder
        }

        mutating func next() throws -> (JSONValue, [any CodingKey]) {
            guard !isAtEnd else {
                throw StepwiseError.file(decoder.path, "field '\(JSONValueDecoder.field(codingPath))' has too few elements")
            }
            defer { currentIndex += 1 }
            return (items[currentIndex], codingPath + [Index(currentIndex)])
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, items[currentIndex] == .null else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (v, p) = try next()
            return try decoder.decodeScalar(type, v, at: p)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            let (v, p) = try next()
            return try JSONValueDecoder(value: v, path: decoder.path, codingPath: p).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let (v, p) = try next()
            return try JSONValueDecoder(value: v, path: decoder.path, codingPath: p).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder {
            let (v, p) = try next()
            return JSONValueDecoder(value: v, path: decoder.path, codingPath: p)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let decoder: JSONValueDecoder
        var codingPath: [any CodingKey] { decoder.codingPath }
        func decodeNil() -> Bool { decoder.value == .null }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try decoder.decodeScalar(type, decoder.value, at: codingPath)
        }
    }
}
