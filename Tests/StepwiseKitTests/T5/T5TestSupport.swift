import Foundation
import Testing
@testable import StepwiseKit

/// The tiny random T5 folders of tools/reference/make_t5_fixtures.py and their reference numbers.
enum T5Fixture {
    static let names = ["t5-relu-tied", "flan-gated-untied"]

    static func folder(_ name: String) -> URL { TestPaths.fixtures.appendingPathComponent("t5/\(name)") }

    /// The folder through ModelLoader: config.json, model.safetensors and the Unigram tokenizer.json.
    static func load(_ name: String) throws -> T5Model {
        guard case .model(let m) = try ModelLoader.load(folder(name).path), let model = m as? T5Model else {
            throw StepwiseError(.model, "\(name) did not load as a T5 model")
        }
        return model
    }

    /// A temp folder holding a copy of a fixture (config.json, model.safetensors, tokenizer.json) to break.
    static func copy(_ name: String) throws -> TempFolder {
        let t = try TempFolder()
        for f in ["config.json", "model.safetensors", "tokenizer.json"] {
            try FileManager.default.copyItem(at: folder(name).appendingPathComponent(f), to: t.file(f))
        }
        return t
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
