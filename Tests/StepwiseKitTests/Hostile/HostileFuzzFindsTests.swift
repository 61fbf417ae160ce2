import Foundation
import Testing
@testable import StepwiseKit

/// Inputs the fuzzers (tools/fuzz) flagged, committed under Fixtures/hostile/fuzz, each replayed here.
@Suite("Fuzzer finds")
struct HostileFuzzFindsTests {
    static let folder = HostileFixtures.folder.appendingPathComponent("fuzz")

    /// tokenizer-json: an empty tokenizer.json. `Data(contentsOf:)` leaked a 4 KB buffer on an empty file
    /// (seen by LeakSanitizer); JSON files are now read through a mapping. Under
    /// `swift test --sanitize=address` a regression shows as a leak report.
    @Test("an empty tokenizer.json is an error naming it")
    func emptyTokenizerJSON() throws {
        let t = try TempFolder()
        try FileManager.default.copyItem(at: Self.folder.appendingPathComponent("tokenizer-json-leak-empty.json"), to: t.file("tokenizer.json"))
        #expect(try t.read("tokenizer.json").isEmpty)
        let e = try #require(expectStepwiseError { _ = try ByteLevelBPE.load(folder: t.path) })
        #expect(e.message.hasPrefix(t.file("tokenizer.json").path + ": is not valid JSON"), "\(e.message)")
    }

    @Test("empty config files read by GPT2Config and BERTConfig are errors naming them")
    func emptyConfigs() throws {
        let t = try TempFolder()
        try t.write("config.json", "")
        for load in [{ _ = try GPT2Config.load($0) }, { _ = try BERTConfig.load($0) }] as [(String) throws -> Void] {
            let e = try #require(expectStepwiseError { try load(t.file("config.json").path) })
            #expect(e.message == t.file("config.json").path + ": is not valid JSON at byte 0 (line 1, column 1): unexpected end of the file")
        }
    }

    /// repl: `show [...]` (a slice with no step name before it) indexed an empty word list and crashed.
    @Test("the REPL input that crashed 'show' now fails on one line, and the session goes on")
    func showSliceWithoutName() throws {
        let t = try HostileFixtures.gpt2Folder()
        var s = Session()
        try s.load(path: t.path)
        let interp = StandardCommands.interpreter()
        // The fuzzer's session had run this prompt.
        _ = interp.execute("prompt 1 2 3", in: &s, context: CommandContext())
        let text = try String(contentsOf: Self.folder.appendingPathComponent("repl-show-slice-without-name.txt"), encoding: .utf8)
        var failures: [String] = []
        for line in text.split(separator: "\n") {
            if case .failure(let f) = interp.execute(String(line), in: &s, context: CommandContext()) { failures.append(f) }
        }
        #expect(failures.contains("error: name a step before the slice, e.g. 'logits[-1]'"), "\(failures)")
        guard case .failure(let f) = interp.execute("show [0]", in: &s, context: CommandContext()) else {
            Issue.record("'show [0]' should fail"); return
        }
        #expect(f.contains("name a step before the slice"))
    }
}
