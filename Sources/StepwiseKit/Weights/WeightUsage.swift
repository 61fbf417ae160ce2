import Foundation

/// Tensors a model family knows it leaves unread, and why.
///
/// `pattern` is a tensor name in which `*` stands for any run of characters, e.g.
/// `model.layers.*.self_attn.rotary_emb.inv_freq`.
public struct UnusedTensorRule: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Holds nothing the model lacks: a buffer recomputed at run time (RoPE's inverse frequencies,
        /// position ids, a causal-mask buffer) or a second copy of a tensor that is read (a tied LM head
        /// saved beside the embedding). `info` lists them.
        case redundant
        /// Real parameters the model has no step for (a pre-training head that real checkpoints commonly
        /// carry): accepted, and `info` names each one under `warning`.
        case ignored
    }

    public var pattern: String
    public var reason: String
    public var kind: Kind

    public init(_ pattern: String, _ reason: String, kind: Kind = .redundant) {
        self.pattern = pattern
        self.reason = reason
        self.kind = kind
    }

    /// True when `name` fits the pattern (`*` matches any run of characters, dots included).
    public func matches(_ name: String) -> Bool {
        Self.glob(Array(pattern.utf8)[...], Array(name.utf8)[...])
    }

    private static func glob(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>) -> Bool {
        // Iterative wildcard match with one backtrack point (the last `*` seen).
        var pi = p.startIndex, si = s.startIndex
        var star: (p: Int, s: Int)?
        while si < s.endIndex {
            if pi < p.endIndex, p[pi] == UInt8(ascii: "*") {
                star = (pi, si)
                pi += 1
            } else if pi < p.endIndex, p[pi] == s[si] {
                pi += 1
                si += 1
            } else if let st = star {
                pi = st.p + 1
                si = st.s + 1
                star = (st.p, st.s + 1)
            } else {
                return false
            }
        }
        while pi < p.endIndex, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.endIndex
    }
}

/// What a load did with every tensor of its file: how many it read, and the names it left unread by rule.
public struct WeightAccount: Sendable {
    /// Tensors of the file that the model read.
    public var read: Int
    /// Tensors in the file.
    public var total: Int
    /// Unread tensors that hold nothing the model lacks, with the rule's reason.
    public var redundant: [(name: String, reason: String)]
    /// Unread tensors with parameters the model has no step for, with the rule's reason.
    public var ignored: [(name: String, reason: String)]

    /// Rows for `info`: none when every tensor was read; else what was left and why, grouped by reason.
    public var details: [(String, String)] {
        var rows: [(String, String)] = []
        if !redundant.isEmpty {
            rows.append(("unread tensors", "\(read) of \(total) read; " + Self.grouped(redundant)))
        }
        if !ignored.isEmpty {
            rows.append(("warning", "\(ignored.count) tensor\(ignored.count == 1 ? "" : "s") of the file \(ignored.count == 1 ? "is" : "are") not used: " + Self.grouped(ignored)))
        }
        return rows
    }

    /// `a, b (reason one); c (reason two)`, reasons in order of first appearance.
    static func grouped(_ items: [(name: String, reason: String)]) -> String {
        var order: [String] = []
        var names: [String: [String]] = [:]
        for (n, r) in items {
            if names[r] == nil { order.append(r) }
            names[r, default: []].append(n)
        }
        return order.map { r in names[r]!.joined(separator: ", ") + " (\(r))" }.joined(separator: "; ")
    }
}

/// A ``WeightSource`` that remembers which tensors were read, so that a loader can check at the end that
/// it accounted for every tensor of the file: read, or matched by one of its ``UnusedTensorRule``s. Any
/// other tensor is an error naming it, so a checkpoint whose architecture needs weights the family does not
/// apply (a Qwen2's q/k/v biases read as a Llama) is refused instead of giving wrong numbers.
///
/// A family wraps the source it was given at the start of its init, reads every parameter through the
/// wrapper, and ends with one call:
///
/// ```swift
/// let weights = WeightUsage(source)
/// ... try weights.tensor(name, shape: shape) ...
/// let account = try weights.finish(family: "gemma", knownUnused: Self.unusedTensors)
/// details += account.details
/// ```
public final class WeightUsage: WeightSource, @unchecked Sendable {
    /// The source read through.
    public let base: any WeightSource
    private let lock = NSLock()
    private var names: Set<String> = []

    public init(_ base: any WeightSource) {
        self.base = base
    }

    public var path: String { base.path }
    public var tensorNames: [String] { base.tensorNames }
    public func tensorInfo(_ name: String) -> WeightInfo? { base.tensorInfo(name) }

    /// Reads the tensor through the base source and marks it read.
    public func tensor(_ name: String) throws -> Tensor {
        let t = try base.tensor(name)
        markRead(name)
        return t
    }

    /// The base source's stored bytes, marking the tensor read.
    public func storedBytes(_ name: String) -> (format: StoredMatrix.Format, bytes: UnsafeRawBufferPointer, owner: AnyObject)? {
        guard let stored = base.storedBytes(name) else { return nil }
        markRead(name)
        return stored
    }

    /// Marks a tensor read that was used without ``tensor(_:)`` (e.g. kept in its stored block format).
    public func markRead(_ name: String) {
        lock.lock()
        names.insert(name)
        lock.unlock()
    }

    /// The names read so far.
    public var readNames: Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return names
    }

    /// Checks that every tensor of the file was read or is matched by a rule.
    ///
    /// - Parameters:
    ///   - family: the loader's name for the message, e.g. `llama`.
    ///   - knownUnused: the family's documented list of tensors it does not read.
    /// - Returns: what was read and what was left, for `info`.
    /// - Throws: ``StepwiseError`` naming the first unaccounted tensors (up to five) and how many there are.
    public func finish(family: String, knownUnused: [UnusedTensorRule]) throws -> WeightAccount {
        let read = readNames
        let all = tensorNames
        var redundant: [(name: String, reason: String)] = [], ignored: [(name: String, reason: String)] = []
        var unknown: [String] = []
        for n in all where !read.contains(n) {
            if let rule = knownUnused.first(where: { $0.matches(n) }) {
                if rule.kind == .redundant { redundant.append((n, rule.reason)) } else { ignored.append((n, rule.reason)) }
            } else {
                unknown.append(n)
            }
        }
        if !unknown.isEmpty {
            let shown = unknown.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            let more = unknown.count > 5 ? " and \(unknown.count - 5) more" : ""
            let what = unknown.count == 1 ? "tensor \(shown) is" : "tensors \(shown)\(more) are"
            throw StepwiseError(.unsupported, "\(path): \(what) not used by the \(family) family; Stepwise refuses to drop weights silently (the checkpoint needs an architecture feature this loader does not implement, or it is not a \(family) checkpoint)")
        }
        return WeightAccount(read: all.count - redundant.count - ignored.count, total: all.count,
                             redundant: redundant, ignored: ignored)
    }
}
