import Foundation
import Testing
@testable import StepwiseKit

/// A tokenizer for models whose vocabulary is just numbers: id `n` reads as `t<n>`.
/// Used with the random-weight checkpoints, which have no real vocabulary.
struct NumberTokenizer: Tokenizer {
    var vocabularySize: Int
    var specialTokens: SpecialTokens { SpecialTokens() }
    func encode(_ text: String) throws -> [Int] {
        try text.split(separator: " ").map {
            guard $0.hasPrefix("t"), let n = Int($0.dropFirst()), n >= 0, n < vocabularySize else {
                throw StepwiseError.usage("'\($0)' is not a token of this vocabulary")
            }
            return n
        }
    }
    func explain(_ text: String) throws -> TokenizationExplanation {
        let ids = try encode(text)
        return TokenizationExplanation(pretokens: ids.map {
            PretokenExplanation(text: "t\($0)", initial: ["t\($0)"], rules: [], pieces: ["t\($0)"], ids: [$0])
        })
    }
    func decode(_ ids: [Int]) -> String { ids.map { " t\($0)" }.joined() }
    func piece(for id: Int) -> String? { id >= 0 && id < vocabularySize ? "t\(id)" : nil }
    func id(for piece: String) -> Int? { piece.hasPrefix("t") ? Int(piece.dropFirst()) : nil }
}

/// One model folder with transformers' values for every traced step.
struct GPT2Reference {
    struct Case {
        var ids: [Int]
        var steps: [String: Tensor]
        var greedy: [Int]
    }
    var folder: URL
    var cases: [Case]

    init(_ folder: URL) throws {
        self.folder = folder
        let json = try loadJSON(folder.appendingPathComponent("reference.json")) as! [String: Any]
        cases = (json["cases"] as! [[String: Any]]).map { c in
            var steps: [String: Tensor] = [:]
            for (name, v) in c["steps"] as! [String: [String: Any]] {
                let shape = v["shape"] as! [Int]
                let data = (v["data"] as! [Any]).map { x -> Float in
                    if let n = x as? NSNumber { return n.floatValue }
                    return -.infinity  // null: a masked score
                }
                steps[name] = Tensor(shape: shape, data: data)
            }
            return Case(ids: c["ids"] as! [Int], steps: steps, greedy: c["greedy"] as! [Int])
        }
    }

    static let names = ["tied-4h", "untied-3h", "relu-inner", "gelu-exact"]
    static func folder(_ name: String) -> URL { TestPaths.fixtures.appendingPathComponent("gpt2/\(name)") }

    func model() throws -> GPT2Model {
        let config = try GPT2Config.load(folder.appendingPathComponent("config.json").path)
        return try GPT2Model.load(folder: folder.path, tokenizer: NumberTokenizer(vocabularySize: config.vocabSize))
    }
}

/// Compares every step of `trace` that the reference has; returns the steps checked.
@discardableResult
func expectTraceMatches(_ trace: Trace, _ reference: [String: Tensor], context: String) -> Int {
    var checked = 0
    for (name, want) in reference {
        guard let step = trace[name] else {
            Issue.record("\(context): the trace has no step '\(name)'")
            continue
        }
        #expect(step.tensor.shape == want.shape, "\(context) \(name): shape \(step.tensor.shape) vs \(want.shape)")
        guard step.tensor.shape == want.shape else { continue }
        // -inf must match -inf exactly (the mask); compare the finite entries with the tolerance.
        let maskOK = zip(step.tensor.data, want.data).allSatisfy { ($0 == -.infinity) == ($1 == -.infinity) }
        #expect(maskOK, "\(context) \(name): masked entries differ")
        let pairs = zip(step.tensor.data, want.data).filter { $0.1.isFinite }
        let (err, bound) = referenceError(pairs.map(\.0), pairs.map(\.1), absolute: name.hasSuffix("hook_pattern"))
        #expect(err <= bound, "\(context) \(name): max abs error \(err) > \(bound)")
        checked += 1
    }
    return checked
}

@Suite("GPT-2 against transformers")
struct GPT2ReferenceTests {
    @Test("every traced step matches transformers", arguments: GPT2Reference.names)
    func everyStep(name: String) throws {
        let ref = try GPT2Reference(GPT2Reference.folder(name))
        let model = try ref.model()
        for c in ref.cases {
            let trace = try model.trace(c.ids)
            let checked = expectTraceMatches(trace, c.steps, context: "\(name) \(c.ids.count) tokens")
            #expect(checked == c.steps.count)
            // The reference covers every step the engine records.
            #expect(Set(trace.names) == Set(c.steps.keys), "\(name): steps differ: \(Set(trace.names).symmetricDifference(c.steps.keys).sorted())")
        }
    }

    @Test("the KV cache gives the same logits as a full recompute", arguments: GPT2Reference.names)
    func cacheMatchesRecompute(name: String) throws {
        let ref = try GPT2Reference(GPT2Reference.folder(name))
        let model = try ref.model()
        let ids = ref.cases.last!.ids
        let full = try model.trace(ids).logits!
        let cache = model.makeCache()
        var rows: [Tensor] = []
        // A prefix of 3, then one token at a time, recorded and unrecorded.
        rows.append(try model.forward(Array(ids[0..<3]), cache: cache, options: ForwardOptions(record: false)).logits!)
        for (i, id) in ids[3...].enumerated() {
            rows.append(try model.forward([id], cache: cache, options: ForwardOptions(record: i % 2 == 0)).logits!)
        }
        let stitched = Tensor.concatenateRows(rows)
        let (err, bound) = referenceError(stitched.data, full.data)
        #expect(err <= bound, "max abs error \(err)")
        #expect(cache.length == ids.count)
    }

    @Test("greedy decoding matches transformers' generate", arguments: GPT2Reference.names)
    func greedy(name: String) throws {
        let ref = try GPT2Reference(GPT2Reference.folder(name))
        let model = try ref.model()
        for c in ref.cases {
            let cache = model.makeCache()
            var logits = try model.forward(c.ids, cache: cache, options: ForwardOptions(record: false)).logits!
            var got: [Int] = []
            for _ in 0..<c.greedy.count {
                let last = logits.row(logits.shape[0] - 1).data
                let next = last.indices.max { last[$0] < last[$1] }!
                got.append(next)
                if got.count == c.greedy.count { break }
                logits = try model.forward([next], cache: cache, options: ForwardOptions(record: false)).logits!
            }
            #expect(got == c.greedy, "\(name) from \(c.ids)")
        }
    }

    @Test("zero-ablating a head zeroes its z and changes the output")
    func ablation() throws {
        let ref = try GPT2Reference(GPT2Reference.folder("tied-4h"))
        let model = try ref.model()
        let ids = ref.cases[1].ids
        let base = try model.trace(ids)
        let abl = try model.trace(ids, options: ForwardOptions(interventions: [.ablateHead(layer: 0, head: 2, mode: .zero)]))
        let z = abl["blocks.0.attn.hook_z"]!.tensor
        #expect(z.sliced([.all, .index(2), .all]).data.allSatisfy { $0 == 0 })
        #expect(z.sliced([.all, .index(1), .all]).data == base["blocks.0.attn.hook_z"]!.tensor.sliced([.all, .index(1), .all]).data)
        #expect(abl.logits! != base.logits!)
        let mean = try model.trace(ids, options: ForwardOptions(interventions: [.ablateHead(layer: 1, head: 0, mode: .mean)]))
        let zm = mean["blocks.1.attn.hook_z"]!.tensor.sliced([.all, .index(0), .all])
        #expect(zm.row(0) == zm.row(ids.count - 1))
    }

    @Test("bad inputs are clear errors")
    func badInputs() throws {
        let model = try GPT2Reference(GPT2Reference.folder("relu-inner")).model()
        #expect(throws: StepwiseError.self) { try model.trace([]) }
        #expect(throws: StepwiseError.self) { try model.trace([200]) }
        #expect(throws: StepwiseError.self) { try model.trace(Array(repeating: 1, count: 33)) }
    }
}
