import Foundation

/// The logit lens (nostalgebraist, 2020): what the model would predict if it stopped after each layer,
/// read by applying the final norm and the unembedding to the residual stream.
public enum LogitLens {
    /// One row of the lens: where in the stream it reads.
    public struct Row: Sendable {
        /// `embed` or `layer L`.
        public var label: String
        /// The step read, e.g. `blocks.3.hook_resid_post`.
        public var step: String
        /// Per position, the top tokens, most likely first.
        public var top: [[Predictions.Prediction]]
    }

    /// Reads the residual stream at the embedding (`blocks.0.hook_resid_pre`) and after every block
    /// (`blocks.L.hook_resid_post`), at every position of `trace`.
    ///
    /// - Parameters:
    ///   - trace: a recorded pass of `model`.
    ///   - k: how many tokens to keep per cell.
    /// - Returns: `layers + 1` rows; the last is exactly the model's own `logits`.
    /// - Throws: ``StepwiseError`` if a residual step is missing.
    public static func read(_ trace: Trace, model: any Unembedding, k: Int = 5) throws -> [Row] {
        let layers = model.info.layers
        var rows: [Row] = []
        let names = [("embed", HookName.residPre(layer: 0).name)] + (0..<layers).map { ("layer \($0)", HookName.residPost(layer: $0).name) }
        for (label, name) in names {
            guard let step = trace[name] else {
                throw StepwiseError(.model, "the trace has no \(name): run 'prompt' again to record every step")
            }
            let logits = model.unembed(residual: step.tensor)
            rows.append(Row(label: label, step: name, top: top(logits, k: k, tokenizer: model.tokenizer)))
        }
        return rows
    }

    /// The `k` most likely tokens of each row of `logits` `[pos, vocab]`.
    public static func top(_ logits: Tensor, k: Int, tokenizer: any Tokenizer) -> [[Predictions.Prediction]] {
        let (t, v) = (logits.shape[0], logits.shape[1])
        let probs = logits.softmax()
        return (0..<t).map { p in
            let base = p * v
            var best: [Int] = []
            for i in 0..<v where best.count < k || logits.data[base + i] > logits.data[base + best[best.count - 1]] {
                let x = logits.data[base + i]
                let at = best.firstIndex { logits.data[base + $0] < x } ?? best.count
                best.insert(i, at: at)
                if best.count > k { best.removeLast() }
            }
            return best.map { Predictions.Prediction(id: $0, label: tokenizer.label(for: $0), probability: probs.data[base + $0],
                                                     logit: logits.data[base + $0]) }
        }
    }
}
