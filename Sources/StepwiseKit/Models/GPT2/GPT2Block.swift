import Foundation

/// One GPT-2 transformer block: `x + attn(ln1(x))`, then `+ mlp(ln2(·))`.
///
/// Mirrors `GPT2Block` in transformers' `modeling_gpt2.py`.
struct GPT2Block {
    let layer: Int
    let heads: Int
    let dHead: Int
    let scale: Float
    let activation: Activation
    let ln1: Norm
    let ln2: Norm
    let wQKV: Tensor  // [3d, d] (transposed from Conv1D's [d, 3d])
    let bQKV: Tensor  // [3d]
    let wO: Tensor  // [d, d]
    let bO: Tensor
    let wOHeads: OutputSlices  // per head [d, dHead]
    let wIn: Tensor  // [dMLP, d]
    let bIn: Tensor
    let wOut: Tensor  // [d, dMLP]
    let bOut: Tensor

    init(layer: Int, config: GPT2Config, load: (String, [Int]) throws -> Tensor) throws {
        let d = config.nEmbd, m = config.dMLP
        self.layer = layer
        heads = config.nHead
        dHead = config.dHead
        var s: Float = config.scaleAttnWeights ? 1 / Float(config.dHead).squareRoot() : 1
        if config.scaleAttnByInverseLayerIdx { s /= Float(layer + 1) }
        scale = s
        activation = Activation(huggingFaceName: config.activationFunction)!
        let eps = config.layerNormEpsilon
        ln1 = .layerNorm(weight: try load("ln_1.weight", [d]), bias: try load("ln_1.bias", [d]), eps: eps)
        ln2 = .layerNorm(weight: try load("ln_2.weight", [d]), bias: try load("ln_2.bias", [d]), eps: eps)
        wQKV = try load("attn.c_attn.weight", [d, 3 * d]).transposed(0, 1)
        bQKV = try load("attn.c_attn.bias", [3 * d])
        wO = try load("attn.c_proj.weight", [d, d]).transposed(0, 1)
        bO = try load("attn.c_proj.bias", [d])
        wOHeads = OutputSlices(wO, heads: config.nHead)
        wIn = try load("mlp.c_fc.weight", [d, m]).transposed(0, 1)
        bIn = try load("mlp.c_fc.bias", [m])
        wOut = try load("mlp.c_proj.weight", [m, d]).transposed(0, 1)
        bOut = try load("mlp.c_proj.bias", [d])
    }

    /// Runs the block on `x` `[pos, d]` through its hook points.
    func callAsFunction(_ x: Tensor, start: Int, cache: KVCache?, options: ForwardOptions,
                        recorder rec: inout TraceRecorder) -> Tensor {
        let L = layer
        let pos = rec.pos
        let (t, d) = (x.shape[0], x.shape[1])
        let dModel = TraceRecorder.dModel, head = TraceRecorder.head, dHeadAxis = TraceRecorder.dHead
        let x = rec.hook(.residPre(layer: L), x, title: "Residual stream in (layer \(L))",
                         formula: L == 0 ? "resid_pre = embed + pos_embed" : "resid_pre = blocks.\(L - 1).resid_post",
                         explanation: "The running vector for each position as it enters block \(L): everything the model knows so far.",
                         axes: [pos, dModel], inputs: L == 0 ? [.embed, .posEmbed] : [.residPost(layer: L - 1)])

        // MARK: Attention
        let h1 = ln1(x, at: .ln1(layer: L), inputs: [.residPre(layer: L)], recorder: &rec)
        let qkv = h1.linear(wQKV, bias: bQKV)  // [t, 3d]
        var qd = [Float](), kd = [Float](), vd = [Float]()
        qd.reserveCapacity(t * d); kd.reserveCapacity(t * d); vd.reserveCapacity(t * d)
        for i in 0..<t {
            let r = i * 3 * d
            qd += qkv.data[r..<(r + d)]
            kd += qkv.data[(r + d)..<(r + 2 * d)]
            vd += qkv.data[(r + 2 * d)..<(r + 3 * d)]
        }
        func qkvExplain(_ m: String) -> String {
            "row of ln1's output times W_\(m) plus b_\(m), split into \(heads) heads of \(dHead) numbers"
        }
        let ln1Out: [HookName] = [.normOut(.ln1(layer: L))]
        let q = rec.hook(.q(layer: L), Tensor(shape: [t, heads, dHead], data: qd), title: "Queries (layer \(L))",
                         formula: "q = ln1(x) · W_Q + b_Q", explanation: "What each position is looking for: each " + qkvExplain("Q") + ".",
                         axes: [pos, head, dHeadAxis], inputs: ln1Out)
        let kNew = rec.hook(.k(layer: L), Tensor(shape: [t, heads, dHead], data: kd), title: "Keys (layer \(L))",
                            formula: "k = ln1(x) · W_K + b_K", explanation: "What each position offers to be found by: each " + qkvExplain("K") + ".",
                            axes: [pos, head, dHeadAxis], inputs: ln1Out)
        let vNew = rec.hook(.v(layer: L), Tensor(shape: [t, heads, dHead], data: vd), title: "Values (layer \(L))",
                            formula: "v = ln1(x) · W_V + b_V", explanation: "What each position passes on when attended to: each " + qkvExplain("V") + ".",
                            axes: [pos, head, dHeadAxis], inputs: ln1Out)

        var k = kNew, v = vNew
        if let cache {
            let tk = cache.length + t
            cache.keys[L] += kNew.data
            cache.values[L] += vNew.data
            k = Tensor(shape: [tk, heads, dHead], data: cache.keys[L])
            v = Tensor(shape: [tk, heads, dHead], data: cache.values[L])
        }
        let causal = options.causal ?? true
        let attnOut = rec.recordAttention(
            layer: L, q: q, k: k, v: v, scale: scale, start: start, causal: causal,
            maskExplanation: causal ? "The causal mask: a position may not look at later positions, so those scores become −∞ (zero after softmax)."
                : "The causal mask is switched off: every position may look at every other, as in an encoder.",
            outputSlices: wOHeads, bO: bO, project: { $0.linear(wO, bias: bO) },
            attnOutExplanation: "The heads' outputs added together: what attention writes into the residual stream.")
        let mid = rec.hook(.residMid(layer: L), x + attnOut, title: "Residual stream after attention (layer \(L))",
                           formula: "resid_mid = resid_pre + attn_out",
                           explanation: "The residual connection: attention's output is added to the stream, not substituted for it.",
                           axes: [pos, dModel], inputs: [.residPre(layer: L), .attnOut(layer: L)])

        // MARK: MLP
        let h2 = ln2(mid, at: .ln2(layer: L), inputs: [.residMid(layer: L)], recorder: &rec)
        let dMLPAxis = TraceRecorder.dMLP
        let pre = rec.hook(.mlpPre(layer: L), h2.linear(wIn, bias: bIn), title: "MLP pre-activation (layer \(L))",
                           formula: "pre = ln2(x) · W_in + b_in",
                           explanation: "Each position is projected up to \(wIn.shape[0]) hidden neurons, independently of the others.",
                           axes: [pos, dMLPAxis], inputs: [.normOut(.ln2(layer: L))])
        let post = rec.hook(.mlpPost(layer: L), pre.applying(activation), title: "MLP activation (layer \(L))",
                            formula: "post = " + activation.formula.replacingOccurrences(of: "(x)", with: "(pre)", options: [], range: nil),
                            explanation: "The nonlinearity: neurons with negative input are mostly switched off, positive ones pass through.",
                            axes: [pos, dMLPAxis], inputs: [.mlpPre(layer: L)])
        let mlpOut = rec.hook(.mlpOut(layer: L), post.linear(wOut, bias: bOut), title: "MLP output (layer \(L))",
                              formula: "mlp_out = post · W_out + b_out",
                              explanation: "The neurons' activations projected back down to \(d) dimensions: what the MLP writes into the stream.",
                              axes: [pos, dModel], inputs: [.mlpPost(layer: L)])
        return rec.hook(.residPost(layer: L), mid + mlpOut, title: "Residual stream out (layer \(L))",
                        formula: "resid_post = resid_mid + mlp_out",
                        explanation: "The MLP's output added to the stream: the block's result, passed to the next block.",
                        axes: [pos, dModel], inputs: [.residMid(layer: L), .mlpOut(layer: L)])
    }
}
