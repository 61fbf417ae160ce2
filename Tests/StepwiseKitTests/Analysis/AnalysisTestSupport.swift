import Foundation
import Testing
@testable import StepwiseKit

/// Weights held in memory, by name, for hand-set models.
struct MemoryWeights: WeightSource {
    var path = "<memory>"
    var tensors: [String: Tensor] = [:]
    var tensorNames: [String] { tensors.keys.sorted() }
    func tensorInfo(_ name: String) -> WeightInfo? {
        tensors[name].map { WeightInfo(shape: $0.shape, dtype: "F32", byteCount: $0.count * 4) }
    }
    func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else { throw StepwiseError.file(path, "has no tensor '\(name)'") }
        return t
    }
}

/// A GPT-2 whose heads do known things.
///
/// Token embeddings are zero and position `p`'s embedding is `s·(e_p − 1/d)`: every position has mean 0
/// and the same variance, so ln1 maps it to `c·(e_p − 1/d)` with the same `c` everywhere. Head
/// `prevLayer.prevHead` has `W_K[i, i] = 1` (the key says "I am position i") and `W_Q[i, i−1] = gain`
/// (the query asks for position p−1), so its score for key p−1 exceeds every other key's by
/// `c²·gain/√d_head` ≈ 33 with the defaults: it attends to the previous token. Every other weight is
/// zero, so the other heads attend uniformly.
enum HandSetGPT2 {
    static let layers = 2, heads = 2, dModel = 32, positions = 16, vocab = 20
    static let prevLayer = 1, prevHead = 0

    static func make(gain: Float = 4) throws -> GPT2Model {
        let d = dModel, dh = dModel / heads
        let json = """
            {"vocab_size": \(vocab), "n_positions": \(positions), "n_embd": \(d), "n_layer": \(layers), "n_head": \(heads),
             "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "tie_word_embeddings": true}
            """
        let config = try JSONDecoder().decode(GPT2Config.self, from: Data(json.utf8))
        var w = MemoryWeights()
        w.tensors["wte.weight"] = .zeros([vocab, d])
        var wpe = Tensor.filled([positions, d], -1 / Float(d))
        for p in 0..<positions { wpe[p, p] += 1 }
        w.tensors["wpe.weight"] = wpe
        w.tensors["ln_f.weight"] = .filled([d], 1)
        w.tensors["ln_f.bias"] = .zeros([d])
        for l in 0..<layers {
            let b = "h.\(l)."
            w.tensors[b + "ln_1.weight"] = .filled([d], 1)
            w.tensors[b + "ln_1.bias"] = .zeros([d])
            w.tensors[b + "ln_2.weight"] = .filled([d], 1)
            w.tensors[b + "ln_2.bias"] = .zeros([d])
            var cAttn = Tensor.zeros([d, 3 * d])  // Conv1D: [in, out]; out columns are q | k | v
            if l == prevLayer {
                let q0 = prevHead * dh, k0 = d + prevHead * dh
                for i in 0..<dh {
                    cAttn[i, k0 + i] = 1
                    if i >= 1 { cAttn[i, q0 + i - 1] = gain }
                }
            }
            w.tensors[b + "attn.c_attn.weight"] = cAttn
            w.tensors[b + "attn.c_attn.bias"] = .zeros([3 * d])
            w.tensors[b + "attn.c_proj.weight"] = .zeros([d, d])
            w.tensors[b + "attn.c_proj.bias"] = .zeros([d])
            w.tensors[b + "mlp.c_fc.weight"] = .zeros([d, 4 * d])
            w.tensors[b + "mlp.c_fc.bias"] = .zeros([4 * d])
            w.tensors[b + "mlp.c_proj.weight"] = .zeros([4 * d, d])
            w.tensors[b + "mlp.c_proj.bias"] = .zeros([d])
        }
        return try GPT2Model(config: config, weights: w, tokenizer: NumberTokenizer(vocabularySize: vocab),
                             name: "hand-set", source: "<memory>")
    }
}

/// A session holding a random GPT-2 fixture (no tokenizer files: NumberTokenizer, prompts like `t1 t2`).
func fixtureSession(_ name: String = "tied-4h") throws -> Session {
    let model = try GPT2Reference(GPT2Reference.folder(name)).model()
    var s = Session()
    s.model = model
    s.tokenizer = model.tokenizer
    s.source = name
    s.settings.width = 100
    return s
}

/// Runs one command line; returns its lines or the failure line.
@discardableResult
func run(_ line: String, _ session: inout Session, width: Int = 100) -> Interpreter.Outcome {
    StandardCommands.interpreter().execute(line, in: &session, context: CommandContext(width: width))
}

extension Interpreter.Outcome {
    var lines: [String] {
        switch self {
        case .output(let l): return l
        case .failure(let m): return [m]
        case .quit: return []
        }
    }
    var failed: Bool { if case .failure = self { return true }; return false }
}
