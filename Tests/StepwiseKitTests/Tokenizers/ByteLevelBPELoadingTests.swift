import Foundation
import Testing
@testable import StepwiseKit

@Suite("ByteLevelBPE loading")
struct ByteLevelBPELoadingTests {
    static let hasGPT2 = TestPaths.model("gpt2-tokenizer") != nil

    /// A fresh empty folder holding the given files.
    func folder(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("stepwise-bpe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return dir.path
    }

    func json(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// The error `load` throws for a folder, as a StepwiseError.
    func loadError(_ dir: String) throws -> StepwiseError {
        do {
            _ = try ByteLevelBPE.load(folder: dir)
        } catch let e as StepwiseError {
            return e
        }
        Issue.record("loading \(dir) did not fail")
        return StepwiseError(.file, "")
    }

    /// GPT-2's vocabulary and merges read from its original files.
    func gpt2Files() throws -> (vocab: [String: Any], merges: [String]) {
        let dir = try #require(TestPaths.model("gpt2-tokenizer"))
        let vocab = try #require(try loadJSON(dir.appendingPathComponent("encoder.json")) as? [String: Any])
        let lines = try String(contentsOf: dir.appendingPathComponent("vocab.bpe"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map(String.init)
        return (vocab, lines)
    }

    /// GPT-2's files as a tokenizer.json with the Llama 3 or Qwen2 pre-tokenizer (what the generator's
    /// `variant_json` builds for the "gpt2_llama3" / "gpt2_qwen2" reference ids).
    func variantFolder(_ kind: PreTokenizerKind) throws -> String {
        let (vocab, merges) = try gpt2Files()
        var model: [String: Any] = ["type": "BPE", "vocab": vocab]
        var root: [String: Any] = [
            "added_tokens": [["id": 50256, "content": "<|endoftext|>", "special": true]],
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": kind.pattern], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            ]],
        ]
        if kind == .llama3 {
            model["merges"] = merges.map { $0.split(separator: " ").map(String.init) }  // [a, b] pairs
            model["ignore_merges"] = true
        } else {
            model["merges"] = merges  // "a b" strings
            root["normalizer"] = ["type": "NFC"]
        }
        root["model"] = model
        return try folder(["tokenizer.json": try json(root)])
    }

    // MARK: - Formats

    @Test("tokenizer.json with the Llama 3 and Qwen2 pre-tokenizers matches Hugging Face tokenizers",
          .enabled(if: hasGPT2, "needs models/gpt2-tokenizer"), arguments: [PreTokenizerKind.llama3, .qwen2])
    func splitVariants(kind: PreTokenizerKind) throws {
        let tok = try ByteLevelBPE.load(folder: try variantFolder(kind))
        #expect(tok.preTokenizer == kind)
        #expect(tok.ignoresMerges == (kind == .llama3))
        #expect(tok.specialTokenIDs == ["<|endoftext|>": 50256])
        let key = "gpt2_\(kind.rawValue)"
        let root = try #require(try loadJSON(TokenizerCases.casesURL) as? [String: Any])
        let cases = try #require(root["cases"] as? [[String: Any]])
        for c in cases {
            let text = c["text"] as! String
            let want = try #require(c[key] as? [Int])
            #expect(try tok.encode(text) == want, "\(text.debugDescription)")
        }
    }

    @Test("vocab.json + merges.txt gives GPT-2's ids; tokenizer.json is preferred over the others",
          .enabled(if: hasGPT2, "needs models/gpt2-tokenizer"))
    func vocabMergesAndPreference() throws {
        let dir = try #require(TestPaths.model("gpt2-tokenizer"))
        let vocab = try String(contentsOf: dir.appendingPathComponent("encoder.json"), encoding: .utf8)
        let merges = try String(contentsOf: dir.appendingPathComponent("vocab.bpe"), encoding: .utf8)
        let hf = try ByteLevelBPE.load(folder: try folder(["vocab.json": vocab, "merges.txt": merges]))
        let original = try TokenizerCases.gpt2.get()
        for c in try TokenizerCases.cases.get() { #expect(try hf.encode(c.text) == c.gpt2) }
        #expect(hf.specialTokens == original.specialTokens)

        // With tokenizer.json beside them, tokenizer.json wins (here: a one-letter vocabulary).
        let tiny = try json(["model": ["type": "BPE", "vocab": ["a": 0], "merges": [String]()],
                             "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false]])
        let both = try folder(["tokenizer.json": tiny, "vocab.json": vocab, "merges.txt": merges])
        #expect(try ByteLevelBPE.load(folder: both).vocabularySize == 1)
    }

    @Test("ignore_merges takes a whole pre-token from the vocabulary")
    func ignoreMerges() throws {
        let vocab = ["a", "b", "c", "bc", "abc"]
        let merged = try ByteLevelBPE(vocabulary: vocab, merges: [("b", "c")], preTokenizer: .gpt2)
        #expect(try merged.encode("abc") == [0, 3])
        let whole = try ByteLevelBPE(vocabulary: vocab, merges: [("b", "c")], preTokenizer: .gpt2, ignoreMerges: true)
        #expect(try whole.encode("abc") == [4])
        #expect(try whole.explain("abc").pretokens[0].rules.count == 1)
        // llama.cpp ignores merges for its Llama 3 pre-tokenizer: the default follows it.
        #expect(try ByteLevelBPE(vocabulary: vocab, merges: [], preTokenizer: .llama3).ignoresMerges)
    }

    @Test("merges apply lowest rank first, leftmost first among equal ranks")
    func mergeOrder() throws {
        // "aaa": the pair a+a appears twice; the leftmost merges, leaving [aa, a].
        let t = try ByteLevelBPE(vocabulary: ["a", "aa", "b", "ab"], merges: [("a", "a"), ("a", "b")], preTokenizer: .gpt2)
        #expect(try t.encode("aaa") == [1, 0])
        // "aab": a+a (rank 0) beats a+b (rank 1) → [aa, b].
        #expect(try t.encode("aab") == [1, 2])
        #expect(try t.explain("aab").pretokens[0].rules == [TokenizationRule(description: "a + a -> aa", rank: 0, symbols: ["aa", "b"])])
    }

    // MARK: - Errors

    @Test("a folder without tokenizer files lists what was looked for")
    func missingFiles() throws {
        let e = try loadError(try folder([:]))
        #expect(e.message.contains("tokenizer.json"))
        #expect(e.message.contains("vocab.json + merges.txt"))
        #expect(e.message.contains("encoder.json + vocab.bpe"))
        let partial = try loadError(try folder(["vocab.json": "{}"]))
        #expect(partial.message.contains("found only vocab.json"))
        let none = try loadError("/nonexistent/stepwise")
        #expect(none.message.contains("/nonexistent/stepwise: is not a folder"))
    }

    @Test("malformed files name the file and the problem")
    func malformed() throws {
        let bad = try folder(["tokenizer.json": "{\"model\": {"])
        let e1 = try loadError(bad)
        #expect(e1.kind == .file && e1.message.hasPrefix(bad + "/tokenizer.json: is not valid JSON"))

        let oneMerge = try folder(["vocab.json": #"{"a": 0, "b": 1, "ab": 2}"#, "merges.txt": "#version: 0.2\na b\nab\n"])
        #expect(try loadError(oneMerge).message.hasSuffix("merges.txt: line 3 'ab' is not two pieces separated by a space"))

        let outside = try folder(["vocab.json": #"{"a": 0, "b": 1, "ab": 2}"#, "merges.txt": "a b\na x\n"])
        #expect(try loadError(outside).message.hasSuffix("merges.txt: merge 1 'a x': 'x' is not in the vocabulary"))

        let unmerged = try folder(["vocab.json": #"{"a": 0, "b": 1}"#, "merges.txt": "a b\n"])
        #expect(try loadError(unmerged).message.contains("the merged piece 'ab' is not in the vocabulary"))

        let duplicate = try folder(["encoder.json": #"{"a": 0, "b": 0}"#, "vocab.bpe": "#version: 0.2\n"])
        let e2 = try loadError(duplicate)
        #expect(e2.message.contains("encoder.json: id 0 is given to two pieces"))

        let badID = try folder(["vocab.json": #"{"a": -3}"#, "merges.txt": ""])
        #expect(try loadError(badID).message.contains("vocab.json: 'a' has no valid id"))

        let wordPiece = try folder(["tokenizer.json": try json(["model": ["type": "WordPiece", "vocab": ["a": 0]]])])
        let e3 = try loadError(wordPiece)
        #expect(e3.kind == .unsupported && e3.message.contains("model type WordPiece is not byte-level BPE"))

        let badMerge = try folder(["tokenizer.json": try json(["model": ["type": "BPE", "vocab": ["a": 0], "merges": ["a"]]])])
        #expect(try loadError(badMerge).message.contains("tokenizer.json: merge 0 'a' is not two pieces"))

        let regex = try folder(["tokenizer.json": try json([
            "model": ["type": "BPE", "vocab": ["a": 0], "merges": [String]()],
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "\\w+"], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false]]],
        ])])
        let e4 = try loadError(regex)
        #expect(e4.kind == .unsupported && e4.message.contains("Split regex \\w+"))

        let conflict = try folder(["tokenizer.json": try json([
            "model": ["type": "BPE", "vocab": ["a": 0], "merges": [String]()],
            "added_tokens": [["id": 0, "content": "<s>", "special": true]],
        ])])
        #expect(try loadError(conflict).message.contains("added token '<s>' has id 0, which the vocabulary gives to 'a'"))
    }

    @Test("init rejects special ids outside the vocabulary")
    func initErrors() throws {
        #expect(throws: StepwiseError.file("model.gguf", "special token '<s>' has id 5, outside the vocabulary (0..<2)")) {
            try ByteLevelBPE(vocabulary: ["a", "b"], merges: [], preTokenizer: .gpt2, specialTokens: ["<s>": 5],
                             source: "model.gguf")
        }
        // A byte without a vocabulary piece is an error when encoding, not a silent drop.
        let t = try ByteLevelBPE(vocabulary: ["a"], merges: [], preTokenizer: .gpt2)
        #expect(throws: StepwiseError.self) { try t.encode("b") }
    }
}
