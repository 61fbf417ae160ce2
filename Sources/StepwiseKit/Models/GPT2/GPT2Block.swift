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
    let ln1: LayerNormWeights
    let ln2: LayerNormWeights
    let wQKV: Tensor  // [3d, d] (transposed from Conv1D's [d, 3d])
    let bQKV: Tensor  // [3d]
    let wO: Tensor  // [d, d]
    let bO: Tensor
    let wOHeads: [PackedMatrix]  // per head [d, dHead]
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
        ln1 = LayerNormWeights(weight: try load("ln_1.weight", [d]), bias: try load("ln_1.bias", [d]), eps: eps)
        ln2 = LayerNormWeights(weight: try load("ln_2.weight", [d]), bias: try load("ln_2.bias", [d]), eps: eps)
        wQKV = try load("attn.c_attn.weight", [d, 3 * d]).transposed(0, 1)
        bQKV = try load("attn.c_attn.bias", [3 * d])
        wO = try load("attn.c_proj.weight", [d, d]).transposed(0, 1)
        bO = try load("attn.c_proj.bias", [d])
        wOHeads = AttentionMath.outputSlices(wO, heads: config.nHead)
        wIn = try load("mlp.c_fc.weight", [d, m]).transposed(0, 1)
        bIn = try load("mlp.c_fc.bias", [m])
        wOut = try load("mlp.c_proj.weight", [m, d]).transposed(0, 1)
        bOut = try load("mlp.c_proj.bias", [d])
    }

    /// Runs the block on `x` `[pos, d]`, recording its steps.
    func callAsFunction(_ x: Tensor, start: Int, cache: KVCache?, options: ForwardOptions,
                        recorder rec: inout TraceRecorder) -> Tensor {
        let L = layer
        let p = "blocks.\(L)"
        let (t, d) = (x.shape[0], x.shape[1])
        let dModel = TraceRecorder.dModel, head = TraceRecorder.head, dHeadAxis = TraceRecorder.dHead
        rec.record("\(p).hook_resid_pre", "Residual stream in (layer \(L))", formula: L == 0 ? "resid_pre = embed + pos_embed" : "resid_pre = blocks.\(L - 1).resid_post",
                   explanation: "The running vector for each position as it enters block \(L): everything the model knows so far.",
                   axes: [rec.pos, dModel], inputs: L == 0 ? ["hook_embed", "hook_pos_embed"] : ["blocks.\(L - 1).hook_resid_post"],
                   layer: L, tensor: x)

        // MARK: Attention
        let (s1, c1) = x.layerNormParts(eps: ln1.eps)
        let n1 = c1.dividedByRowScale(s1)
        let h1 = n1.affine(weight: ln1.weight, bias: ln1.bias)
        LayerNormWeights.record(&rec, prefix: "\(p).ln1", input: "\(p).hook_resid_pre", scale: s1, normalized: n1, out: h1, layer: L, rms: false)

        let qkv = h1.linear(wQKV, bias: bQKV)  // [t, 3d]
        var qd = [Float](), kd = [Float](), vd = [Float]()
        qd.reserveCapacity(t * d); kd.reserveCapacity(t * d); vd.reserveCapacity(t * d)
        for i in 0..<t {
            let r = i * 3 * d
            qd += qkv.data[r..<(r + d)]
            kd += qkv.data[(r + d)..<(r + 2 * d)]
            vd += qkv.data[(r + 2 * d)..<(r + 3 * d)]
        }
        let q = Tensor(shape: [t, heads, dHead], data: qd)
        let kNew = Tensor(shape: [t, heads, dHead], data: kd)
        let vNew = Tensor(shape: [t, heads, dHead], data: vd)
        func qkvExplain(_ m: String) -> String {
            "row of ln1's output times W_\(m) plus b_\(m), split into \(heads) heads of \(dHead) numbers"
        }
        rec.record("\(p).attn.hook_q", "Queries (layer \(L))", formula: "q = ln1(x) · W_Q + b_Q",
                   explanation: "What each position is looking for: each " + qkvExplain("Q") + ".",
                   axes: [rec.pos, head, dHeadAxis], inputs: ["\(p).ln1.hook_out"], layer: L, tensor: q)
        rec.record("\(p).attn.hook_k", "Keys (layer \(L))", formula: "k = ln1(x) · W_K + b_K",
                   explanation: "What each position offers to be found by: each " + qkvExplain("K") + ".",
                   axes: [rec.pos, head, dHeadAxis], inputs: ["\(p).ln1.hook_out"], layer: L, tensor: kNew)
        rec.record("\(p).attn.hook_v", "Values (layer \(L))", formula: "v = ln1(x) · W_V + b_V",
                   explanation: "What each position passes on when attended to: each " + qkvExplain("V") + ".",
                   axes: [rec.pos, head, dHeadAxis], inputs: ["\(p).ln1.hook_out"], layer: L, tensor: vNew)

        var k = kNew, v = vNew
        if let cache {
            let tk = cache.length + t
            cache.keys[L] += kd
            cache.values[L] += vd
            k = Tensor(shape: [tk, heads, dHead], data: cache.keys[L])
            v = Tensor(shape: [tk, heads, dHead], data: cache.values[L])
        }
        let causal = options.causal ?? true
        let attnOut = rec.recordAttention(
            p, layer: L, q: q, k: k, v: v, scale: scale, start: start, causal: causal,
            maskExplanation: causal ? "The causal mask: a position may not look at later positions, so those scores become −∞ (zero after softmax)."
                : "The causal mask is switched off: every position may look at every other, as in an encoder.",
            interventions: options.interventions, outputSlices: wOHeads, bO: bO, project: { $0.linear(wO, bias: bO) },
            attnOutExplanation: "The heads' outputs added together: what attention writes into the residual stream.")
        let mid = x + attnOut
        rec.record("\(p).hook_resid_mid", "Residual stream after attention (layer \(L))", formula: "resid_mid = resid_pre + attn_out",
                   explanation: "The residual connection: attention's output is added to the stream, not substituted for it.",
                   axes: [rec.pos, dModel], inputs: ["\(p).hook_resid_pre", "\(p).hook_attn_out"], layer: L, tensor: mid)

        // MARK: MLP
        let (s2, c2) = mid.layerNormParts(eps: ln2.eps)
        let n2 = c2.dividedByRowScale(s2)
        let h2 = n2.affine(weight: ln2.weight, bias: ln2.bias)
        LayerNormWeights.record(&rec, prefix: "\(p).ln2", input: "\(p).hook_resid_mid", scale: s2, normalized: n2, out: h2, layer: L, rms: false)
        let pre = h2.linear(wIn, bias: bIn)
        let dMLPAxis = TraceRecorder.dMLP
        rec.record("\(p).mlp.hook_pre", "MLP pre-activation (layer \(L))", formula: "pre = ln2(x) · W_in + b_in",
                   explanation: "Each position is projected up to \(pre.shape[1]) hidden neurons, independently of the others.",
                   axes: [rec.pos, dMLPAxis], inputs: ["\(p).ln2.hook_out"], layer: L, tensor: pre)
        let post = pre.applying(activation)
        rec.record("\(p).mlp.hook_post", "MLP activation (layer \(L))", formula: "post = " + activation.formula.replacingOccurrences(of: "(x)", with: "(pre)", options: [], range: nil),
                   explanation: "The nonlinearity: neurons with negative input are mostly switched off, positive ones pass through.",
                   axes: [rec.pos, dMLPAxis], inputs: ["\(p).mlp.hook_pre"], layer: L, tensor: post)
        let mlpOut = post.linear(wOut, bias: bOut)
        rec.record("\(p).hook_mlp_out", "MLP output (layer \(L))", formula: "mlp_out = post · W_out + b_out",
                   explanation: "The neurons' activations projected back down to \(d) dimensions: what the MLP writes into the stream.",
                   axes: [rec.pos, dModel], inputs: ["\(p).mlp.hook_post"], layer: L, tensor: mlpOut)
        let resid = mid + mlpOut
        rec.record("\(p).hook_resid_post", "Residual stream out (layer \(L))", formula: "resid_post = resid_mid + mlp_out",
                   explanation: "The MLP's output added to the stream: the block's result, passed to the next block.",
                   axes: [rec.pos, dModel], inputs: ["\(p).hook_resid_mid", "\(p).hook_mlp_out"], layer: L, tensor: resid)
        return resid
    }
}
