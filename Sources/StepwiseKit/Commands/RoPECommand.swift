import Foundation

/// What RoPE did to one query vector, pair by pair.
public enum RoPEView {
    /// One rotated pair of a query vector.
    public struct Pair: Sendable {
        public var index: Int
        public var dims: (Int, Int)
        /// pos · θ^(−2i/d), in radians.
        public var angle: Float
        public var before: (Float, Float)
        public var after: (Float, Float)
    }

    /// The pairs of query head `head` at `position` of layer `layer`, read from the trace's `hook_q`
    /// and `hook_rot_q`, with the angle each was turned by according to the model's RoPE.
    public static func pairs(trace: Trace, rope: RoPE, layer: Int, head: Int, position: Int, start: Int = 0) -> [Pair]? {
        guard let q = trace[HookName.q(layer: layer).name]?.tensor, let r = trace[HookName.rotQ(layer: layer).name]?.tensor else {
            return nil
        }
        let angles = rope.angles(position: start + position)
        return rope.pairs.enumerated().map { i, ab in
            Pair(index: i, dims: ab, angle: angles[i],
                 before: (q[position, head, ab.0], q[position, head, ab.1]),
                 after: (r[position, head, ab.0], r[position, head, ab.1]))
        }
    }

    static let command = Command(
        "rope", usage: "rope LAYER HEAD [POS]",
        summary: "what RoPE did to one query vector: each pair of numbers turned by pos·θ_i, lengths unchanged",
        help: "Rotary position embedding (Llama models) turns each pair of a query's (and key's) numbers by an angle that grows with the position and shrinks with the pair's index, so q·k depends on how far apart two tokens are. POS defaults to the last position.",
        examples: ["rope 0 0", "rope 3 2 4"],
        completion: .layerHead()
    ) { session, context, rest in
        let trace = try session.requireTrace()
        guard let llama = session.model as? LlamaModel else {
            throw StepwiseError(.model, "this model has no rotary position embedding (load a Llama-family model, e.g. a SmolLM2 GGUF)")
        }
        let words = try Arguments.split(rest)
        guard words.count == 2 || words.count == 3 else { throw StepwiseError.usage("usage: rope LAYER HEAD [POS]") }
        let (L, head) = try InspectCommands.layerAndHead(words.prefix(2).joined(separator: " "), session, needHead: true)
        let H = head!
        let n = trace.tokenIDs.count
        var pos = words.count == 3 ? try Arguments.int(words[2], "position", range: (-n)...(n - 1)) : n - 1
        if pos < 0 { pos += n }
        guard let pairs = pairs(trace: trace, rope: llama.rope, layer: L, head: H, position: pos) else {
            throw StepwiseError(.model, "the trace has no hook_q / hook_rot_q for layer \(L)")
        }
        func f(_ x: Float) -> String { String(format: "%8.3f", x) }
        let width = StepRenderer.options(session, context).width
        var lines = Prose.wrap("RoPE on query head \(L).\(H) at position \(pos) \(trace.positionLabels[pos]): pair i is turned by \(pos)·θ^(−2i/d), θ = \(llama.rope.theta)", width: width)
        lines += Prose.wrap("(\(llama.rope.pairing == .adjacent ? "GGUF order: pairs are neighbouring dimensions" : "Hugging Face order: dimension i pairs with i + d/2"))", width: width)
        lines.append("  pair   dims      angle      q before          q after")
        let shown = pairs.count <= 12 ? Array(pairs) : Array(pairs.prefix(8)) + Array(pairs.suffix(2))
        for (k, p) in shown.enumerated() {
            if pairs.count > 12 && k == 8 { lines.append("   …") }
            lines.append(String(format: "  %4d  %3d,%-3d ", p.index, p.dims.0, p.dims.1) + f(p.angle)
                         + "  (" + f(p.before.0) + "," + f(p.before.1) + ")  (" + f(p.after.0) + "," + f(p.after.1) + ")")
        }
        let norm = { (v: [(Float, Float)]) in v.reduce(Float(0)) { $0 + $1.0 * $1.0 + $1.1 * $1.1 }.squareRoot() }
        lines += Prose.wrap(String(format: "length before %.4f, after %.4f: a rotation changes direction, not size", norm(pairs.map(\.before)), norm(pairs.map(\.after))), width: width)
        return lines
    }
}
