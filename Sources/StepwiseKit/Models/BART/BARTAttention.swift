import Foundation

/// The projections of one BART attention layer (`self_attn` or `encoder_attn`): q, k, v and out, each
/// with a bias. Mirrors `BartAttention` in transformers' `modeling_bart.py`, whose scores are
/// `q · kᵀ / √d_head` (it scales q first; the same numbers to float rounding).
struct BARTAttention: Sendable {
    let heads: Int
    let dHead: Int
    let wQ: Tensor, bQ: Tensor  // [d, d], [d]
    let wK: Tensor, bK: Tensor
    let wV: Tensor, bV: Tensor
    let wO: Tensor, bO: Tensor
    let wOHeads: OutputSlices  // per head [d, dHead]

    init(heads: Int, dModel d: Int, load: (String, [Int]) throws -> Tensor) throws {
        self.heads = heads
        dHead = d / heads
        wQ = try load("q_proj.weight", [d, d]); bQ = try load("q_proj.bias", [d])
        wK = try load("k_proj.weight", [d, d]); bK = try load("k_proj.bias", [d])
        wV = try load("v_proj.weight", [d, d]); bV = try load("v_proj.bias", [d])
        wO = try load("out_proj.weight", [d, d]); bO = try load("out_proj.bias", [d])
        wOHeads = OutputSlices(wO, heads: heads)
    }

    var parameterCount: Int { [wQ, bQ, wK, bK, wV, bV, wO, bO].reduce(0) { $0 + $1.count } }

    var scale: Float { 1 / Float(dHead).squareRoot() }

    /// `x · W_m + b_m` split into heads: `[pos, heads, d_head]`.
    func project(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
        x.linear(w, bias: b).reshaped([x.shape[0], heads, dHead])
    }

    /// The keys and values of `x` `[pos, d]`, split into heads.
    func keysValues(_ x: Tensor) -> (Tensor, Tensor) {
        (project(x, wK, bK), project(x, wV, bV))
    }

    /// Records q, k, v from their inputs and runs the shared attention steps.
    ///
    /// - Parameters:
    ///   - kv: keys and values of every position a query sees, when they were not computed from `x` here
    ///     (cross-attention's, from the encoder); nil computes them from `x`.
    ///   - kvInput: the step the keys and values come from.
    ///   - cache: self-attention in generation: the new positions' keys and values (the recorded ones)
    ///     are appended to this layer's cache, and the queries attend to every cached position.
    func callAsFunction(_ x: Tensor, layer L: Int, input: HookName, kv: (k: Tensor, v: Tensor)?,
                        kvInput: HookName, kvAxis: Axis, causal: Bool, start: Int, maskExplanation: String,
                        outExplanation: String, cache: KVCache? = nil, recorder rec: inout TraceRecorder) -> Tensor {
        let head = TraceRecorder.head, dHeadAxis = TraceRecorder.dHead
        func explain(_ m: String, _ what: String) -> String {
            "\(what): each row of \(input.name) times W_\(m) plus b_\(m), split into \(heads) heads of \(dHead) numbers."
        }
        let cached = cache == nil ? "" : " The cache holds the earlier positions'."
        let pos = rec.pos
        let q = rec.hook(.q(layer: L), project(x, wQ, bQ), title: "Queries (layer \(L))", formula: "q = x · W_Q + b_Q",
                         explanation: explain("Q", "What each position is looking for"),
                         axes: [pos, head, dHeadAxis], inputs: [input])
        let kv = kv ?? (project(x, wK, bK), project(x, wV, bV))
        var k = rec.hook(.k(layer: L), kv.k, title: "Keys (layer \(L))", formula: "k = x · W_K + b_K",
                         explanation: "What each position offers to be found by: each row of \(kvInput.name) times W_K plus b_K, split into \(heads) heads." + cached,
                         axes: [kvAxis, head, dHeadAxis], inputs: [kvInput])
        var v = rec.hook(.v(layer: L), kv.v, title: "Values (layer \(L))", formula: "v = x · W_V + b_V",
                         explanation: "What each position passes on when attended to: each row of \(kvInput.name) times W_V plus b_V, split into \(heads) heads." + cached,
                         axes: [kvAxis, head, dHeadAxis], inputs: [kvInput])
        if let cache {
            cache.keys[L] += k.data
            cache.values[L] += v.data
            let keys = cache.length + x.shape[0]
            k = Tensor(shape: [keys, heads, dHead], data: cache.keys[L])
            v = Tensor(shape: [keys, heads, dHead], data: cache.values[L])
        }
        return rec.recordAttention(
            layer: L, q: q, k: k, v: v, scale: scale, start: start, causal: causal, maskExplanation: maskExplanation,
            outputSlices: wOHeads, bO: bO, project: { $0.linear(wO, bias: bO) }, attnOutExplanation: outExplanation)
    }
}

/// The feed-forward layer of a BART block: `fc2(act(fc1(x)))`.
struct BARTMLP: Sendable {
    let activation: Activation
    let wIn: Tensor, bIn: Tensor  // fc1 [dMLP, d]
    let wOut: Tensor, bOut: Tensor  // fc2 [d, dMLP]

    init(dModel d: Int, dMLP m: Int, activation: Activation, load: (String, [Int]) throws -> Tensor) throws {
        self.activation = activation
        wIn = try load("fc1.weight", [m, d]); bIn = try load("fc1.bias", [m])
        wOut = try load("fc2.weight", [d, m]); bOut = try load("fc2.bias", [d])
    }

    var parameterCount: Int { [wIn, bIn, wOut, bOut].reduce(0) { $0 + $1.count } }

    func callAsFunction(_ x: Tensor, layer L: Int, input: HookName, recorder rec: inout TraceRecorder) -> Tensor {
        let pos = rec.pos, dMLPAxis = TraceRecorder.dMLP
        let pre = rec.hook(.mlpPre(layer: L), x.linear(wIn, bias: bIn), title: "MLP pre-activation (layer \(L))",
                           formula: "pre = x · W_in + b_in",
                           explanation: "Each position is projected up to \(wIn.shape[0]) hidden neurons, independently of the others.",
                           axes: [pos, dMLPAxis], inputs: [input])
        let post = rec.hook(.mlpPost(layer: L), pre.applying(activation), title: "MLP activation (layer \(L))",
                            formula: "post = " + activation.formula.replacingOccurrences(of: "(x)", with: "(pre)"),
                            explanation: "The nonlinearity: neurons with negative input are mostly switched off, positive ones pass through.",
                            axes: [pos, dMLPAxis], inputs: [.mlpPre(layer: L)])
        return rec.hook(.mlpOut(layer: L), post.linear(wOut, bias: bOut), title: "MLP output (layer \(L))",
                        formula: "mlp_out = post · W_out + b_out",
                        explanation: "The neurons' activations projected back down to \(x.shape[1]) dimensions: what the MLP adds to the stream.",
                        axes: [pos, TraceRecorder.dModel], inputs: [.mlpPost(layer: L)])
    }
}
