import Foundation
import Testing
@testable import StepwiseKit

// MARK: - Patches by hand

@Suite("patches on a small tensor, against hand computation")
struct PatchTests {
    /// `x[p, h, d] = 100p + 10h + d`, `[pos 3, head 2, d_head 2]`.
    static let x: Tensor = {
        var data: [Float] = []
        for p in 0..<3 { for h in 0..<2 { for d in 0..<2 { data.append(Float(100 * p + 10 * h + d)) } } }
        return Tensor(shape: [3, 2, 2], data: data)
    }()
    static let axes = ["pos", "head", "d_head"]

    static func apply(_ action: Patch.Action, positions: [Int]? = nil, heads: [Int]? = nil, start: Int = 0) throws -> Tensor {
        try Patch(.z(layer: 0), action, positions: positions, heads: heads).apply(to: x, axes: axes, start: start)
    }

    @Test("replace at one position with a full-shape value")
    func replacePosition() throws {
        let value = Tensor.filled([3, 2, 2], -1)
        let out = try Self.apply(.replace(value), positions: [1])
        for p in 0..<3 { for h in 0..<2 { for d in 0..<2 {
            #expect(out[p, h, d] == (p == 1 ? -1 : Self.x[p, h, d]))
        } } }
    }

    @Test("add a [d_head] vector at one head, broadcast over positions")
    func addHead() throws {
        let out = try Self.apply(.add(Tensor(shape: [2], data: [0.5, 2])), heads: [1])
        for p in 0..<3 { for h in 0..<2 { for d in 0..<2 {
            #expect(out[p, h, d] == Self.x[p, h, d] + (h == 1 ? (d == 0 ? 0.5 : 2) : 0))
        } } }
    }

    @Test("zero one head at one position")
    func zeroHeadPosition() throws {
        let out = try Self.apply(.zero, positions: [2], heads: [0])
        for p in 0..<3 { for h in 0..<2 { for d in 0..<2 {
            #expect(out[p, h, d] == (p == 2 && h == 0 ? 0 : Self.x[p, h, d]))
        } } }
    }

    @Test("mean of one head over all positions, written to every position or only some")
    func meanHead() throws {
        // Mean over p of 100p + 10h + d is 100 + 10h + d.
        let all = try Self.apply(.mean, heads: [0])
        let some = try Self.apply(.mean, positions: [0], heads: [1])
        for p in 0..<3 { for h in 0..<2 { for d in 0..<2 {
            #expect(all[p, h, d] == (h == 0 ? Float(100 + d) : Self.x[p, h, d]))
            #expect(some[p, h, d] == (p == 0 && h == 1 ? Float(110 + d) : Self.x[p, h, d]))
        } } }
    }

    @Test("positions are absolute: in an incremental pass from position 5, position 6 is row 1")
    func absolutePositions() throws {
        let out = try Self.apply(.zero, positions: [4, 6], start: 5)
        for p in 0..<3 { for h in 0..<2 { for d in 0..<2 {
            #expect(out[p, h, d] == (p == 1 ? 0 : Self.x[p, h, d]))
        } } }
    }

    @Test("a patch that does not fit is a clear error")
    func errors() throws {
        #expect(throws: StepwiseError.self) { try Self.apply(.zero, heads: [2]) }
        #expect(throws: StepwiseError.self) { try Self.apply(.zero, positions: [3]) }
        #expect(throws: StepwiseError.self) { try Self.apply(.add(Tensor(shape: [3], data: [1, 2, 3]))) }
        let noHeads = Tensor(shape: [3, 4], data: Array(repeating: 1, count: 12))
        #expect(throws: StepwiseError.self) {
            try Patch(.residPre(layer: 0), .zero, heads: [0]).apply(to: noHeads, axes: ["pos", "d_model"])
        }
    }

    @Test("the scores' position axis is query_pos; key_pos is left alone")
    func queryPositions() throws {
        let s = Tensor(shape: [1, 2, 2], data: [1, 2, 3, 4])
        let out = try Patch(.attnScores(layer: 0), .zero, positions: [1]).apply(to: s, axes: ["head", "query_pos", "key_pos"])
        #expect(out.data == [1, 2, 0, 0])
    }
}

// MARK: - Every hook of every family

/// The families' test models: the GPT-2 fixture, the tiny random Llama, MiniLM when present.
enum HookModels {
    static func gpt2() throws -> (any LanguageModel, [Int]) {
        let ref = try GPT2Reference(GPT2Reference.folder("tied-4h"))
        return (try ref.model(), ref.cases[1].ids)
    }

    static func llama() throws -> (any LanguageModel, [Int]) {
        (try LlamaTinyModelTests.loadHF(), [5, 17, 3, 88, 42])
    }

    static func bert() throws -> (any LanguageModel, [Int])? {
        guard let dir = TestPaths.model("minilm/config.json")?.deletingLastPathComponent(),
              TestPaths.model("minilm/model.safetensors") != nil else { return nil }
        let model = try BERTModel.load(folder: dir.path)
        return (model, try model.tokenizer.encodeForModel("the cat sat"))
    }
}

@Suite("every step is a hook point")
struct HookPointTests {
    /// A value that changes every entry by a different amount along the last axis, so no softmax or
    /// norm can undo it.
    static func bump(_ t: Tensor) -> Tensor {
        let n = t.shape.last ?? 1
        return Tensor(shape: [n], data: (0..<n).map { 0.25 + 0.5 * Float($0) / Float(max(n, 1)) })
    }

    /// Patches every hook of `model`'s trace in turn: that step must be exactly the patch applied to the
    /// unpatched step, every step recorded before it unchanged, and the output different.
    func checkEveryHook(_ model: any LanguageModel, _ ids: [Int], family: String) throws {
        let base = try model.trace(ids)
        let output = base.logits != nil ? "logits" : "hook_sentence_embedding"
        var checked = 0
        for (i, step) in base.steps.enumerated() {
            let hook = try #require(HookName(step.name), "\(family): step \(step.name) is not a hook name")
            #expect(hook.name == step.name)
            let patch = Patch(hook, .add(Self.bump(step.tensor)))
            let patched = try model.trace(ids, options: ForwardOptions(patches: [patch]))
            #expect(patched.names == base.names, "\(family) \(step.name): the patched pass recorded different steps")
            for earlier in base.steps[..<i] {
                #expect(patched[earlier.name]!.tensor == earlier.tensor, "\(family): patching \(step.name) changed \(earlier.name), recorded before it")
            }
            let want = try patch.apply(to: step.tensor, axes: step.axes.map(\.name))
            #expect(patched[step.name]!.tensor == want, "\(family): \(step.name) is not the patch of the unpatched step")
            #expect(want != step.tensor, "\(family): the patch did not change \(step.name)")
            if step.name != output && step.name != "pooler.hook_out" {
                #expect(patched[output]!.tensor != base[output]!.tensor, "\(family): patching \(step.name) did not reach \(output)")
            }
            checked += 1
        }
        #expect(checked == base.steps.count)
    }

    @Test("GPT-2: a patch at every hook changes that step and nothing before it")
    func gpt2() throws {
        let (model, ids) = try HookModels.gpt2()
        try checkEveryHook(model, ids, family: "gpt2")
    }

    @Test("Llama: a patch at every hook changes that step and nothing before it")
    func llama() throws {
        let (model, ids) = try HookModels.llama()
        try checkEveryHook(model, ids, family: "llama")
    }

    @Test("BERT (MiniLM): a patch at every hook changes that step and nothing before it",
          .enabled(if: TestPaths.model("minilm/model.safetensors") != nil, "needs models/minilm"))
    func bert() throws {
        let (model, ids) = try #require(try HookModels.bert())
        try checkEveryHook(model, ids, family: "bert")
    }

    @Test("a patch on the fast path (record off) gives the recorded pass's logits")
    func fastPath() throws {
        for (model, ids) in [try HookModels.gpt2(), try HookModels.llama()] {
            for hook in [HookName.residPre(layer: 1), .result(layer: 0), .pattern(layer: 1), .normScale(.final), .ropeCos] {
                guard model.info.family == "llama" || hook != .ropeCos else { continue }
                let n = hook == .ropeCos ? model.info.dHead : hook == .pattern(layer: 1) ? ids.count : hook == .normScale(.final) ? 1 : model.info.dModel
                let p = Patch(hook, .add(Tensor(shape: [n], data: (0..<n).map { 0.1 * Float($0 % 7) + 0.05 })), positions: [1])
                let slow = try model.trace(ids, options: ForwardOptions(patches: [p]))
                let fast = try model.forward(ids, cache: nil, options: ForwardOptions(record: false, patches: [p]))
                #expect(fast.steps.count == 1)
                let (err, bound) = referenceError(fast.logits!.data, slow.logits!.data)
                #expect(err <= bound, "\(model.info.family) \(hook): fast-path logits differ by \(err)")
                #expect(slow.logits! != (try model.trace(ids)).logits!)
            }
        }
    }

    @Test("rotating by RoPE's own cos/sin tables equals RoPE's rotation, in both pairings", arguments: [RoPE.Pairing.halves, .adjacent])
    func ropeTables(pairing: RoPE.Pairing) {
        let rope = RoPE(dimensions: 8, theta: 10000, pairing: pairing)
        let x = (0..<(3 * 2 * 8)).map { Float($0 % 11) - 5 }
        var direct = x, tabled = x
        rope.apply(&direct, rows: 3, heads: 2, start: 4)
        let (c, s) = rope.cosSin(positions: 4..<7)
        rope.apply(&tabled, rows: 3, heads: 2, cos: c, sin: s)
        #expect(direct == tabled)
    }

    @Test("a patch at a hook the model does not have, or one that does not fit, is an error")
    func badPatches() throws {
        let (gpt2, ids) = try HookModels.gpt2()
        #expect(throws: StepwiseError.self) { try gpt2.trace(ids, options: ForwardOptions(patches: [Patch(.rotQ(layer: 0), .zero)])) }
        #expect(throws: StepwiseError.self) { try gpt2.trace(ids, options: ForwardOptions(patches: [Patch(.z(layer: 9), .zero)])) }
        #expect(throws: StepwiseError.self) {
            try gpt2.trace(ids, options: ForwardOptions(patches: [Patch(.residPre(layer: 0), .zero, heads: [0])]))
        }
    }

    @Test("generation with the KV cache honours a position-independent patch on every new token")
    func generationWithPatch() throws {
        for (model, ids) in [try HookModels.gpt2(), try HookModels.llama()] {
            let d = model.info.dModel
            let steer = Patch(.residPre(layer: 1), .add(Tensor(shape: [d], data: (0..<d).map { Float($0 % 5) - 2 })))
            let options = ForwardOptions(record: false, patches: [steer])
            // Cached: the prompt, then three tokens one at a time, each with the patch.
            let cache = model.makeCache()
            var cachedLast: [[Float]] = []
            var fed = ids
            let extra = [7, 11, 13]
            for next in [nil] + extra.map(Optional.some) {
                if let next { fed = [next] }
                let t = try model.forward(fed, cache: cache, options: options)
                cachedLast.append(t.logits!.row(t.logits!.shape[0] - 1).data)
            }
            // Uncached: the whole sequence so far in one pass, with the same patch at every position.
            for k in 0...extra.count {
                let full = try model.forward(ids + extra.prefix(k), cache: nil, options: options).logits!
                let (err, bound) = referenceError(cachedLast[k], full.row(full.shape[0] - 1).data)
                #expect(err <= bound, "\(model.info.family): cached pass \(k) with the patch differs from the full pass by \(err)")
            }
            let plain = try model.forward(ids, cache: nil, options: ForwardOptions(record: false)).logits!
            #expect(plain.row(plain.shape[0] - 1).data != cachedLast[0])
        }
    }
}

// MARK: - Ablation is a patch

@Suite("head ablation through the patch path")
struct AblationPatchTests {
    /// The ablation code as it was before hook points (AttentionMath.ablate), kept here as the reference.
    static func oldAblate(_ z: inout Tensor, layer: Int, interventions: [Intervention]) {
        let (t, heads, dHead) = (z.shape[0], z.shape[1], z.shape[2])
        for h in 0..<heads {
            guard let mode = interventions.ablation(layer: layer, head: h) else { continue }
            var mean = [Float](repeating: 0, count: dHead)
            if mode == .mean {
                for i in 0..<t { for d in 0..<dHead { mean[d] += z.data[(i * heads + h) * dHead + d] } }
                for d in 0..<dHead { mean[d] /= Float(t) }
            }
            for i in 0..<t { for d in 0..<dHead { z.data[(i * heads + h) * dHead + d] = mean[d] } }
        }
    }

    @Test("zero and mean ablation give exactly the old code's hook_z", arguments: [AblationMode.zero, .mean])
    func sameZ(mode: AblationMode) throws {
        for (model, ids) in [try HookModels.gpt2(), try HookModels.llama()] {
            let ablations: [Intervention] = [.ablateHead(layer: 1, head: 2, mode: mode), .ablateHead(layer: 1, head: 0, mode: .mean)]
            let base = try model.trace(ids)
            let t = try model.trace(ids, options: ForwardOptions(interventions: ablations))
            var want = base[HookName.z(layer: 1).name]!.tensor
            Self.oldAblate(&want, layer: 1, interventions: ablations)
            #expect(t[HookName.z(layer: 1).name]!.tensor == want)
            #expect(t[HookName.z(layer: 1).name]!.explanation.hasSuffix("; ablated heads: 0 (mean), 2 (\(mode.rawValue))."))
        }
    }

    /// Reads a little-endian float32 `.npy` (version 1 header).
    static func readNPY(_ url: URL) throws -> [Float] {
        let d = try Data(contentsOf: url)
        let headerLength = Int(d[8]) | Int(d[9]) << 8
        let body = d.subdata(in: (10 + headerLength)..<d.count)
        return body.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    @Test("the built-in model's ablated logits and z equal, bit for bit (with the AVX kernels), those exported before hook points",
          .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
    func builtinBitForBit() throws {
        guard case .model(let model) = try ModelLoader.load(nil) else { Issue.record("no built-in model"); return }
        // Made with the previous build: prompt …, 'ablate 0 1 mean', 'ablate 1 2 zero', 'export logits …', 'export blocks.1.attn.hook_z …'.
        let ids = try model.tokenizer.encodeForModel("Emma Woodhouse, handsome, clever, and rich, with a comfortable home")
        let t = try model.trace(ids, options: ForwardOptions(interventions: [.ablateHead(layer: 0, head: 1, mode: .mean),
                                                                            .ablateHead(layer: 1, head: 2, mode: .zero)]))
        let dir = TestPaths.fixtures.appendingPathComponent("hooks")
        // The files were written with the AVX2/AVX-512 kernels, which agree bit for bit; the portable
        // kernels sum in another order, so there (arm64, or STEPWISE_ISA=portable) they agree to float32 rounding.
        let exact = KernelISA.selected != .portable
        func same(_ a: [Float], _ b: [Float]) -> Bool {
            exact ? a == b : a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }
        }
        #expect(same(t.logits!.data, try Self.readNPY(dir.appendingPathComponent("builtin-ablated-logits.npy"))))
        #expect(same(t[HookName.z(layer: 1).name]!.tensor.data, try Self.readNPY(dir.appendingPathComponent("builtin-ablated-z1.npy"))))
    }
}

// MARK: - Names

@Suite("hook names")
struct HookNameTests {
    @Test("names parse back to the same hook; short forms expand as before")
    func roundTrip() throws {
        for l in [0, 3, 11] {
            for h in HookName.blockHooks(l) {
                #expect(HookName(h.name) == h)
                #expect(h.layer == l)
            }
        }
        for h in HookName.globalHooks { #expect(HookName(h.name) == h) }
        #expect(HookName.pattern(layer: 3).name == "blocks.3.attn.hook_pattern")
        #expect(HookName.normScale(.ln2(layer: 1)).name == "blocks.1.ln2.hook_scale")
        #expect(HookName.normOut(.final).name == "ln_final.hook_out")
        #expect(HookName("blocks.x.attn.hook_q") == nil && HookName("blocks.0.attn.hook_nothing") == nil && HookName("attribution") == nil)
        guard case .perLayer(let f)? = HookName.shortForms["scale"] else { Issue.record("scale is per layer"); return }
        #expect(f(2) == .normScale(.ln1(layer: 2)))
    }
}
