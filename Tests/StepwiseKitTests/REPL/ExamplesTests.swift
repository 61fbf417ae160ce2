import Foundation
import Testing
@testable import StepwiseKit

private let allExamples: [String] = {
    let dir = TestPaths.repoRoot.appendingPathComponent("examples")
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
        .filter { $0.hasSuffix(".stepwise") }.sorted()
}()

/// The model a script names in a `# model: PATH` line (relative to the test models), if any.
private func exampleModel(_ name: String) -> String? {
    let text = (try? String(contentsOf: TestPaths.repoRoot.appendingPathComponent("examples/\(name)"), encoding: .utf8)) ?? ""
    return text.split(separator: "\n").first { $0.hasPrefix("# model: ") }.map { String($0.dropFirst("# model: ".count)) }
}

/// Scripts for the built-in model.
private let examples = allExamples.filter { exampleModel($0) == nil }
/// Scripts for a real model, with the model found under STEPWISE_MODELS.
private let modelExamples = allExamples.filter { exampleModel($0) != nil }

/// Every script in examples/ runs without an error on the built-in model, and prints what its snapshot says.
@Suite("examples/ scripts", .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
struct ExamplesTests {
    @Test("runs cleanly and matches its snapshot", arguments: examples)
    func example(name: String) throws {
        let script = try String(contentsOf: TestPaths.repoRoot.appendingPathComponent("examples/\(name)"), encoding: .utf8)
        var t = try Transcript()
        let (text, ok) = t.run(script, stopAtFailure: true)
        #expect(ok, "\(name) failed:\n\(text.split(separator: "\n").suffix(3).joined(separator: "\n"))")
        expectSnapshot(text, TestPaths.fixtures.appendingPathComponent("snapshots/examples/\(name).txt"))
    }

    @Test("there are examples to run")
    func present() {
        #expect(examples.count >= 5)
        #expect(modelExamples.contains("gemma3.stepwise"))
    }

    @Test("a script for a real model runs cleanly on it and matches its snapshot", arguments: modelExamples)
    func modelExample(name: String) throws {
        guard let model = exampleModel(name).flatMap(TestPaths.model) else {
            print("skipped \(name): its model \(exampleModel(name) ?? "?") is not under \(TestPaths.models.path)")
            return
        }
        let script = try String(contentsOf: TestPaths.repoRoot.appendingPathComponent("examples/\(name)"), encoding: .utf8)
        var t = try Transcript(model: model.path)
        let (text, ok) = t.run(script, stopAtFailure: true)
        #expect(ok, "\(name) failed:\n\(text.split(separator: "\n").suffix(3).joined(separator: "\n"))")
        expectSnapshot(text, TestPaths.fixtures.appendingPathComponent("snapshots/examples/\(name).txt"))
    }
}

/// REPL transcripts of the command set, kept as snapshots: what a class sees, character for character.
@Suite("REPL transcripts", .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
struct TranscriptTests {
    static let scripts: [(String, String)] = [
        ("help", "help\nhelp show\nhelp nosuch\nhlep"),
        ("errors", """
            tokens
            step
            prompt
            prompt The cat
            show nosuch
            show pattern 9
            show pattern 0 head 99
            show blocks.0.attn.hook_q[:, 99]
            attn 0
            attn 7 0
            set precision 42
            set colour maybe
            export logits nofolder/x.json
            export logits out.txt
            load /nonexistent
            where
            """),
        ("navigation", "prompt A B C\nwhere\nnext 3\nback\ngoto logits\nnext\nsteps 0\ngoto 1\ngoto 48\ngoto 49\nstpe"),
        ("ascii", "set unicode off\nprompt The cat sat on the\nshow pattern 0 head 0\ntop 3\nset view heatmap\nshow pattern 1 head 1"),
        ("explain", "prompt \"Tabs\\tand\\nnewlines\"\ntokens\nexplain unbelievable\nexplain \" the\""),
        ("info", "info\nset"),
    ]

    @Test("snapshot", arguments: scripts.map(\.0))
    func transcript(name: String) throws {
        let script = Self.scripts.first { $0.0 == name }!.1
        var t = try Transcript()
        let (text, _) = t.run(script)
        expectSnapshot(text, TestPaths.fixtures.appendingPathComponent("snapshots/repl/\(name).txt"))
        for line in text.split(separator: "\n") {
            // Commands echo what was typed and errors are single lines the terminal may wrap; all else fits.
            #expect(TextWidth.of(String(line)) <= 80 || line.hasPrefix("> ") || line.hasPrefix("error: "),
                    "\(name): line wider than 80: \(line)")
        }
    }

    @Test("a failing command leaves the session exactly as it was")
    func stateKept() throws {
        var t = try Transcript()
        _ = t.run("prompt The cat sat\nnext 4")
        let before = (t.session.ids, t.session.cursor, t.session.trace?.steps.count, t.session.settings)
        for bad in ["show nosuch", "next 0", "goto blocks.99.hook_resid_pre", "set width 5", "prompt", "load /nope",
                    "export logits /nonexistent-folder/x.json", "attn 0 99", "generate 0", "compare temperature -1 2"] {
            let (_, ok) = t.run(bad)
            #expect(!ok, "'\(bad)' should fail")
            #expect(t.session.ids == before.0 && t.session.cursor == before.1, "'\(bad)' changed the prompt or cursor")
            #expect(t.session.trace?.steps.count == before.2 && t.session.settings == before.3, "'\(bad)' changed state")
        }
    }
}
