import Foundation
import Testing
@testable import StepwiseKit

/// ``NumberTokenizer`` with an end-of-text id, to test stopping at EOS.
private struct NumberTokenizerWithEOS: Tokenizer {
    var base: NumberTokenizer
    var eos: Int
    var vocabularySize: Int { base.vocabularySize }
    var specialTokens: SpecialTokens { SpecialTokens(eos: eos) }
    func encode(_ text: String) throws -> [Int] { try base.encode(text) }
    func explain(_ text: String) throws -> TokenizationExplanation { try base.explain(text) }
    func decode(_ ids: [Int]) -> String { base.decode(ids) }
    func piece(for id: Int) -> String? { base.piece(for: id) }
    func id(for piece: String) -> Int? { base.id(for: piece) }
}

private func lastRow(_ trace: Trace) -> [Float] {
    let l = trace.logits!
    return l.row(l.shape[0] - 1).data
}

@Suite("Generator")
struct GeneratorTests {
    @Test("greedy generation with the KV cache equals transformers' greedy continuation",
          arguments: GPT2Reference.names)
    func greedyMatchesTransformers(name: String) throws {
        let ref = try GPT2Reference(GPT2Reference.folder(name))
        let model = try ref.model()
        let generator = Generator(model: model, settings: .greedy)
        for c in ref.cases {
            var streamed: [GeneratedToken] = []
            let r = try generator.generate(prompt: c.ids, maxTokens: 20) { streamed.append($0) }
            #expect(r.generated == c.greedy, "\(name) from \(c.ids)")
            #expect(streamed.map(\.id) == r.generated && streamed.map(\.index) == Array(r.generated.indices))
            #expect(streamed.map(\.text) == r.generated.map { " t\($0)" })
            #expect(streamed.allSatisfy { $0.probability == 1 && $0.modelProbability > 0 && $0.modelProbability <= 1 })
            // transformers stops when prompt + generated reach the context (relu-inner: 32 positions).
            let full = c.ids.count + c.greedy.count == model.info.contextLength
            #expect(r.stopReason == (full ? GenerationResult.StopReason.contextFull : .count))
            #expect(r.finalSampling.tokenID == r.generated.last)
            #expect(r.finalSampling.steps.count == 7)
        }
    }

    @Test("the cached logits of every generated token equal a full recompute", arguments: GPT2Reference.names)
    func cachedLogitsEqualRecompute(name: String) throws {
        let ref = try GPT2Reference(GPT2Reference.folder(name))
        let model = try ref.model()
        let settings = try SamplingSettings(temperature: 1.2, topK: 50, topP: 0.95, seed: 11)
        let prompt = ref.cases[1].ids
        let r = try Generator(model: model, settings: settings, recordEachToken: true).generate(prompt: prompt, maxTokens: 12) { _ in }
        #expect(r.generated.count == 12 && r.traces.count == 12)
        for i in r.generated.indices {
            let full = try model.trace(prompt + r.generated[..<i])
            let (err, bound) = referenceError(lastRow(r.traces[i]), lastRow(full))
            #expect(err <= bound, "\(name) token \(i): max abs error \(err)")
            // A recorded per-token pass reads one token and sees every earlier position.
            if i > 0 {
                #expect(r.traces[i].tokenIDs == [r.generated[i - 1]])
                #expect(r.traces[i]["blocks.0.attn.hook_pattern"]?.tensor.shape.last == prompt.count + i)
            }
        }
        #expect(r.finalTrace?.tokenIDs == r.traces.last?.tokenIDs)
        #expect(r.finalSampling.tokenID == r.generated.last)
        #expect(r.finalSampling.step("sample.logits")!.tensor.data == lastRow(r.traces.last!))
    }

    @Test("the last token's pass is recorded in full, and only that one without the flag")
    func finalTrace() throws {
        let ref = try GPT2Reference(GPT2Reference.folder("tied-4h"))
        let model = try ref.model()
        let c = ref.cases[1]
        let r = try Generator(model: model, settings: .greedy).generate(prompt: c.ids, maxTokens: 5) { _ in }
        #expect(r.traces.isEmpty)
        let trace = try #require(r.finalTrace)
        #expect(trace.tokenIDs == [c.greedy[3]])
        let full = try model.trace(c.ids + c.greedy[..<4])
        #expect(Set(trace.names) == Set(full.names))
        let (err, bound) = referenceError(lastRow(trace), lastRow(full))
        #expect(err <= bound)
        #expect(r.finalSampling.step("sample.logits")!.tensor.data == lastRow(trace))
        #expect(r.finalSampling.step("sample.logits")!.axes[0].labels?[7] == "' t7'")
        // One token: the prompt's own pass is the recorded one.
        let one = try Generator(model: model, settings: .greedy).generate(prompt: c.ids, maxTokens: 1) { _ in }
        #expect(one.generated == [c.greedy[0]] && one.finalTrace?.tokenIDs == c.ids)
        #expect(one.finalTrace?["blocks.1.attn.hook_pattern"] != nil)
    }

    @Test("generation stops at the tokenizer's EOS, and that token's pass is re-run recorded")
    func stopsAtEOS() throws {
        let ref = try GPT2Reference(GPT2Reference.folder("tied-4h"))
        let config = try GPT2Config.load(ref.folder.appendingPathComponent("config.json").path)
        let tokenizer = NumberTokenizerWithEOS(base: NumberTokenizer(vocabularySize: config.vocabSize), eos: 183)
        let model = try GPT2Model.load(folder: ref.folder.path, tokenizer: tokenizer)
        let c = ref.cases[0]  // greedy: 92, 183, ...
        let r = try Generator(model: model, settings: .greedy).generate(prompt: c.ids, maxTokens: 20) { _ in }
        #expect(r.generated == [92, 183] && r.stopReason == .endOfText)
        let trace = try #require(r.finalTrace)
        #expect(trace.tokenIDs == [92] && trace["blocks.0.attn.hook_pattern"] != nil)
        let full = try model.trace(c.ids + [92])
        let (err, bound) = referenceError(lastRow(trace), lastRow(full))
        #expect(err <= bound)
        // EOS as the very first token: the prompt pass is re-run recorded.
        let first = try Generator(model: model, settings: .greedy).generate(prompt: [88, 161, 58], maxTokens: 20) { _ in }
        let eosFirst = try GPT2Model.load(folder: ref.folder.path,
                                          tokenizer: NumberTokenizerWithEOS(base: NumberTokenizer(vocabularySize: config.vocabSize), eos: first.generated[0]))
        let r2 = try Generator(model: eosFirst, settings: .greedy).generate(prompt: [88, 161, 58], maxTokens: 20) { _ in }
        #expect(r2.generated == [first.generated[0]] && r2.stopReason == .endOfText)
        #expect(r2.finalTrace?.tokenIDs == [88, 161, 58] && r2.finalTrace?["hook_embed"] != nil)
    }

    @Test("shouldStop is checked between tokens")
    func cancellation() throws {
        let ref = try GPT2Reference(GPT2Reference.folder("untied-3h"))
        let model = try ref.model()
        var seen = 0
        let r = try Generator(model: model, settings: .greedy)
            .generate(prompt: ref.cases[0].ids, maxTokens: 20, shouldStop: { seen >= 3 }) { _ in seen += 1 }
        #expect(r.generated == Array(ref.cases[0].greedy.prefix(3)) && r.stopReason == .interrupted)
        #expect(r.finalTrace?.tokenIDs == [r.generated[1]])
    }

    @Test("a seed gives the same tokens every time; another seed gives others")
    func seeded() throws {
        let ref = try GPT2Reference(GPT2Reference.folder("gelu-exact"))
        let model = try ref.model()
        let s = try SamplingSettings(temperature: 1, seed: 2024)
        let a = try Generator(model: model, settings: s).generate(prompt: ref.cases[1].ids, maxTokens: 15) { _ in }
        let b = try Generator(model: model, settings: s).generate(prompt: ref.cases[1].ids, maxTokens: 15) { _ in }
        #expect(a.generated == b.generated)
        var other = s
        other.seed = 2025
        let c = try Generator(model: model, settings: other).generate(prompt: ref.cases[1].ids, maxTokens: 15) { _ in }
        #expect(c.generated != a.generated)
        // The generator's choices are the sampler's, with one draw per token from one SplitMix64 stream.
        var rng = SplitMix64(seed: 2024)
        let cache = model.makeCache()
        var logits = try model.forward(ref.cases[1].ids, cache: cache, options: ForwardOptions(record: false)).logits!
        var replay: [Int] = []
        for _ in 0..<15 {
            let id = Sampler.pick(logits: logits.row(logits.shape[0] - 1).data, settings: s, rng: &rng).tokenID
            replay.append(id)
            logits = try model.forward([id], cache: cache, options: ForwardOptions(record: false)).logits!
        }
        #expect(replay == a.generated)
        #expect(a.finalSampling.u != nil && a.finalSampling.tokenID == a.generated.last)
    }

    @Test("bad requests are clear errors")
    func errors() throws {
        let ref = try GPT2Reference(GPT2Reference.folder("relu-inner"))
        let model = try ref.model()
        let g = Generator(model: model, settings: .greedy)
        #expect(throws: StepwiseError.self) { try g.generate(prompt: [1], maxTokens: 0) { _ in } }
        #expect(throws: StepwiseError.self) { try g.generate(prompt: [], maxTokens: 3) { _ in } }
        #expect(throws: StepwiseError.self) { try g.generate(prompt: Array(repeating: 1, count: 32), maxTokens: 3) { _ in } }
        // One free position: exactly one token, then the context is full.
        let r = try g.generate(prompt: Array(repeating: 1, count: 31), maxTokens: 3) { _ in }
        #expect(r.generated.count == 1 && r.stopReason == .contextFull && r.finalTrace != nil)
    }
}
