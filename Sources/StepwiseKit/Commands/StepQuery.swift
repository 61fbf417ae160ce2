import Foundation

/// A reference to a step, possibly sliced: what `show`, `goto` and `export` take.
///
/// Accepted forms:
/// - full hook names: `blocks.0.attn.hook_q`, with an optional NumPy-style slice `[:, 2, :8]`;
/// - TransformerLens short forms: `q 0` → `blocks.0.attn.hook_q`, `resid_pre 3`, `embed`, `logits`,
///   `pattern 0 head 3` (the head's `[query_pos, key_pos]` matrix), `ln1.scale 2`.
public struct StepQuery: Equatable, Sendable {
    /// The full step name.
    public var name: String
    /// One selection per leading axis (missing ones are whole).
    public var selections: [AxisSelection]

    public init(name: String, selections: [AxisSelection] = []) {
        self.name = name
        self.selections = selections
    }

    /// Short names and the hook they expand to (``HookName/shortForms``).
    static var shortForms: [String: HookName.ShortForm] { HookName.shortForms }

    /// Parses a query against the steps of a trace.
    ///
    /// - Parameters:
    ///   - text: what the user typed after the command.
    ///   - trace: the current trace (for checking names and axis extents).
    /// - Throws: ``StepwiseError`` with a suggestion when the name is unknown or a slice is out of range.
    public static func parse(_ text: String, in trace: Trace) throws -> StepQuery {
        var rest = text.trimmingCharacters(in: .whitespaces)
        guard !rest.isEmpty else { throw StepwiseError.usage("name a step, e.g. 'blocks.0.attn.hook_pattern' or 'pattern 0'") }
        var sliceText: String?
        if let open = rest.firstIndex(of: "[") {
            guard rest.hasSuffix("]") else { throw StepwiseError.usage("slice '\(rest[open...])' has no closing ']'") }
            sliceText = String(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)])
            rest = String(rest[..<open]).trimmingCharacters(in: .whitespaces)
        }
        var words = rest.split(separator: " ").map(String.init)
        // `encoder pattern 0`, `decoder resid_post 1`, `cross pattern 0 head 2`: a short form in one stack
        // of an encoder-decoder model.
        var place: StackPlace?
        if words.count >= 2, let p = StackPlace(rawValue: words[0]) {
            place = p
            words.removeFirst()
        }
        guard let first = words.first else {
            throw StepwiseError.usage("name a step before the slice, e.g. 'logits[-1]'")
        }
        var name = first
        var selections: [AxisSelection] = []
        var extraHead: Int?
        if trace[name] == nil, let form = shortForms[name] {
            switch form {
            case .perLayer(let hook):
                guard words.count >= 2, let layer = Int(words[1]) else {
                    throw StepwiseError.usage("'\(name)' needs a layer: '\(name) 0'")
                }
                name = try placed(hook(layer), place, typed: words[0], in: trace).name
                if words.count >= 4, words[2] == "head" {
                    guard let h = Int(words[3]) else { throw StepwiseError.usage("'head' needs a number") }
                    extraHead = h
                } else if words.count > 2 {
                    throw StepwiseError.usage("unexpected '\(words[2...].joined(separator: " "))' (try '\(words[0]) \(layer) head 0')")
                }
            case .global(let hook):
                name = try placed(hook, place, typed: words[0], in: trace).name
            }
        } else if place != nil {
            throw StepwiseError.usage("'\(words.joined(separator: " "))' is not a short step name ('steps' lists the full names)")
        } else if words.count > 1 {
            throw StepwiseError.usage("unexpected '\(words[1...].joined(separator: " "))' after '\(words[0])'")
        }
        guard let step = trace[name] else {
            if let why = trace.absence(of: name) { throw StepwiseError(.model, why) }
            if let layerOK = name.split(separator: ".").dropFirst().first.flatMap({ Int($0) }),
               name.hasPrefix("blocks."), trace.names.contains(where: { $0.hasPrefix("blocks.") }) {
                let layers = Set(trace.names.compactMap { $0.split(separator: ".").dropFirst().first.flatMap { Int($0) } })
                if !layers.contains(layerOK) {
                    throw StepwiseError(.model, "layer \(layerOK) does not exist: the model has layers 0–\((layers.max() ?? 0))")
                }
            }
            let hint = Suggest.closest(to: name, among: trace.names).map { " (did you mean '\($0)'?)" } ?? ""
            throw StepwiseError.usage("no step '\(name)' in this trace\(hint); 'steps' lists them")
        }
        if let h = extraHead {
            // `pattern 0 head 3[2, :4]`: the slice applies to the head's own axes (query_pos, key_pos).
            guard let headAxis = step.axes.firstIndex(where: { $0.name == "head" || $0.name == "kv_head" }) else {
                throw StepwiseError.usage("'\(name)' has no head axis")
            }
            let n = step.shape[headAxis]
            guard h >= 0 && h < n else { throw StepwiseError(.model, "head \(h) does not exist: layer has heads 0–\(n - 1)") }
            var shape = step.shape, axes = step.axes.map(\.name)
            shape.remove(at: headAxis)
            axes.remove(at: headAxis)
            var rest = try sliceText.map { try parseSlices($0, shape: shape, axes: axes) } ?? []
            while rest.count < headAxis { rest.append(.all) }
            rest.insert(.index(h), at: headAxis)
            selections = rest
        } else if let sliceText {
            selections = try parseSlices(sliceText, shape: step.shape, axes: step.axes.map(\.name))
        }
        return StepQuery(name: name, selections: selections)
    }

    /// Where a short form points in an encoder-decoder model: `encoder …`, `decoder …`, `cross …`.
    enum StackPlace: String {
        case encoder, enc, decoder, dec, cross
    }

    /// `hook` in the stack `place` names; without one, the hook itself, unless the trace is an
    /// encoder-decoder model's, where the user must say which stack they mean.
    static func placed(_ hook: HookName, _ place: StackPlace?, typed: String, in trace: Trace) throws -> HookName {
        switch place {
        case .encoder?, .enc?: return .stack(.encoder, hook)
        case .decoder?, .dec?: return .stack(.decoder, hook)
        case .cross?:
            if hook.isAttentionInner { return .stack(.decoder, .cross(hook)) }
            if case .attnOut(let l) = hook { return .stack(.decoder, .crossAttnOut(layer: l)) }
            throw StepwiseError.usage("'cross' goes with an attention step (q, k, v, scores, pattern, z, result, attn_out), not '\(typed)'")
        case nil:
            guard trace[hook.name] == nil, !trace.sourceIDs.isEmpty, hook != .logits else { return hook }
            let layer = hook.layer.map { " \($0)" } ?? ""
            var choices = ["encoder \(typed)\(layer)", "decoder \(typed)\(layer)"]
            if hook.isAttentionInner { choices.append("cross \(typed)\(layer)") }
            let quoted = choices.map { "'\($0)'" }
            throw StepwiseError.usage("this model has an encoder and a decoder: say "
                                      + quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!)
        }
    }

    /// Parses `:, 2, :8` / `1:3` / `-1` / `::2` into selections, checked against the shape.
    public static func parseSlices(_ text: String, shape: [Int], axes: [String]) throws -> [AxisSelection] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count <= shape.count else {
            throw StepwiseError.usage("slice has \(parts.count) parts but the tensor has \(shape.count) axes \(axes)")
        }
        return try parts.enumerated().map { (d, p) -> AxisSelection in
            let n = shape[d]
            func index(_ s: Substring, default def: Int, clampTo limit: Int) throws -> Int {
                if s.isEmpty { return def }
                guard var i = Int(s) else { throw StepwiseError.usage("'\(s)' in the slice is not a number") }
                if i < 0 { i += n }
                return Swift.max(0, Swift.min(limit, i))
            }
            if p.isEmpty || p == ":" { return .all }
            if !p.contains(":") {
                guard var i = Int(p) else { throw StepwiseError.usage("'\(p)' in the slice is not a number") }
                if i < 0 { i += n }
                guard i >= 0 && i < n else {
                    throw StepwiseError(.model, "index \(p) is out of range for axis '\(axes[d])' of size \(n) (0–\(n - 1))")
                }
                return .index(i)
            }
            let f = p.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count <= 3 else { throw StepwiseError.usage("'\(p)' is not a slice (start:stop:step)") }
            let step = f.count == 3 && !f[2].isEmpty ? Int(f[2]) : 1
            guard let step, step > 0 else { throw StepwiseError.usage("slice step in '\(p)' must be a positive number") }
            let lo = try index(f[0], default: 0, clampTo: n)
            let hi = try index(f[1], default: n, clampTo: n)
            guard lo < hi else { throw StepwiseError(.model, "slice '\(p)' selects nothing on axis '\(axes[d])' of size \(n)") }
            return .range(lo, hi, step)
        }
    }
}
