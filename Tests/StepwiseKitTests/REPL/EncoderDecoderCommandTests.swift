import Foundation
import Testing
@testable import StepwiseKit

/// The commands on an encoder-decoder model (the random BART fixture): a source and a target in the
/// session, both stacks in one trace, cross-attention in `heads`, `attn` and `show`, `translate` through
/// the KV cache, and the commands that do not apply saying so.
@Suite("commands on an encoder-decoder model")
struct EncoderDecoderCommandTests {
    static let folder = "Tests/StepwiseKitTests/Fixtures/bart/bart-odd"

    func transcript() throws -> Transcript {
        try Transcript(model: TestPaths.repoRoot.appendingPathComponent(Self.folder).path)
    }

    @Test("source encodes and keeps the sentence; prompt is the target after the decoder's start token")
    func sourceAndPrompt() throws {
        var t = try transcript()
        let (out, ok) = t.run("source the red car\nprompt el coche")
        #expect(ok, "\(out)")
        let tok = t.session.tokenizer!
        #expect(t.session.sourceIDs == (try tok.encodeForModel("the red car")))
        #expect(t.session.sourceIDs.first == 0 && t.session.sourceIDs.last == 2, "<s> … </s> around the source")
        #expect(t.session.ids == [2] + (try tok.encode("el coche")))
        let trace = try #require(t.session.trace)
        #expect(trace.sourceIDs == t.session.sourceIDs && trace.tokenIDs == t.session.ids)
        #expect(out.contains("7 source + 4 target tokens → 144 steps"))
        // The same numbers as the model called directly with the source.
        var o = ForwardOptions()
        o.source = t.session.sourceIDs
        let direct = try t.session.model!.forward(t.session.ids, cache: nil, options: o)
        #expect(direct.logits!.data == trace.logits!.data)
        // A prompt without a source is refused, and the session keeps what it had.
        var fresh = try transcript()
        let (err, ok2) = fresh.run("prompt el")
        #expect(!ok2 && err.contains("no source sentence yet") && fresh.session.trace == nil)
    }

    @Test("tokens and export tokens give both sequences")
    func tokens() throws {
        var t = try transcript()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("encdec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (out, ok) = t.run("source the red car\nprompt el\ntokens\nexport tokens \(dir.path)/t.json\nexport tokens \(dir.path)/t.csv")
        #expect(ok, "\(out)")
        #expect(out.contains("source (encoder)") && out.contains("target (decoder)") && out.contains("7 source tokens, 2 target tokens"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("t.json"))) as? [String: Any])
        #expect(json["source_ids"] as? [Int] == t.session.sourceIDs && json["ids"] as? [Int] == t.session.ids)
        let csv = try String(contentsOf: dir.appendingPathComponent("t.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "sequence,position,id,piece" && csv.count == 1 + 7 + 2 && csv[1] == "source,0,0,<s>" && csv[8] == "target,0,2,</s>")
        let (npy, okNPY) = t.run("export tokens \(dir.path)/t.npy")
        #expect(!okNPY && npy.contains(".json or .csv"))
    }

    @Test("steps folds the encoder's and the decoder's layers separately; short forms name a stack")
    func stepsAndShortForms() throws {
        var t = try transcript()
        let (out, ok) = t.run("source the red car\nprompt el\nsteps\nsteps decoder 1\nshow cross pattern 0 head 1\nshow encoder resid_post 1")
        #expect(ok, "\(out)")
        #expect(out.contains("encoder.1.…  (19 steps; 'steps encoder 1' expands)"))
        #expect(out.contains("decoder.2.…  (31 steps; 'steps decoder 2' expands)"))
        #expect(out.contains("decoder.1.cross_attn.hook_pattern") && out.contains("decoder.1.hook_resid_mid_cross"))
        #expect(out.contains("── decoder.0.cross_attn.hook_pattern") && out.contains("key_pos:  0 '<s>'  1 'the'"))
        #expect(out.contains("── encoder.1.hook_resid_post"))
        let (amb, okAmb) = t.run("show pattern 0")
        #expect(!okAmb && amb.contains("'encoder pattern 0', 'decoder pattern 0' or 'cross pattern 0'"))
        #expect(t.session.trace != nil)
    }

    @Test("heads and attn on cross-attention: target rows, source columns")
    func crossViews() throws {
        var t = try transcript()
        let (out, ok) = t.run("source the red car\nprompt el coche\nheads cross 0\nattn cross 1 2\nattn encoder 0 1 6\nheads encoder 1")
        #expect(ok, "\(out)")
        #expect(out.contains("Cross-attention patterns, decoder layer 0: rows = target position, columns ="))
        #expect(out.contains("columns (key_pos, the source): 0 '<s>' 1 'the' 2 ' re'"))
        #expect(out.contains("Cross-attention head (target queries, source keys) 1.2"))
        #expect(out.contains("over the source"))
        #expect(out.contains("── encoder.0.attn.hook_pattern") || out.contains("encoder.0.attn.hook_pattern"))
        #expect(out.contains("Attention patterns, encoder layer 1"))
        let (bad, okBad) = t.run("attn encoder 2 0")
        #expect(!okBad && bad.contains("layer"), "the encoder has 2 layers")
    }

    @Test("pictures of cross-attention: target rows, source columns, no mask, both sentences in the subtitle")
    func pictures() throws {
        var t = try transcript()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("encdec-pic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (out, ok) = t.run("source the red car\nprompt el coche\nexport cross pattern 1 head 2 \(dir.path)/c.svg\nexport heads cross 0 \(dir.path)/h.svg\nexport heads encoder 1 \(dir.path)/e.png")
        #expect(ok, "\(out)")
        let svg = try ParsedSVG(try String(contentsOf: dir.appendingPathComponent("c.svg"), encoding: .utf8))
        let (T, S) = (t.session.ids.count, t.session.sourceIDs.count)
        #expect(svg.cells("cell").count == T * S && svg.cells("masked").isEmpty, "every target position sees every source token")
        let sourceLabels = t.session.sourceIDs.map { t.session.tokenizer!.label(for: $0) }
        for (i, l) in sourceLabels.enumerated() { #expect(svg.texts.contains("\(i) \(l)"), "source label \(i) \(l)") }
        #expect(svg.texts.contains { $0.contains("source: \"the red car\"") && $0.contains("target: \"el coche\"") })
        // Each cell's title holds its exact value, read back from the trace.
        let p = try #require(t.session.trace?["decoder.1.cross_attn.hook_pattern"]).tensor
        let cell = try #require(svg.cells("cell").first { $0.row == 3 && $0.col == 2 })
        #expect(cell.title.hasSuffix("key_pos 2 ' re': \(p.data[(2 * T + 3) * S + 2])"), "\(cell.title)")
        let heads = try ParsedSVG(try String(contentsOf: dir.appendingPathComponent("h.svg"), encoding: .utf8))
        #expect(heads.texts.contains("Cross-attention patterns, decoder layer 0") && heads.cells("cell").count == 3 * T * S)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("e.png").path))
    }

    @Test("translate: greedy through the KV cache, each token with the source token it attends to most")
    func translate() throws {
        var t = try transcript()
        let (out, ok) = t.run("translate the red car")
        #expect(ok, "\(out)")
        let model = t.session.model!
        // The same tokens as the model's own greedy loop over full recomputes.
        var o = ForwardOptions()
        o.source = try model.tokenizer.encodeForModel("the red car")
        var ids = [2]
        for _ in 0..<t.session.ids.count {
            let logits = try model.forward(ids, cache: nil, options: o).logits!
            let row = logits.row(ids.count - 1).data
            ids.append(row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }!)
        }
        #expect(t.session.ids == Array(ids.dropLast()), "the trace reads the translation back, less its last token")
        #expect(out.contains("  1  ") && out.contains("← ") && out.contains("source: 'the red car'") && out.contains("greedy"))
        // The trace's last row predicts the last token; each printed source token is its row's strongest.
        let last = try #require(t.session.trace)
        #expect(Predictions.top(last, tokenizer: model.tokenizer, k: 1).first?.id == ids.last)
        let (k, _) = try #require(TranslationCommands.strongestSource(last, row: 0, layers: model.info.layers))
        #expect(out.contains("  1  \(model.tokenizer.label(for: ids[1]))") && out.contains("← \(last.sourceLabels[k])"))
        // The cached passes chose the same tokens as this full pass would.
        let rows = last.logits!
        for i in 0..<rows.dim(0) {
            let r = rows.row(i).data
            #expect(r.indices.max { r[$0] < r[$1] || (r[$0] == r[$1] && $0 > $1) } == ids[i + 1])
        }
    }

    @Test("streamed token texts add up to the decoded text, spaces included, with a Metaspace (T5) tokenizer")
    func streamedText() throws {
        let folder = TestPaths.fixtures.appendingPathComponent("t5/flan-gated-untied").path
        guard case .model(let model) = try ModelLoader.load(folder) else { Issue.record("no model"); return }
        var o = ForwardOptions(record: false)
        o.source = try model.tokenizer.encodeForModel("the red car")
        let generator = Generator(model: model, settings: .greedy, options: o)
        var texts: [String] = []
        let result = try generator.generate(prompt: [model.info.decoderStartID!], maxTokens: 12) { texts.append($0.text) }
        let whole = model.tokenizer.decode(result.generated)
        #expect(texts.joined() == whole, "\(texts) vs \(whole.debugDescription)")
        #expect(whole.contains(" ") || result.generated.count < 2, "more than one word, so a lost space would show")
    }

    @Test("commands that do not apply to two stacks say so, and nothing changes")
    func refusals() throws {
        var t = try transcript()
        _ = t.run("source the red car")
        let before = t.session.trace?.logits?.data
        for cmd in ["detect", "lens", "ablate 0 1", "weights 0 1", "attribute \" a\" \" b\"", "patch resid_pre \"a\" \"b\" \" a\" \" b\"",
                    "steer resid_pre 0 \"a\" \"b\" 1", "compare prompts \"a\" \"b\""] {
            let (out, ok) = t.run(cmd)
            #expect(!ok && out.contains("does not apply to an encoder-decoder model"), "\(cmd): \(out)")
        }
        #expect(t.session.trace?.logits?.data == before)
        var gpt = try Transcript()
        let (out, ok) = gpt.run("source the cat")
        #expect(!ok && out.contains("is for encoder-decoder models"))
    }
}
