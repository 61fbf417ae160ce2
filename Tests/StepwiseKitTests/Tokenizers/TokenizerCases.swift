import Foundation
@testable import StepwiseKit

/// Reference cases made by tools/reference/make_tokenizer_cases.py, and the tokenizers they check.
enum TokenizerCases {
    struct Case: Sendable {
        var text: String
        var gpt2: [Int]
        var smollm2: [Int]
        /// Pre-token strings by ``PreTokenizerKind`` raw value, from the Python `regex` module.
        var pretokens: [String: [String]]
    }

    static let casesURL = TestPaths.fixtures.appendingPathComponent("tokenizers/cases.json")
    static let smolVocabularyURL = TestPaths.fixtures.appendingPathComponent("tokenizers/smollm2-vocab.json")

    static let cases: Result<[Case], any Error> = Result {
        guard let root = try loadJSON(casesURL) as? [String: Any], let list = root["cases"] as? [[String: Any]] else {
            throw StepwiseError.file(casesURL.path, "has no cases array")
        }
        return list.map { c in
            Case(text: c["text"] as! String, gpt2: c["gpt2"] as! [Int], smollm2: c["smollm2"] as! [Int],
                 pretokens: c["pretokens"] as! [String: [String]])
        }
    }

    /// GPT-2 from its original files (encoder.json + vocab.bpe).
    static let gpt2: Result<ByteLevelBPE, any Error> = Result {
        guard let dir = TestPaths.model("gpt2-tokenizer") else {
            throw StepwiseError.file(TestPaths.models.path, "gpt2-tokenizer is missing")
        }
        return try ByteLevelBPE.load(folder: dir.path)
    }

    /// SmolLM2's vocabulary and merges as the GGUF stores them, built the way the GGUF loader builds it:
    /// `init(vocabulary:merges:preTokenizer:...)` with `tokenizer.ggml.pre = smollm`.
    /// It reads the committed fixture smollm2-vocab.json (the same tokens and merges as
    /// `tokenizer.ggml.tokens` / `tokenizer.ggml.merges` of smollm2/SmolLM2-135M-Instruct.Q4_1.gguf), so these
    /// tests run without the model file; SmolLM2GGUFTests reads the GGUF itself.
    static let smollm2: Result<ByteLevelBPE, any Error> = Result {
        guard let root = try loadJSON(smolVocabularyURL) as? [String: Any],
              let tokens = root["tokens"] as? [String], let merges = root["merges"] as? [String],
              let special = root["special"] as? [String: Int] else {
            throw StepwiseError.file(smolVocabularyURL.path, "needs tokens, merges and special")
        }
        let pairs = merges.map { m -> (String, String) in
            let p = m.split(separator: " ", omittingEmptySubsequences: false)
            return (String(p[0]), String(p[1]))
        }
        return try ByteLevelBPE(vocabulary: tokens, merges: pairs, preTokenizer: PreTokenizerKind(ggufName: "smollm")!,
                                specialTokens: special, special: SpecialTokens(bos: 1, eos: 2),
                                source: smolVocabularyURL.lastPathComponent)
    }

    /// Golden rows (text, ids, pieces) for one tokenizer key of shared/golden/tokenizers.json.
    static func golden(_ key: String) throws -> [(text: String, ids: [Int], pieces: [String])] {
        guard let url = TestPaths.goldenFile("tokenizers.json"),
              let root = try loadJSON(url) as? [String: Any], let rows = root[key] as? [[String: Any]] else {
            throw StepwiseError.file("tokenizers.json", "no golden rows for \(key)")
        }
        return rows.map { ($0["text"] as! String, $0["ids"] as! [Int], $0["pieces"] as! [String]) }
    }
}

/// Strict equality (byte for byte, not canonical equivalence as `String ==` is).
func sameBytes(_ a: String, _ b: String) -> Bool { Array(a.utf8) == Array(b.utf8) }
