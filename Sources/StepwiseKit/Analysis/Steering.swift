import Foundation

/// Activation steering (activation addition, Turner et al. 2023): a vector added to one hook point at
/// every position of every later pass, prefill and KV-cached generation alike.
///
/// The vector is `scale × (mean_pos act_A − mean_pos act_B)`: each prompt's activation at the hook,
/// averaged over its positions (the prompt as the model reads it, BOS included where the model has
/// one), computed on the unmodified model; or `scale ×` a vector read from a `.npy` file.
public enum Steering {
    /// One steering vector the session adds until `restore`.
    public struct Vector: Sendable, Equatable {
        public var hook: HookName
        /// The unscaled direction: the hook's axes after its position axis (`[d_model]`, `[head, d_head]`),
        /// or the last axis alone (a file's vector, broadcast over the others).
        public var direction: Tensor
        public var scale: Float
        /// Where the direction came from: `("Love" − "Hate")` or a file name.
        public var source: String

        public init(hook: HookName, direction: Tensor, scale: Float, source: String) {
            self.hook = hook
            self.direction = direction
            self.scale = scale
            self.source = source
        }

        /// What is added at every position.
        public var added: Tensor {
            Tensor(shape: direction.shape, data: direction.data.map { $0 * scale })
        }

        /// The add patch at every position (no position or head selection).
        public var patch: Patch { Patch(hook, .add(added)) }

        /// `blocks.1.hook_resid_pre += 4 × ("Love" − "Hate")`.
        public var summary: String {
            "\(hook.name) += \(Steering.format(scale)) × \(source)"
        }

        /// The Euclidean norm of the added vector.
        public var norm: Float { added.data.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    }

    static func format(_ x: Float) -> String {
        x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : String(format: "%g", x)
    }

    // MARK: - Hook names

    /// Parses a hook at the start of `words`: a full name (`blocks.1.hook_resid_pre`), a global short
    /// form (`embed`) or a per-layer one with its layer (`resid_pre 1`), as `show` takes them.
    /// - Returns: the hook and how many words it used.
    /// - Throws: ``StepwiseError`` for an unknown name or a layer the model does not have.
    public static func parseHook(_ words: [String], layers: Int) throws -> (HookName, Int) {
        guard let first = words.first else { throw StepwiseError.usage("name a hook point, e.g. 'resid_pre 1' or 'blocks.1.hook_resid_pre'") }
        let hook: HookName
        var used = 1
        if let h = HookName(first) {
            hook = h
        } else if let form = HookName.shortForms[first] {
            switch form {
            case .global(let h): hook = h
            case .perLayer(let f):
                guard words.count >= 2, let l = Int(words[1]) else {
                    throw StepwiseError.usage("'\(first)' needs a layer: '\(first) 0'")
                }
                guard l >= 0 else { throw StepwiseError.usage("layer \(l) must be >= 0") }
                hook = f(l)
                used = 2
            }
        } else {
            let names = HookName.shortForms.keys.sorted() + (0..<max(1, layers)).flatMap { l in HookName.blockHooks(l).map(\.name) }
            let hint = Suggest.closest(to: first, among: names).map { " (did you mean '\($0)'?)" } ?? ""
            throw StepwiseError.usage("no hook point '\(first)'\(hint); 'steps' lists them")
        }
        if let l = hook.layer, l >= layers {
            throw StepwiseError(.model, "layer \(l) does not exist: the model has layers 0–\(layers - 1)")
        }
        return (hook, used)
    }

    /// The hook's step in a full trace, checked to have a leading position axis (a steering vector is
    /// added at every position).
    static func step(_ hook: HookName, in trace: Trace, model: any LanguageModel) throws -> Step {
        guard let step = trace[hook.name] else {
            throw StepwiseError(.model, "\(model.info.family) records no step '\(hook.name)' to steer; 'steps' lists them")
        }
        guard let first = step.axes.first, first.name == "pos", !step.axes.contains(where: { $0.name == "key_pos" }),
              step.tensor.rank >= 2 else {
            throw StepwiseError.usage("\(hook.name) has axes [\(step.axes.map(\.name).joined(separator: ", "))]: steering adds a vector at every position, so it needs a step whose first axis is pos (resid_pre, attn_out, mlp_out, z, ...)")
        }
        return step
    }

    /// The mean over positions of the activation at `hook` on `ids`, run with `options` (recorded).
    public static func meanActivation(model: any LanguageModel, ids: [Int], hook: HookName,
                                      options: ForwardOptions = ForwardOptions()) throws -> Tensor {
        var o = options
        o.record = true
        let trace = try model.forward(ids, cache: nil, options: o)
        let t = try step(hook, in: trace, model: model).tensor
        let n = t.shape[0], inner = t.count / max(1, n)
        var sum = [Float](repeating: 0, count: inner)
        for p in 0..<n {
            for i in 0..<inner { sum[i] += t.data[p * inner + i] }
        }
        return Tensor(shape: Array(t.shape.dropFirst()), data: sum.map { $0 / Float(n) })
    }

    /// `mean act_A − mean act_B` at `hook`.
    public static func direction(model: any LanguageModel, a: [Int], b: [Int], hook: HookName,
                                 options: ForwardOptions = ForwardOptions()) throws -> Tensor {
        let ma = try meanActivation(model: model, ids: a, hook: hook, options: options)
        let mb = try meanActivation(model: model, ids: b, hook: hook, options: options)
        return Tensor(shape: ma.shape, data: zip(ma.data, mb.data).map { $0 - $1 })
    }

    /// The size of the hook's last axis, from a one-token pass.
    public static func lastAxis(model: any LanguageModel, hook: HookName, options: ForwardOptions = ForwardOptions()) throws -> Int {
        var o = options
        o.record = true
        let trace = try model.forward([0], cache: nil, options: o)
        return try step(hook, in: trace, model: model).tensor.shape.last!
    }

    // MARK: - .npy

    /// The largest header a vector file may have (NumPy writes under 128 bytes for a vector).
    static let maxHeader = 4096

    /// Reads a float32, C-order, one-dimensional `.npy` file of `count` values.
    ///
    /// The header is checked strictly before the data is read: the magic, a version 1–3, a header of at
    /// most 4 KB that is exactly `{'descr': '<f4', 'fortran_order': False, 'shape': (count,)}` (keys in any
    /// order, spaces and one trailing comma allowed), and a file size of exactly header + 4 × count
    /// bytes. The size is checked before anything is read, so a huge file costs nothing.
    /// - Parameters:
    ///   - path: the resolved path (already checked to be a regular file, inside a lesson's folder).
    ///   - shownAs: the path as typed, for messages.
    /// - Throws: ``StepwiseError`` (`.file`) naming what is wrong, on one line.
    public static func readNPY(path: String, shownAs: String, count: Int) throws -> Tensor {
        func bad(_ why: String) -> StepwiseError { StepwiseError.file(shownAs, why) }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = (attributes?[.size] as? NSNumber)?.intValue else { throw bad("cannot read the file's size") }
        let limit = 12 + maxHeader + 4 * count
        guard size <= limit else {
            throw bad("is \(size) bytes; a .npy vector of \(count) float32 values is at most \(limit) bytes")
        }
        let data = try MappedFile.data(path: path)
        guard data.count == size else { throw bad("changed while it was read") }
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw bad("is not a .npy file (no \\x93NUMPY magic)") }
        let major = bytes[6]
        let headerStart: Int, headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("ends inside its .npy header") }
            headerStart = 12
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        default:
            throw bad(".npy format version \(major) is not supported (1, 2 or 3)")
        }
        guard headerLength <= maxHeader else { throw bad("has a .npy header of \(headerLength) bytes; at most \(maxHeader) are accepted") }
        guard headerStart + headerLength <= bytes.count else { throw bad("ends inside its .npy header") }
        let header = bytes[headerStart..<(headerStart + headerLength)]
        guard header.allSatisfy({ $0 == 0x0A || (0x20...0x7E).contains($0) }) else {
            throw bad("has a .npy header that is not printable ASCII")
        }
        let fields = try parseHeader(String(decoding: header, as: UTF8.self), bad)
        guard fields.descr == "<f4" else {
            throw bad("holds dtype '\(fields.descr)'; a steering vector must be little-endian float32 ('<f4', np.float32)")
        }
        guard !fields.fortran else { throw bad("is in Fortran order; save it in C order (fortran_order False)") }
        guard fields.shape == [count] else {
            throw bad("has shape (\(fields.shape.map(String.init).joined(separator: ", "))\(fields.shape.count == 1 ? "," : "")); the hook's last axis needs shape (\(count),)")
        }
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == 4 * count else {
            throw bad("has \(bytes.count - dataStart) bytes of data after its header; shape (\(count),) float32 needs \(4 * count)")
        }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let o = dataStart + 4 * i
            let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
            values[i] = Float(bitPattern: bits)
        }
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw bad("holds \(values[i]) at index \(i); a steering vector must be finite")
        }
        return Tensor(shape: [count], data: values)
    }

    /// Parses the Python dict literal of a .npy header, accepting only its three keys.
    static func parseHeader(_ text: String, _ bad: (String) -> StepwiseError) throws -> (descr: String, fortran: Bool, shape: [Int]) {
        var s = Substring(text)
        func skipSpace() { while let c = s.first, c == " " || c == "\n" { s.removeFirst() } }
        func expect(_ c: Character) throws {
            skipSpace()
            guard s.first == c else { throw bad("has a malformed .npy header (expected '\(c)')") }
            s.removeFirst()
        }
        func string() throws -> String {
            skipSpace()
            guard let q = s.first, q == "'" || q == "\"" else { throw bad("has a malformed .npy header (expected a quoted string)") }
            s.removeFirst()
            guard let end = s.firstIndex(of: q) else { throw bad("has a malformed .npy header (unclosed string)") }
            let v = String(s[..<end])
            s = s[s.index(after: end)...]
            return v
        }
        var descr: String?, fortran: Bool?, shape: [Int]?
        try expect("{")
        while true {
            skipSpace()
            if s.first == "}" { s.removeFirst(); break }
            let key = try string()
            try expect(":")
            skipSpace()
            switch key {
            case "descr":
                guard descr == nil else { throw bad("has a .npy header with 'descr' twice") }
                descr = try string()
            case "fortran_order":
                guard fortran == nil else { throw bad("has a .npy header with 'fortran_order' twice") }
                if s.hasPrefix("False") { fortran = false; s = s.dropFirst(5) }
                else if s.hasPrefix("True") { fortran = true; s = s.dropFirst(4) }
                else { throw bad("has a malformed .npy header (fortran_order is not True or False)") }
            case "shape":
                guard shape == nil else { throw bad("has a .npy header with 'shape' twice") }
                try expect("(")
                var dims: [Int] = []
                while true {
                    skipSpace()
                    if s.first == ")" { s.removeFirst(); break }
                    let digits = s.prefix(while: \.isASCII).prefix(while: \.isNumber)
                    guard !digits.isEmpty, digits.count <= 12, let d = Int(digits) else {
                        throw bad("has a malformed .npy header (a shape entry is not a whole number)")
                    }
                    dims.append(d)
                    s = s.dropFirst(digits.count)
                    skipSpace()
                    if s.first == "," { s.removeFirst() } else if s.first != ")" {
                        throw bad("has a malformed .npy header (expected ',' or ')' in the shape)")
                    }
                }
                shape = dims
            default:
                throw bad("has a .npy header with the unknown key '\(key)'")
            }
            skipSpace()
            if s.first == "," { s.removeFirst() } else if s.first != "}" {
                throw bad("has a malformed .npy header (expected ',' or '}')")
            }
        }
        skipSpace()
        guard s.isEmpty else { throw bad("has text after the .npy header's closing '}'") }
        guard let descr, let fortran, let shape else {
            throw bad("has a .npy header without descr, fortran_order and shape")
        }
        return (descr, fortran, shape)
    }
}
