import Foundation
import Testing
@testable import StepwiseKit

/// A temporary folder, removed when the value is released.
final class TempFolder: @unchecked Sendable {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        // Read-only folders made by a test must be writable again before they can be removed.
        if let e = FileManager.default.enumerator(atPath: url.path) {
            for case let f as String in e {
                try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.appendingPathComponent(f).path)
            }
        }
        try? FileManager.default.removeItem(at: url)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: file(name))
    }

    /// (Not `Data(contentsOf:)`, which leaks on empty files under LeakSanitizer.)
    func read(_ name: String) throws -> Data { try MappedFile.data(path: file(name).path) }
}

/// The hostile-input fixtures: a small byte-level BPE tokenizer (vocab.json + merges.txt, 267 pieces,
/// fits the GPT-2 fixtures' vocabulary of 300) and crafted bad files.
enum HostileFixtures {
    static let folder = TestPaths.fixtures.appendingPathComponent("hostile")
    static let tokenizer = folder.appendingPathComponent("tokenizer")
    static let gpt2 = TestPaths.fixtures.appendingPathComponent("gpt2/tied-4h")
    static let llama = TestPaths.fixtures.appendingPathComponent("llama/tiny-random")

    /// A temp folder holding a loadable GPT-2 model: the tied-4h fixture plus the small tokenizer.
    static func gpt2Folder() throws -> TempFolder {
        let t = try TempFolder()
        for (dir, name) in [(gpt2, "config.json"), (gpt2, "model.safetensors"), (tokenizer, "vocab.json"), (tokenizer, "merges.txt")] {
            try FileManager.default.copyItem(at: dir.appendingPathComponent(name), to: t.file(name))
        }
        return t
    }

    /// A temp folder holding a loadable Llama model: the tiny-random fixture (vocabulary 96) plus a
    /// byte-level tokenizer cut to the model's vocabulary.
    static func llamaFolder() throws -> TempFolder {
        let t = try TempFolder()
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: llama.appendingPathComponent(name), to: t.file(name))
        }
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: tokenizer.appendingPathComponent("vocab.json"))) as! [String: Int]
        let small = all.filter { $0.value < 96 }
        try JSONSerialization.data(withJSONObject: small).write(to: t.file("vocab.json"))
        try t.write("merges.txt", "#version: 0.2\n")
        return t
    }
}

/// Reads and rewrites the pieces of a safetensors file, so a test can change one thing.
struct SafetensorsEdit {
    var header: [String: Any]
    var data: Data

    init(_ url: URL) throws {
        let bytes = try Data(contentsOf: url)
        let n = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
        header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as! [String: Any]
        data = bytes.subdata(in: (8 + n)..<bytes.count)
    }

    /// Changes one field of one tensor's entry.
    mutating func set(_ tensor: String, _ field: String, _ value: Any) {
        var e = header[tensor] as! [String: Any]
        e[field] = value
        header[tensor] = e
    }

    /// The byte offset of a tensor's data in ``data``.
    func begin(_ tensor: String) -> Int {
        ((header[tensor] as! [String: Any])["data_offsets"] as! [Int])[0]
    }

    func write(_ url: URL) throws {
        let h = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var out = Data()
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(h)
        out.append(data)
        try out.write(to: url)
    }
}

/// Runs `body` expecting a ``StepwiseError``; nil (and a recorded issue) if it succeeded or threw another error.
func expectStepwiseError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> StepwiseError? {
    do {
        try body()
        Issue.record("expected a StepwiseError, but it succeeded", sourceLocation: sourceLocation)
    } catch let e as StepwiseError {
        return e
    } catch {
        Issue.record("expected a StepwiseError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Loads `t` after `c` broke it and checks the one error line: it names the file `c` names (the folder when
/// none) and says what `c` says.
func expectBrokenFolder(_ c: FolderMutation, _ t: TempFolder, sourceLocation: SourceLocation = #_sourceLocation) throws {
    try c.mutate(t)
    let e = try #require(expectStepwiseError { _ = try ModelLoader.load(t.path) }, sourceLocation: sourceLocation)
    let named = c.names.isEmpty ? t.path : t.file(c.names).path
    #expect(e.message.contains(named), "\(c.name): message does not name \(named): \(e.message)", sourceLocation: sourceLocation)
    #expect(e.message.contains(c.says), "\(c.name): \(e.message)", sourceLocation: sourceLocation)
    #expect(!e.message.contains("\n"), "\(c.name): message is more than one line: \(e.message)", sourceLocation: sourceLocation)
}

/// Sets one field of the folder's config.json (nil removes it), keys sorted.
func editConfigField(_ t: TempFolder, _ key: String, _ value: Any?) throws {
    var c = try JSONSerialization.jsonObject(with: t.read("config.json")) as! [String: Any]
    c[key] = value
    try JSONSerialization.data(withJSONObject: c, options: [.sortedKeys]).write(to: t.file("config.json"))
}
