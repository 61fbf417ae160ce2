import Foundation

/// How much a recorded pass may keep (``ForwardOptions/traceBudget``), and what it left out to stay within it.
///
/// The largest steps cost nothing extra: the attention scores and patterns, the per-head results and the
/// norms' outputs are ``StepRecipe``s over tensors the trace holds anyway. What is left grows with the
/// prompt's length (`[pos, d_model]` and `[pos, d_mlp]` per layer). After the first block of a stack the
/// recorder knows exactly what one block holds, projects it over the stack's layers (plus the logits, and
/// for an encoder the decoder after it), and when that exceeds the budget leaves out whole groups of
/// steps, the first group in ``Group/allCases`` order last: MLP pre-activations go first, attention
/// patterns last; the last group that fits in part is kept for the first layers only. The residual stream,
/// the embeddings, the norms and the logits (the last position's beyond ``ForwardOptions/logitBudget``)
/// are always kept, even over the budget. The first block's steps of a group left out are removed again.
public enum TraceBudget {
    /// The trace budget when none is set: 1536 MB. With SmolLM2-135M's ~1 GB of weights that keeps a
    /// 2,048-token trace, and with it the whole process, under 3 GB; prompts up to ~1,400 tokens on that
    /// model keep every step.
    public static let defaultBytes = 1536 * 1_048_576

    /// Groups of steps a pass may leave out, in the order they are kept: ``patterns`` is the last to go.
    public enum Group: Int, CaseIterable, Sendable, Comparable {
        /// What the patterns are computed from and the patterns: `hook_rot_q`, `hook_rot_k` (or `hook_q`,
        /// `hook_k` without RoPE), `hook_attn_scores_unmasked`, `hook_attn_scores`, `hook_pattern`.
        case patterns
        /// `hook_v`, `hook_z`, `hook_result`.
        case headOutputs
        /// `hook_attn_out`, `hook_mlp_out` (and `hook_cross_attn_out`).
        case blockOutputs
        /// `hook_q`, `hook_k` before RoPE, and the q/k norms' steps.
        case unrotated
        /// `mlp.hook_post`.
        case mlpActivations
        /// `mlp.hook_pre`, `mlp.hook_pre_linear`.
        case mlpPreActivations

        public static func < (a: Group, b: Group) -> Bool { a.rawValue < b.rawValue }

        /// What the group holds, for messages: "MLP pre-activations (mlp.hook_pre, hook_pre_linear)".
        public var title: String {
            switch self {
            case .patterns: return "attention patterns (the scores, hook_pattern, and the q and k they come from)"
            case .headOutputs: return "values and per-head outputs (attn.hook_v, hook_z, hook_result)"
            case .blockOutputs: return "block outputs (hook_attn_out, hook_mlp_out)"
            case .unrotated: return "q and k before RoPE (attn.hook_q, hook_k, the q/k norms)"
            case .mlpActivations: return "MLP activations (mlp.hook_post)"
            case .mlpPreActivations: return "MLP pre-activations (mlp.hook_pre, hook_pre_linear)"
            }
        }

        /// Shorter, for the line about one step: "attention patterns".
        public var shortTitle: String {
            switch self {
            case .patterns: return "attention patterns"
            case .headOutputs: return "values and per-head outputs"
            case .blockOutputs: return "block outputs"
            case .unrotated: return "q and k before RoPE"
            case .mlpActivations: return "MLP activations"
            case .mlpPreActivations: return "MLP pre-activations"
            }
        }
    }

    /// The group of a hook, nil for steps that are always kept.
    /// - Parameter rotated: the block turns q and k by RoPE (its `hook_q`, `hook_k` are not what the scores read).
    public static func group(of name: HookName, rotated: Bool) -> Group? {
        var h = name.unstacked
        var cross = false
        if case .cross(let inner) = h {
            h = inner
            cross = true
        }
        switch h {
        case .rotQ, .rotK, .attnScoresUnmasked, .attnScores, .pattern: return .patterns
        case .q, .k: return rotated && !cross ? .unrotated : .patterns
        case .v, .z, .result: return .headOutputs
        case .attnOut, .mlpOut, .crossAttnOut: return .blockOutputs
        case .normScale(.qNorm), .normNormalized(.qNorm), .normOut(.qNorm),
             .normScale(.kNorm), .normNormalized(.kNorm), .normOut(.kNorm):
            return rotated ? .unrotated : .patterns
        case .mlpPost: return .mlpActivations
        case .mlpPre, .mlpPreLinear: return .mlpPreActivations
        default: return nil
        }
    }

    /// `1536 MB`, `9.1 GB`.
    public static func text(bytes: Int) -> String {
        let mb = Double(bytes) / 1_048_576
        if mb >= 10_240 { return String(format: "%.1f GB", mb / 1024) }
        if mb >= 10 { return String(format: "%.0f MB", mb) }
        return String(format: "%.1f MB", mb)
    }

    /// A budget in MB that keeps `bytes`: rounded up to the next 100 MB, with 100 MB to spare.
    static func suggestedMB(for bytes: Int) -> Int {
        (bytes / 1_048_576 / 100 + 2) * 100
    }

    /// What one stack's blocks kept.
    public struct StackReport: Sendable {
        /// The stack of an encoder-decoder model; nil for other models.
        public var stack: HookName.Stack?
        public var layers: Int
        /// Per group, how many layers from layer 0 keep it (`layers` for all).
        public var kept: [Group: Int]
        /// Per group, the bytes one block's steps of it hold (beyond those of the groups kept before it).
        public var bytesPerLayer: [Group: Int]
        /// Whether the blocks turn q and k by RoPE (which group `hook_q` belongs to).
        public var rotated: Bool

        /// The layers that do not keep `group`, as text: "every layer", "layers 6–29", "decoder layer 5".
        func droppedLayers(_ group: Group) -> String {
            let m = kept[group] ?? layers
            let what = stack.map { "\($0.rawValue) layer" } ?? "layer"
            if m == 0 { return "every \(what)" }
            return m == layers - 1 ? "\(what) \(m)" : "\(what)s \(m)–\(layers - 1)"
        }

        /// The layers that keep `group`: "layers 0–6", "layer 0".
        func keptLayers(_ group: Group) -> String {
            let m = kept[group] ?? layers
            let what = stack.map { "\($0.rawValue) layer" } ?? "layer"
            return m == 1 ? "\(what) 0" : "\(what)s 0–\(m - 1)"
        }
    }

    /// What a pass left out and why.
    public struct Report: Sendable {
        /// The budget, bytes.
        public var budget: Int
        /// The positions of the pass (the decoder's for an encoder-decoder model).
        public var tokens: Int
        /// What the trace holds (``Trace/heldBytes``) at the end of the pass.
        public var held = 0
        /// What every step would have held: ``held`` plus the projected bytes of what was left out.
        public var everything = 0
        public var stacks: [StackReport] = []
        /// The names of the steps left out.
        public var dropped: Set<String> = []

        /// Whether anything was left out.
        public var droppedAnything: Bool { !dropped.isEmpty }

        /// Sentences for the prompt summary and `info`: what was left out, the budget and how to keep everything.
        public var summary: [String] {
            guard droppedAnything else {
                return held > budget
                    ? ["The trace holds \(TraceBudget.text(bytes: held)), more than the \(TraceBudget.text(bytes: budget)) trace budget; 'set trace-budget \(TraceBudget.suggestedMB(for: held))' fits it."]
                    : []
            }
            var parts: [String] = []
            for s in stacks {
                let groups = Group.allCases.filter { (s.kept[$0] ?? s.layers) < s.layers }
                let partial = groups.filter { (s.kept[$0] ?? 0) > 0 }
                let none = groups.filter { (s.kept[$0] ?? 0) == 0 }
                var part = partial.map { "keeps \($0.shortTitle) in \(s.keptLayers($0)) only" }
                if !none.isEmpty {
                    let titles = none.map(\.title)
                    let list = titles.count == 1 ? titles[0] : titles.dropLast().joined(separator: ", ") + " and " + titles.last!
                    part.append("leaves out " + list + " in " + s.droppedLayers(none[0]))
                }
                if !part.isEmpty { parts.append(part.joined(separator: " and ")) }
            }
            var first = "To stay within the \(TraceBudget.text(bytes: budget)) trace budget (every step: \(TraceBudget.text(bytes: everything))), "
                + "the trace holds \(TraceBudget.text(bytes: held)): it " + parts.joined(separator: "; it ") + "."
            if held > budget {
                first += " Even so it holds more than the budget: the residual stream, norms and embeddings are always kept."
            }
            return [first, "'set trace-budget \(TraceBudget.suggestedMB(for: everything))' keeps every step; a shorter prompt needs less."]
        }

        /// The group a left-out step belongs to.
        public func group(of name: String) -> Group? {
            guard dropped.contains(name), let hook = HookName(name), let s = stacks.first(where: { $0.stack == hook.stack }) else { return nil }
            return TraceBudget.group(of: hook, rotated: s.rotated)
        }

        /// One line for a step that was left out: what, why, what to do. Nil when it was not left out.
        public func absence(of name: String) -> String? {
            absence(of: [name])
        }

        /// One line for steps that were left out (the first one's group gives the reason); nil when the
        /// first was not left out.
        public func absence(of names: [String]) -> String? {
            guard let name = names.first, dropped.contains(name), let hook = HookName(name) else { return nil }
            let s = stacks.first { $0.stack == hook.stack }
            guard let s, let g = TraceBudget.group(of: hook, rotated: s.rotated) else { return nil }
            let m = s.kept[g] ?? s.layers
            let kept = m == 0 ? "keeps no \(g.shortTitle)" : "keeps \(g.shortTitle) in \(s.keptLayers(g)) only"
            let what = names.count == 1 ? "\(name) was" : names.dropLast().joined(separator: ", ") + " and \(names.last!) were"
            return "\(what) left out: every step of this \(tokens)-token prompt would take \(TraceBudget.text(bytes: everything)), "
                + "over the \(TraceBudget.text(bytes: budget)) trace budget, so the trace \(kept); "
                + "'set trace-budget \(TraceBudget.suggestedMB(for: everything))' or a shorter prompt keeps \(names.count == 1 ? "it" : "them")"
        }
    }
}
