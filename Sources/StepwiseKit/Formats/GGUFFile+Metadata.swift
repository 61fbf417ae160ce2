extension GGUFFile {
    // Typed metadata reads. Each returns nil when the key is absent and throws a ``StepwiseError``
    // naming the file, the key, what it holds and what was expected when the key is present with the
    // wrong type or an impossible value, so a wrong value never silently becomes a default.

    /// What a value holds, for messages: `a string ("1e-5")`, `array<int32>[3]`, `uint64 18446744073709551615`.
    static func shown(_ v: GGUFValue) -> String {
        switch v {
        case .string: return "a string (\(v.description))"
        case .array: return "an \(v.typeName)"
        default: return "\(v.type.name) \(v.description)"
        }
    }

    private func wrong(_ key: String, _ v: GGUFValue, expected: String) -> StepwiseError {
        StepwiseError.file(path, "\(key) is \(Self.shown(v)), expected \(expected)")
    }

    /// An integer value of any integer type, which must lie in `range`.
    public func integer(_ key: String, in range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let v = metadata[key] else { return nil }
        guard v.isInteger else { throw wrong(key, v, expected: "an integer") }
        guard let n = v.int, range.map({ $0.contains(n) }) ?? true else {
            let r = range.map { " (\($0.lowerBound)...\($0.upperBound))" } ?? ""
            throw StepwiseError.file(path, "\(key) is \(v.description), outside the possible range\(r)")
        }
        return n
    }

    /// A finite number of any numeric type.
    public func number(_ key: String) throws -> Double? {
        guard let v = metadata[key] else { return nil }
        guard let d = v.double, v.type != .bool else { throw wrong(key, v, expected: "a number (float32)") }
        guard d.isFinite else { throw StepwiseError.file(path, "\(key) is \(v.description), expected a finite number") }
        return d
    }

    /// A string value.
    public func text(_ key: String) throws -> String? {
        guard let v = metadata[key] else { return nil }
        guard let s = v.string else { throw wrong(key, v, expected: "a string") }
        return s
    }

    /// A bool value.
    public func flag(_ key: String) throws -> Bool? {
        guard let v = metadata[key] else { return nil }
        guard let b = v.bool else { throw wrong(key, v, expected: "a bool") }
        return b
    }

    /// An array of strings.
    public func stringArray(_ key: String) throws -> [String]? {
        guard let v = metadata[key] else { return nil }
        guard let s = v.strings else { throw wrong(key, v, expected: "an array of strings") }
        return s
    }

    /// An array of integers of any integer type, each fitting in `Int`.
    public func integerArray(_ key: String) throws -> [Int]? {
        guard let v = metadata[key] else { return nil }
        guard let a = v.array, a.elementType != .bool, let ints = v.ints else {
            throw wrong(key, v, expected: "an array of integers")
        }
        return ints
    }

    /// The number of elements of an array value, without decoding it.
    public func arrayCount(_ key: String) -> Int? { metadata[key]?.array?.count }
}
