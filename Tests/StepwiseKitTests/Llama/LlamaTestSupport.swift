import Foundation
import Testing
@testable import StepwiseKit

/// A tokenizer that only labels ids (`<17>`), for running models on ids taken from reference files.
struct LlamaIDTokenizer: Tokenizer {
    var vocabularySize: Int
    /// Optional texts for some ids (e.g. the decoded pieces of a golden file).
    var texts: [Int: String] = [:]

    func encode(_ text: String) throws -> [Int] {
        throw StepwiseError.usage("LlamaIDTokenizer cannot encode text")
    }
    func explain(_ text: String) throws -> TokenizationExplanation {
        throw StepwiseError.usage("LlamaIDTokenizer cannot encode text")
    }
    func decode(_ ids: [Int]) -> String { ids.map { texts[$0] ?? "<\($0)>" }.joined() }
    func piece(for id: Int) -> String? { id >= 0 && id < vocabularySize ? "<\(id)>" : nil }
    func id(for piece: String) -> Int? { nil }
    var specialTokens: SpecialTokens { SpecialTokens() }
}

/// Presents a Hugging Face Llama checkpoint as a GGUF file would: GGUF tensor names, and the q/k rows
/// of every head permuted as llama.cpp's converter does.
struct LlamaGGUFStyleWeights: WeightSource {
    let base: any WeightSource
    let config: LlamaConfig

    var path: String { base.path }

    /// GGUF name → Hugging Face name.
    var mapping: [String: String] {
        var m = [LlamaWeightLayout.gguf.embeddingName: LlamaWeightLayout.huggingFace.embeddingName,
                 LlamaWeightLayout.gguf.finalNormName: LlamaWeightLayout.huggingFace.finalNormName]
        if base.contains(LlamaWeightLayout.huggingFace.lmHeadName) {
            m[LlamaWeightLayout.gguf.lmHeadName] = LlamaWeightLayout.huggingFace.lmHeadName
        }
        for l in 0..<config.numHiddenLayers {
            for part in LlamaWeightLayout.BlockWeight.allCases where base.contains(LlamaWeightLayout.huggingFace.name(part, layer: l)) {
                m[LlamaWeightLayout.gguf.name(part, layer: l)] = LlamaWeightLayout.huggingFace.name(part, layer: l)
            }
        }
        return m
    }

    var tensorNames: [String] { Array(mapping.keys).sorted() }

    func tensorInfo(_ name: String) -> WeightInfo? {
        mapping[name].flatMap { base.tensorInfo($0) }
    }

    func tensor(_ name: String) throws -> Tensor {
        guard let hf = mapping[name] else { throw StepwiseError.file(path, "has no tensor '\(name)'") }
        let t = try base.tensor(hf)
        // llama.cpp's converter permutes the rows of q and k and of their biases alike.
        let heads = name.contains("attn_q.") ? config.numAttentionHeads : config.numKeyValueHeads
        if name.hasSuffix("attn_q.weight") || name.hasSuffix("attn_k.weight") {
            return LlamaWeightLayout.permuteForGGUF(t, heads: heads)
        }
        if name.hasSuffix("attn_q.bias") || name.hasSuffix("attn_k.bias") {
            return LlamaWeightLayout.permuteForGGUF(t.reshaped([t.count, 1]), heads: heads).reshaped([t.count])
        }
        return t
    }
}

/// A reference tensor from a JSON entry `{"shape": [...], "data": [...]}` (nested or flat data).
func llamaReferenceTensor(_ entry: Any?) -> Tensor? {
    guard let dict = entry as? [String: Any], let shape = dict["shape"] as? [Int], let data = dict["data"] else { return nil }
    let flat = flattenNumbers(data).data
    return Tensor(shape: shape, data: flat)
}

/// Reorders the last axis (`[..., heads·d]` flattened per head) of a Hugging Face-order q/k reference into
/// the model's layout order.
func llamaInLayoutOrder(_ t: Tensor, headDim d: Int, layout: LlamaWeightLayout) -> Tensor {
    guard layout == .gguf else { return t }
    let order = LlamaWeightLayout.ggufDimensionOrder(headDim: d)
    var out = t.data
    for base in stride(from: 0, to: t.count, by: d) {
        for j in 0..<d { out[base + j] = t.data[base + order[j]] }
    }
    return Tensor(shape: t.shape, data: out)
}

/// Checks a traced step against a reference, reshaping the step to the reference's element count.
@discardableResult
func llamaExpectMatch(_ trace: Trace, _ name: String, _ ref: Tensor?, absolute: Bool = false,
                 rows: Range<Int>? = nil, label: String, sourceLocation: SourceLocation = #_sourceLocation) -> Float {
    guard let ref else {
        Issue.record("reference for \(label) is missing", sourceLocation: sourceLocation)
        return .infinity
    }
    guard let step = trace[name] else {
        Issue.record("trace has no step \(name)", sourceLocation: sourceLocation)
        return .infinity
    }
    var got = step.tensor.data
    if let rows {
        let per = step.tensor.count / step.tensor.dim(0)
        got = Array(got[(rows.lowerBound * per)..<(rows.upperBound * per)])
    }
    guard got.count == ref.count else {
        Issue.record("\(name): \(got.count) values vs reference \(label) \(ref.shape)", sourceLocation: sourceLocation)
        return .infinity
    }
    let (err, bound) = referenceError(got, ref.data, absolute: absolute)
    #expect(err <= bound, "\(name) vs \(label): max abs error \(err) > \(bound)", sourceLocation: sourceLocation)
    return err
}
