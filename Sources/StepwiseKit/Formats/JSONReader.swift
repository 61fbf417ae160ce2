/// A strict, bounded JSON reader (RFC 8259) over a file's bytes, for the JSON files a model folder holds.
///
/// Foundation's readers on Linux accept duplicate keys silently (`JSONSerialization` keeps the last,
/// `JSONDecoder` the first), report `300.5` for an `Int` field as "not valid JSON" with no field name,
/// and turn a header of a million tiny objects into gigabytes of `NSDictionary`s. This reader:
///
/// - is a pull parser: callers walk objects and arrays with ``object(_:checkDuplicates:_:)`` and
///   ``array(_:_:)`` and read what they need straight into their own types (a safetensors entry, a
///   vocabulary id), so memory is what the caller keeps, not a tree of boxes;
/// - builds a small ``JSONValue`` tree only where asked (``value()``), with at most ``maxValues`` values;
/// - rejects duplicate keys, nesting deeper than ``maxDepth``, invalid UTF-8, control characters in
///   strings, lone surrogates and trailing text;
/// - reads integers exactly (``integer(_:in:)``) and says when a number is not a whole number or does not fit;
/// - accepts a UTF-8 byte-order mark at the start (as Foundation does; RFC 8259 allows ignoring it);
/// - names the file and the byte offset, line and column in every syntax error.
struct JSONReader {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0
    private var depth = 0
    /// Values left for ``value()`` trees.
    private var valuesLeft: Int

    /// Objects and arrays nested deeper than this are refused (real files nest fewer than 10 deep).
    static let maxDepth = 64
    /// The default bound on the values one reader builds into ``JSONValue`` trees.
    static let defaultMaxValues = 1_000_000

    /// The kind of the next value.
    enum Kind: String {
        case object, array, string, number, bool, null
        /// For messages: `an object`, `a string`.
        var article: String { self == .object || self == .array ? "an \(rawValue)" : (self == .null ? "null" : "a \(rawValue)") }
    }

    init(path: String, bytes: UnsafeRawBufferPointer, maxValues: Int = JSONReader.defaultMaxValues) {
        self.path = path
        self.bytes = bytes
        self.valuesLeft = maxValues
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { offset = 3 }
    }

    // MARK: - Errors

    /// A syntax error at `at` (default: the current offset): `path: is not valid JSON at byte 17 (line 2, column 5): what`.
    func syntaxError(_ what: String, at: Int? = nil) -> StepwiseError {
        let at = min(at ?? offset, bytes.count)
        var line = 1, column = 1
        for i in 0..<at {
            if bytes[i] == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return StepwiseError.file(path, "is not valid JSON at byte \(at) (line \(line), column \(column)): \(what)")
    }

    /// A value of the wrong kind: `path: model.vocab is an array, expected an object`.
    func typeError(_ what: String, found: Kind, expected: String) -> StepwiseError {
        StepwiseError.file(path, "\(what) is \(found.article), expected \(expected)")
    }

    // MARK: - Lexing

    @inline(__always) private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    /// The kind of the next value (after whitespace).
    mutating func peek() throws -> Kind {
        skipWhitespace()
        guard offset < bytes.count else { throw syntaxError("unexpected end of the file") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: throw syntaxError("unexpected \(describeByte(bytes[offset])), expected a value")
        }
    }

    private func describeByte(_ b: UInt8) -> String {
        (0x21..<0x7F).contains(b) ? "'\(String(UnicodeScalar(b)))'" : String(format: "byte 0x%02X", Int(b))
    }

    private mutating func expect(_ c: UInt8, _ what: @autoclosure () -> String) throws {
        skipWhitespace()
        guard offset < bytes.count else { throw syntaxError("unexpected end of the file, expected \(what())") }
        guard bytes[offset] == c else { throw syntaxError("unexpected \(describeByte(bytes[offset])), expected \(what())") }
        offset += 1
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        let matches = offset + n <= bytes.count && (0..<n).allSatisfy { bytes[offset + $0] == word.utf8Start[$0] }
        guard matches else { throw syntaxError("unexpected text, expected \(word)") }
        offset += n
    }

    /// Throws unless only whitespace is left.
    mutating func end() throws {
        skipWhitespace()
        guard offset == bytes.count else { throw syntaxError("unexpected text after the end of the JSON value") }
    }

    // MARK: - Containers

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw syntaxError("nested more than \(Self.maxDepth) deep") }
    }

    /// Walks an object, calling `body` with the reader positioned at each member's value, which `body`
    /// must read (or ``skip()``).
    /// - Parameters:
    ///   - what: the object's name in messages (`model.vocab`).
    ///   - checkDuplicates: refuse a key that appears twice. Pass false only when `body` detects
    ///     duplicates itself (a vocabulary already builds a dictionary of its keys).
    mutating func object(_ what: String, checkDuplicates: Bool = true,
                         _ body: (inout JSONReader, String) throws -> Void) throws {
        let kind = try peek()
        guard kind == .object else { throw typeError(what, found: kind, expected: "an object") }
        try enter()
        offset += 1
        var seen = Set<String>()
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            let keyStart = offset
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else {
                throw syntaxError(offset < bytes.count ? "unexpected \(describeByte(bytes[offset])), expected a key in quotes" : "unexpected end of the file, expected a key")
            }
            let key = try rawString()
            if checkDuplicates {
                guard seen.insert(key).inserted else {
                    throw StepwiseError.file(path, "key '\(key)' appears twice in \(what) (again at byte \(keyStart)); remove one")
                }
            }
            try expect(UInt8(ascii: ":"), "':' after the key")
            try body(&self, key)
            skipWhitespace()
            guard offset < bytes.count else { throw syntaxError("unexpected end of the file, expected ',' or '}'") }
            if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
            if bytes[offset] == UInt8(ascii: "}") { offset += 1; break }
            throw syntaxError("unexpected \(describeByte(bytes[offset])), expected ',' or '}'")
        }
        depth -= 1
    }

    /// Walks an array, calling `body` with each element's index; `body` must read the element.
    mutating func array(_ what: String, _ body: (inout JSONReader, Int) throws -> Void) throws {
        let kind = try peek()
        guard kind == .array else { throw typeError(what, found: kind, expected: "an array") }
        try enter()
        offset += 1
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            depth -= 1
            return
        }
        var i = 0
        while true {
            try body(&self, i)
            i += 1
            skipWhitespace()
            guard offset < bytes.count else { throw syntaxError("unexpected end of the file, expected ',' or ']'") }
            if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
            if bytes[offset] == UInt8(ascii: "]") { offset += 1; break }
            throw syntaxError("unexpected \(describeByte(bytes[offset])), expected ',' or ']'")
        }
        depth -= 1
    }

    // MARK: - Scalars

    /// A string value named `what` in messages.
    mutating func string(_ what: String) throws -> String {
        let kind = try peek()
        guard kind == .string else { throw typeError(what, found: kind, expected: "a string") }
        return try rawString()
    }

    /// A bool value.
    mutating func bool(_ what: String) throws -> Bool {
        let kind = try peek()
        guard kind == .bool else { throw typeError(what, found: kind, expected: "true or false") }
        if bytes[offset] == UInt8(ascii: "t") { try literal("true"); return true }
        try literal("false")
        return false
    }

    /// Reads `null` if it is next; true if it was.
    mutating func null() throws -> Bool {
        guard try peek() == .null else { return false }
        try literal("null")
        return true
    }

    /// A whole number that fits in `Int` (written without a fraction or exponent, or with ones that
    /// leave it whole, like `3.0`), and lies in `range`.
    mutating func integer(_ what: String, in range: ClosedRange<Int>? = nil) throws -> Int {
        let kind = try peek()
        guard kind == .number else { throw typeError(what, found: kind, expected: "a whole number") }
        let n = try number()
        guard let i = n.int else {
            throw StepwiseError.file(path, "\(what) is \(n.text); it must be a whole number\(n.isWhole ? " that fits in 64 bits" : "")")
        }
        if let range, !range.contains(i) {
            throw StepwiseError.file(path, "\(what) is \(i), outside \(range.lowerBound)...\(range.upperBound)")
        }
        return i
    }

    /// A number value.
    mutating func number(_ what: String) throws -> JSONNumber {
        let kind = try peek()
        guard kind == .number else { throw typeError(what, found: kind, expected: "a number") }
        return try number()
    }

    /// Skips one value of any kind (checking its syntax).
    mutating func skip() throws {
        switch try peek() {
        case .object: try object("a skipped object", checkDuplicates: false) { r, _ in try r.skip() }
        case .array: try array("a skipped array") { r, _ in try r.skip() }
        case .string: try skipString()
        case .number: _ = try number()
        case .bool: _ = try bool("")
        case .null: try literal("null")
        }
    }

    /// The next value as a tree. Counts against the reader's value budget.
    /// - Parameter keyPath: where the value sits (`rope_scaling`), for messages; "" for the top level.
    mutating func value(at keyPath: String = "") throws -> JSONValue {
        valuesLeft -= 1
        guard valuesLeft >= 0 else {
            throw StepwiseError.file(path, "holds more JSON values than Stepwise reads from this file (is it the right file?)")
        }
        switch try peek() {
        case .object:
            var keys: [String] = []
            var values: [String: JSONValue] = [:]
            try object(keyPath.isEmpty ? "the top-level object" : "'\(keyPath)'") { r, key in
                keys.append(key)
                values[key] = try r.value(at: keyPath.isEmpty ? key : keyPath + "." + key)
            }
            return .object(JSONObject(keys: keys, values: values))
        case .array:
            var items: [JSONValue] = []
            try array("an array") { r, i in items.append(try r.value(at: "\(keyPath)[\(i)]")) }
            return .array(items)
        case .string: return .string(try rawString())
        case .number: return .number(try number())
        case .bool: return .bool(try bool(""))
        case .null:
            try literal("null")
            return .null
        }
    }

    // MARK: - Lexemes

    /// A number at the offset, by the JSON grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func number() throws -> JSONNumber {
        let start = offset
        var negative = false
        if bytes[offset] == UInt8(ascii: "-") { negative = true; offset += 1 }
        func digit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        guard digit(offset) else { throw syntaxError("a number needs a digit after '-'") }
        // Integer part, accumulated exactly while it fits (negative, so Int.min fits).
        var value = 0
        var fits = true
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
            if digit(offset) { throw syntaxError("a number cannot have a leading zero") }
        } else {
            while digit(offset) {
                let d = Int(bytes[offset] - 0x30)
                if fits {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.subtractingReportingOverflow(d)
                    if o1 || o2 { fits = false } else { value = s }
                }
                offset += 1
            }
        }
        var plain = true
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            plain = false
            offset += 1
            guard digit(offset) else { throw syntaxError("a number needs a digit after '.'") }
            while digit(offset) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            plain = false
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digit(offset) else { throw syntaxError("a number needs a digit in its exponent") }
            while digit(offset) { offset += 1 }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        if plain && fits {
            if !negative {
                guard value != .min else { return JSONNumber(text: text, double: -Double(value), int: nil) }
                value = -value
            }
            return JSONNumber(text: text, double: Double(value), int: value)
        }
        let d = Double(text) ?? .nan
        // `3.0` and `1e3` are whole numbers; keep them as integers when exact.
        var int: Int? = nil
        if d.isFinite, d == d.rounded(), abs(d) < 9.2e18 { int = Int(d) }
        return JSONNumber(text: text, double: d, int: int)
    }

    /// A string at the offset (which holds the opening quote), unescaped, validated as UTF-8.
    private mutating func rawString() throws -> String {
        let start = offset
        offset += 1
        var i = offset
        // Fast path: no escapes.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<i])
                guard let s = String(validating: slice, as: UTF8.self) else {
                    throw syntaxError("the string is not valid UTF-8", at: start)
                }
                offset = i + 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw syntaxError("a control character (\(describeByte(b))) inside a string must be escaped", at: i) }
            i += 1
        }
        guard i < bytes.count else { throw syntaxError("the string starting here is not closed", at: start) }
        // Slow path: escapes.
        var out: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<i]))
        offset = i
        while true {
            guard offset < bytes.count else { throw syntaxError("the string starting here is not closed", at: start) }
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") { offset += 1; break }
            if b < 0x20 { throw syntaxError("a control character (\(describeByte(b))) inside a string must be escaped") }
            if b != UInt8(ascii: "\\") { out.append(b); offset += 1; continue }
            offset += 1
            guard offset < bytes.count else { throw syntaxError("the string starting here is not closed", at: start) }
            let e = bytes[offset]
            offset += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                        throw syntaxError("a \\u escape for a high surrogate is not followed by a low surrogate")
                    }
                    offset += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw syntaxError("a high surrogate is followed by \\u\(String(low, radix: 16))") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw syntaxError("a lone low surrogate \\u\(String(scalar, radix: 16))")
                }
                out.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
            default:
                throw syntaxError("unknown escape \\\(String(UnicodeScalar(e)))", at: offset - 2)
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw syntaxError("the string is not valid UTF-8", at: start)
        }
        return s
    }

    private mutating func hex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw syntaxError("a \\u escape needs 4 hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[offset]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - 0x30
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - 0x61 + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - 0x41 + 10
            default: throw syntaxError("a \\u escape needs 4 hex digits")
            }
            v = v << 4 | UInt32(d)
            offset += 1
        }
        return v
    }

    /// Skips a string, validating it, without building it.
    private mutating func skipString() throws {
        _ = try rawString()
    }
}

/// A JSON number: its text, its value as `Double`, and as `Int` when it is a whole number that fits.
struct JSONNumber: Sendable, Equatable {
    var text: String
    var double: Double
    var int: Int?
    /// True when the value has no fractional part (it may still be too large for `Int`).
    var isWhole: Bool { double.isFinite && double == double.rounded() }
}

/// A small JSON tree, for the few fields read as a whole (config.json, a pre-tokenizer description).
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    var kind: JSONReader.Kind {
        switch self {
        case .null: return .null
        case .bool: return .bool
        case .number: return .number
        case .string: return .string
        case .array: return .array
        case .object: return .object
        }
    }

    var string: String? { if case .string(let s) = self { return s }; return nil }
    var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    var int: Int? { if case .number(let n) = self { return n.int }; return nil }
    var object: JSONObject? { if case .object(let o) = self { return o }; return nil }
    var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    subscript(key: String) -> JSONValue? { object?.values[key] }

    /// A short rendering for messages.
    var shown: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let n): return n.text
        case .string(let s): return "the string \"\(s.count > 40 ? String(s.prefix(37)) + "…" : s)\""
        case .array(let a): return "an array of \(a.count)"
        case .object: return "an object"
        }
    }
}

/// A JSON object with its keys in file order.
struct JSONObject: Sendable, Equatable {
    var keys: [String]
    var values: [String: JSONValue]
    subscript(key: String) -> JSONValue? { values[key] }
}

extension JSONReader {
    /// Reads a whole small JSON file (config.json, tokenizer_config.json) as a tree.
    /// - Throws: ``StepwiseError`` naming the file: unreadable, or not valid JSON (with the byte offset).
    static func readFile(_ path: String) throws -> JSONValue {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as StepwiseError { throw e }
        return try withExtendedLifetime(file) {
            var r = JSONReader(path: path, bytes: file.bytes)
            let v = try r.value()
            try r.end()
            return v
        }
    }
}
