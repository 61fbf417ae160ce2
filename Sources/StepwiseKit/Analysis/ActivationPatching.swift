import Foundation

/// Activation patching in TransformerLens's denoising convention: run the corrupted prompt with one
/// activation of the clean prompt copied in, and measure how much of the clean behaviour it restores.
///
/// The metric is `m = logit(A) − logit(B)` at the last position; each cell is
/// `(m_patched − m_corrupted) / (m_clean − m_corrupted)`: 1 means the patch restores the clean
/// prediction, 0 that it does nothing. Mirrors TransformerLens's `patching.get_act_patch_*` functions.
public enum ActivationPatching {
    /// Where to patch, and what the result's second axis is.
    public enum Kind: String, CaseIterable, Sendable {
        /// `blocks.L.hook_resid_pre` at one position: `[layer, pos]`.
        case residPre = "resid_pre"
        /// `blocks.L.hook_attn_out` at one position: `[layer, pos]`.
        case attnOut = "attn_out"
        /// `blocks.L.hook_mlp_out` at one position: `[layer, pos]`.
        case mlpOut = "mlp_out"
        /// `blocks.L.attn.hook_z` of one head, every position: `[layer, head]`.
        case z
        /// `blocks.L.attn.hook_pattern` of one head, every query: `[layer, head]`.
        case pattern

        public func hook(layer: Int) -> HookName {
            switch self {
            case .residPre: return .residPre(layer: layer)
            case .attnOut: return .attnOut(layer: layer)
            case .mlpOut: return .mlpOut(layer: layer)
            case .z: return .z(layer: layer)
            case .pattern: return .pattern(layer: layer)
            }
        }

        /// True when the second axis is heads (all positions of one head patched at once).
        public var byHead: Bool { self == .z || self == .pattern }
    }

    public struct Result: Sendable {
        /// `[layer, pos]` or `[layer, head]`.
        public var values: Tensor
        public var cleanMetric: Float
        public var corruptedMetric: Float
    }

    /// Patches every layer × position (or layer × head) of `kind`.
    ///
    /// - Parameters:
    ///   - clean, corrupted: token ids of the same length.
    ///   - a, b: the metric's tokens.
    ///   - options: the session's edits (ablations), applied to every run; its `record` is ignored.
    ///   - progress: called after each patched run with (done, total).
    /// - Throws: ``StepwiseError`` if the lengths differ, the metric is the same on both prompts, or the
    ///   sweep is cancelled (`.interrupted`).
    public static func run(model: any LanguageModel, clean: [Int], corrupted: [Int], a: Int, b: Int, kind: Kind,
                           options: ForwardOptions = ForwardOptions(),
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        guard clean.count == corrupted.count else {
            throw StepwiseError.usage("the clean prompt has \(clean.count) tokens and the corrupted one \(corrupted.count): patching needs the same number")
        }
        var o = options
        o.record = true
        let cleanTrace = try model.forward(clean, cache: nil, options: o)
        o.record = false
        func metric(_ t: Trace) throws -> Float {
            guard let l = t.logitsRow() else { throw StepwiseError(.model, "\(model.info.name) has no logits to patch a metric on") }
            return l.data[a] - l.data[b]
        }
        let mClean = try metric(cleanTrace)
        let mCorrupted = try metric(try model.forward(corrupted, cache: nil, options: o))
        guard mClean != mCorrupted else {
            throw StepwiseError(.model, "logit difference is \(mClean) on both prompts: nothing to restore; choose tokens the prompts disagree on")
        }
        let layers = model.info.layers
        let width = kind.byHead ? model.info.heads : clean.count
        var values = [Float](repeating: 0, count: layers * width)
        for l in 0..<layers {
            let hook = kind.hook(layer: l)
            guard let source = cleanTrace[hook.name]?.tensor else {
                throw StepwiseError(.model, "\(model.info.family) records no \(hook.name) to patch")
            }
            for i in 0..<width {
                if o.isCancelled() {
                    throw StepwiseError(.interrupted, "patching interrupted after \(l * width + i) of \(layers * width) runs; nothing was changed")
                }
                var run = o
                run.patches.append(Patch(hook, .replace(source), positions: kind.byHead ? nil : [i], heads: kind.byHead ? [i] : nil))
                let m = try metric(try model.forward(corrupted, cache: nil, options: run))
                values[l * width + i] = (m - mCorrupted) / (mClean - mCorrupted)
                progress(l * width + i + 1, layers * width)
            }
        }
        return Result(values: Tensor(shape: [layers, width], data: values), cleanMetric: mClean, corruptedMetric: mCorrupted)
    }
}
