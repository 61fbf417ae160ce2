import Foundation
import Testing
@testable import StepwiseKit

/// The pieces of a tokenizer.json's vocabulary, for labelling ids in the T5 tests: it decodes
/// (`▁` as a space) but does not encode, so the tests feed transformers' ids.
struct PieceListTokenizer: Tokenizer {
    let pieces: [String]

    init(tokenizerJSON url: URL) throws {
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let model = try #require(root["model"] as? [String: Any])
        let vocab = try #require(model["vocab"] as? [[Any]])
        var pieces = vocab.map { $0[0] as? String ?? "?" }
        for case let t as [String: Any] in root["added_tokens"] as? [Any] ?? [] {
            if let id = t["id"] as? Int, let content = t["content"] as? String, id >= pieces.count {
                pieces += Array(repeating: "?", count: id - pieces.count) + [content]
            }
        }
        self.pieces = pieces
    }

    var vocabularySize: Int { pieces.count }
    func encode(_ text: String) throws -> [Int] { throw StepwiseError.usage("PieceListTokenizer does not encode") }
    func explain(_ text: String) throws -> TokenizationExplanation { throw StepwiseError.usage("PieceListTokenizer does not encode") }
    func decode(_ ids: [Int]) -> String {
        ids.map { piece(for: $0) ?? "<\($0)>" }.joined().replacingOccurrences(of: "\u{2581}", with: " ")
    }
    func piece(for id: Int) -> String? { pieces.indices.contains(id) ? pieces[id] : nil }
    func id(for piece: String) -> Int? { pieces.firstIndex(of: piece) }
    var specialTokens: SpecialTokens { SpecialTokens(eos: 1, unknown: 2, padding: 0) }
}

/// The tiny random T5 folders of tools/reference/make_t5_fixtures.py and their reference numbers.
enum T5Fixture {
    static let names = ["t5-relu-tied", "flan-gated-untied"]

    static func folder(_ name: String) -> URL { TestPaths.fixtures.appendingPathComponent("t5/\(name)") }

    static func load(_ name: String) throws -> T5Model {
        let f = folder(name)
        return try T5Model.load(folder: f.path, tokenizer: PieceListTokenizer(tokenizerJSON: f.appendingPathComponent("tokenizer.json")))
    }

    static func reference(_ name: String) throws -> [String: Any] {
        try #require(loadJSON(folder(name).appendingPathComponent("reference.json")) as? [String: Any])
    }

    /// Options for a pass over `source`.
    static func options(_ source: [Int], record: Bool = true) -> ForwardOptions {
        var o = ForwardOptions(record: record)
        o.source = source
        return o
    }

    /// The index of the largest value (the first of equal ones, as torch's argmax).
    static func argmax(_ row: [Float]) -> Int {
        var best = 0
        for (i, v) in row.enumerated() where v > row[best] { best = i }
        return best
    }
}
