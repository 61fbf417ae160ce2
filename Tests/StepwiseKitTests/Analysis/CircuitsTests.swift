import Foundation
import Testing
@testable import StepwiseKit

@Suite("Head weights and circuits")
struct CircuitsTests {
    struct Expected {
        var fixture: String, layer: Int, head: Int
        var norms: [Float], qkTop: [[Double]], ovTop: [[Double]], copying: Double, selfTop: Double
    }

    /// numpy's values (make_circuits.py) for heads of the random GPT-2 fixtures.
    static let expected: [Expected] = {
        let url = TestPaths.fixtures.appendingPathComponent("analysis/circuits.json")
        let json = (try? loadJSON(url)) as? [[String: Any]] ?? []
        return json.map { o in
            Expected(fixture: o["fixture"] as! String, layer: o["layer"] as! Int, head: o["head"] as! Int,
                     norms: (o["norms"] as! [Double]).map(Float.init), qkTop: o["qk_top"] as! [[Double]],
                     ovTop: o["ov_top"] as! [[Double]], copying: o["copying_score"] as! Double,
                     selfTop: o["ov_self_top"] as! Double)
        }
    }()

    @Test("the fixture exists")
    func fixturePresent() { #expect(Self.expected.count == 4) }

    @Test("GPT-2 head slices, QK and OV circuits and the copying score match numpy", arguments: 0..<4)
    func matchesNumpy(index: Int) throws {
        try #require(Self.expected.count == 4)
        let e = Self.expected[index]
        let model = try GPT2Reference(GPT2Reference.folder(e.fixture)).model()
        let w = model.headWeights(layer: e.layer, head: e.head)
        let (dm, dh) = (model.info.dModel, model.info.dHead)
        #expect(w.wQ.shape == [dm, dh] && w.wK.shape == [dm, dh] && w.wV.shape == [dm, dh] && w.wO.shape == [dh, dm])
        let norms = [w.wQ, w.wK, w.wV, w.wO].map(Circuits.frobenius)
        #expect(referenceError(norms, e.norms).error < 1e-5, "norms \(norms) vs \(e.norms)")
        let tokens = Circuits.tokenSubset(vocabularySize: model.info.vocabularySize, specials: model.tokenizer.specialTokens,
                                          count: 1000)
        #expect(tokens == Array(0..<model.info.vocabularySize))
        let qk = Circuits.qkSummary(w, embedding: model.tokenEmbeddings(tokens), tokens: tokens)
        for (got, want) in zip(qk.top, e.qkTop) {
            #expect(got.from == Int(want[0]) && got.to == Int(want[1]) && abs(Double(got.value) - want[2]) < 1e-4 * max(1, abs(want[2])),
                    "QK \(got) vs \(want)")
        }
        let ov = Circuits.ovSummary(w, embedding: model.tokenEmbeddings(tokens), unembedding: model.unembeddingRows(tokens), tokens: tokens)
        for (got, want) in zip(ov.circuit.top, e.ovTop) {
            #expect(got.from == Int(want[0]) && got.to == Int(want[1]) && abs(Double(got.value) - want[2]) < 1e-4 * max(1, abs(want[2])),
                    "OV \(got) vs \(want)")
        }
        #expect(abs(ov.copyingScore - e.copying) < 1e-4, "copying score \(ov.copyingScore) vs numpy \(e.copying)")
        #expect(abs(ov.selfTopFraction - e.selfTop) < 1e-9)
        #expect(ov.eigenvalues.count == model.info.dHead)
    }

    @Test("a head whose OV circuit is the identity on the vocabulary has copying score 1")
    func copyingHead() throws {
        // W_E = W_U = I (vocab = d_model = 4), W_V = first two axes, W_O = their transpose: OV = diag(1, 1, 0, 0).
        let eye = Tensor(shape: [4, 4], data: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
        let wV = Tensor(shape: [4, 2], data: [1, 0, 0, 1, 0, 0, 0, 0])
        let w = HeadWeights(layer: 0, head: 0, kvHead: 0, wQ: wV, wK: wV, wV: wV, wO: wV.transposed(0, 1))
        let ov = Circuits.ovSummary(w, embedding: eye, unembedding: eye, tokens: [0, 1, 2, 3])
        #expect(abs(ov.copyingScore - 1) < 1e-12 && ov.positiveFraction == 1)
        #expect(ov.circuit.top.prefix(2).map { [$0.from, $0.to] } == [[0, 0], [1, 1]])
        let neg = HeadWeights(layer: 0, head: 0, kvHead: 0, wQ: wV, wK: wV, wV: wV, wO: wV.transposed(0, 1) * -1)
        #expect(abs(Circuits.ovSummary(neg, embedding: eye, unembedding: eye, tokens: [0, 1, 2, 3]).copyingScore + 1) < 1e-12)
    }

    @Test("weights L H prints shapes, norms, tables and both circuits; bad heads are one error line")
    func weightsCommand() throws {
        var s = try fixtureSession()
        let out = run("weights 1 2", &s).lines
        #expect(out.first == "Head 1.2 of tied-4h (gpt2): d_model 32, d_head 8", "\(out.prefix(3))")
        #expect(out.contains { $0.hasPrefix("  W_Q [d_model 32, d_head 8]   ‖W_Q‖_F = ") })
        #expect(out.contains { $0.hasPrefix("  W_O [d_head 8, d_model 32]   ‖W_O‖_F = ") })
        #expect(out.contains { $0.contains("copying score Σλ/Σ|λ| = 0.034") }, "\(out.suffix(4))")
        #expect(out.contains { $0.hasPrefix("QK circuit") && $0.contains("all 300 tokens") })
        #expect(run("weights 1.2 o", &s).lines.first?.hasPrefix("W_O of head 1.2  [8, 32]") == true)
        #expect(run("weights 2 0", &s).lines == ["error: layer 2 is out of range (0–1)"])
        #expect(run("weights 0 4", &s).lines == ["error: head 4 is out of range (0–3)"])
        #expect(run("weights 0", &s).lines == ["error: heads come in pairs LAYER HEAD; '0' has no partner"])
    }

    @Test("Llama head weights use the shared key/value head and mention RoPE",
          .enabled(if: TestPaths.model("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") != nil,
                   "needs smollm2/SmolLM2-135M-Instruct.Q4_1.gguf under STEPWISE_MODELS"))
    func llamaWeights() throws {
        let model = try GGUFModels.load(path: TestPaths.model("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")!.path)
        let w = model.headWeights(layer: 0, head: 4)
        #expect(w.kvHead == 4 / (model.info.heads / model.info.kvHeads) && w.rotary)
        #expect(w.wQ.shape == [576, 64] && w.wO.shape == [64, 576])
        var s = Session()
        s.model = model
        s.tokenizer = model.tokenizer
        let out = run("weights 0 4", &s).lines
        #expect(out.contains { $0.contains("grouped-query: W_K and W_V belong to key/value head \(w.kvHead)") })
        #expect(out.contains { $0.contains("RoPE") })
        #expect(out.contains { $0.contains("1000 of 49152 tokens") })
        print(out.suffix(24).joined(separator: "\n"))
    }
}
