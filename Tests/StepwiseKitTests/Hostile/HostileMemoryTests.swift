import Foundation
import Testing
@testable import StepwiseKit

/// Runs the `stepwise` executable under GNU time (`/usr/bin/time -f %M`) and reports its peak resident size.
///
/// Not `wait4`'s `ru_maxrss` of a child spawned from this process: Linux carries the spawning process's
/// high-water mark into the child across `exec` (posix_spawn shares the parent's address space until then),
/// so a child of a test process that had grown to 700 MB "peaked" at 700 MB. GNU time forks from its own
/// small process, so what it reports is the executable's own peak.
enum PeakMemory {
    static let time = "/usr/bin/time"
    static var available: Bool { StepwiseBinary.url != nil && FileManager.default.isExecutableFile(atPath: time) }

    struct Run {
        var status: Int32
        var stderr: String
        /// Peak resident set size in bytes.
        var peak: Int
    }

    static func run(_ args: [String]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: time)
        p.arguments = ["-f", "peak-kb %M", try #require(StepwiseBinary.url).path] + args
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        p.environment = env
        let errPipe = Pipe()
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = errPipe
        let err = String(decoding: try Child.run(p, reading: [errPipe], within: 300, what: "stepwise \(args.joined(separator: " "))")[0],
                         as: UTF8.self)
        var lines = err.split(separator: "\n").map(String.init)
        let last = try #require(lines.last(where: { $0.hasPrefix("peak-kb ") }), "GNU time printed no peak: \(err)")
        let kb = try #require(Int(last.dropFirst("peak-kb ".count)))
        lines.removeAll { $0.hasPrefix("peak-kb ") || $0.hasPrefix("Command exited with non-zero status") }
        return Run(status: p.terminationStatus, stderr: lines.joined(separator: "\n"), peak: kb * 1024)
    }

    /// The peak of a run that does nothing: the process's own footprint, subtracted from each measurement.
    static let baseline: Int = {
        (try? run(["--model", HostileFixtures.tokenizer.path, "-e", "help"]).peak) ?? 0
    }()
}

/// A folder with a byte-level BPE tokenizer that merges runs of `a` and `b` (a, aa, aaaa, aaaaaaaa).
func longWordTokenizerFolder() throws -> TempFolder {
    let t = try TempFolder()
    var pieces = ByteEncoder.scalars.map { String($0) }
    var merges: [String] = []
    for c in ["a", "b"] {
        for k in [1, 2, 4] {
            let p = String(repeating: c, count: k)
            merges.append("\(p) \(p)")
            pieces.append(p + p)
        }
    }
    let vocab = Dictionary(uniqueKeysWithValues: pieces.enumerated().map { ($1, $0) })
    try JSONSerialization.data(withJSONObject: vocab).write(to: t.file("vocab.json"))
    try t.write("merges.txt", "#version: 0.2\n" + merges.joined(separator: "\n") + "\n")
    return t
}

/// Writes a GGUF whose only big value is one `array<uint8>` of `n` bytes.
private func ggufWithByteArray(_ url: URL, bytes n: Int) throws {
    var b = GGUFBuilder()
    b.header(tensors: 0, kvs: 2)
    b.kvString("general.architecture", "llama")
    b.string("big"); b.u32(GGUFValueType.array.rawValue); b.u32(GGUFValueType.uint8.rawValue); b.u64(UInt64(n))
    b.bytes.append(Data(count: n))
    try b.bytes.write(to: url)
}

/// Memory stays bounded by the input (issue 16, item 5): each hostile file is loaded by the executable and
/// its peak resident size, less the executable's own, must stay within a small multiple of the file's size.
/// The limits are loose (mapped pages of the file count too); the old parsers were 10–40× over them.
@Suite("Hostile inputs: memory bounded by the input",
       .enabled(if: PeakMemory.available, "needs the stepwise binary and GNU time (/usr/bin/time) to measure its peak"))
struct HostileMemoryTests {
    static let mb = 1 << 20

    /// 50 MB `array<uint8>`: an enum box per element took 2 GB (40×); compact storage keeps it near 2×
    /// (the copy plus the mapped file).
    @Test("a GGUF with a 50 MB array<uint8> costs at most 3× its size")
    func ggufByteArray() throws {
        let t = try TempFolder()
        let path = t.file("big.gguf")
        try ggufWithByteArray(path, bytes: 50_000_000)
        let size = try FileManager.default.attributesOfItem(atPath: path.path)[.size] as! Int
        let r = try PeakMemory.run(["--model", path.path, "-e", "info"])
        #expect(r.status == 1 && r.stderr.contains("has no integer llama.block_count"), "\(r.stderr)")
        let growth = r.peak - PeakMemory.baseline
        #expect(growth < 3 * size, "peak grew by \(growth / Self.mb) MB for a \(size / Self.mb) MB file")
    }

    /// 1.2 M tiny entries (71 MB header): Foundation's dictionaries took 4.7 GB; read straight into
    /// entries it is about 4× (entries, name index, order, and the mapped header).
    @Test("a safetensors header of 1.2M tiny entries costs at most 6× its size")
    func safetensorsManyEntries() throws {
        let t = try HostileFixtures.gpt2Folder()
        var header = "{"
        header.reserveCapacity(72_000_000)
        for i in 0..<1_200_000 {
            header += "\"t\(i)\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
        }
        header.removeLast()
        header += "}"
        var d = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        try d.write(to: t.file("model.safetensors"))
        let r = try PeakMemory.run(["--model", t.path, "-e", "info"])
        #expect(r.status == 1 && r.stderr.contains("has no tensor"), "\(r.stderr)")
        let growth = r.peak - PeakMemory.baseline
        #expect(growth < 6 * d.count, "peak grew by \(growth / Self.mb) MB for a \(d.count / Self.mb) MB file")
    }

    /// 300,000 added tokens (40 MB tokenizer.json): 955 MB before; streamed into the tables, about 3×.
    @Test("a tokenizer.json with 300k added_tokens costs at most 5× its size")
    func manyAddedTokens() throws {
        let t = try TempFolder()
        var vocab: [String] = []
        for (i, s) in ByteEncoder.scalars.enumerated() {
            vocab.append("\"\(s == "\"" ? "\\\"" : s == "\\" ? "\\\\" : String(s))\": \(i)")
        }
        var text = "{\"version\": \"1.0\", \"added_tokens\": ["
        text.reserveCapacity(42_000_000)
        for i in 0..<300_000 {
            if i > 0 { text += ", " }
            text += "{\"id\": \(256 + i), \"content\": \"<x\(i)>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}"
        }
        text += "], \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}, "
        text += "\"model\": {\"type\": \"BPE\", \"vocab\": {\(vocab.joined(separator: ", "))}, \"merges\": []}}"
        try t.write("tokenizer.json", text)
        let r = try PeakMemory.run(["--model", t.path, "-e", "info"])
        #expect(r.status == 0, "\(r.stderr)")
        let growth = r.peak - PeakMemory.baseline
        #expect(growth < 5 * text.utf8.count, "peak grew by \(growth / Self.mb) MB for a \(text.utf8.count / Self.mb) MB file")
    }

    /// A 5M-piece vocab.json for a model of 300: the whole vocabulary was built (1 GB) before the sizes
    /// were compared; now the first id ≥ 300 stops the read.
    @Test("a 5M-piece vocabulary for a 300-row model fails at its first impossible id, in a few MB")
    func hugeVocabularyFailsEarly() throws {
        let t = try HostileFixtures.gpt2Folder()
        var text = "{"
        text.reserveCapacity(60_000_000)
        for i in 0..<5_000_000 { text += (i == 0 ? "" : ",") + "\"w\(i)\":\(i)" }
        text += "}"
        try t.write("vocab.json", text)
        let r = try PeakMemory.run(["--model", t.path, "-e", "info"])
        #expect(r.status == 1 && r.stderr.contains("vocab.json: 'w300' has id 300, but config.json's vocab_size is 300"), "\(r.stderr)")
        let growth = r.peak - PeakMemory.baseline
        #expect(growth < 16 * Self.mb, "peak grew by \(growth / Self.mb) MB")
    }

    /// GGUF: 5M tokens and an embedding of 4 rows: refused from the counts, before the tokenizer is built.
    @Test("a GGUF with 5M tokens for a 4-row embedding is refused before the tokenizer is built")
    func ggufHugeVocabulary() throws {
        let t = try TempFolder()
        let tokens = (0..<5_000_000).map { "t\($0)" }
        try GGUFMetadataCase(name: "", says: "", stringArrays: ["tokenizer.ggml.tokens": tokens]).bytes().write(to: t.file("m.gguf"))
        let size = try FileManager.default.attributesOfItem(atPath: t.file("m.gguf").path)[.size] as! Int
        let r = try PeakMemory.run(["--model", t.file("m.gguf").path, "-e", "info"])
        #expect(r.status == 1 && r.stderr.contains("tensor 'token_embd.weight' has 4 rows but tokenizer.ggml.tokens has 5000000 tokens"), "\(r.stderr)")
        let growth = r.peak - PeakMemory.baseline
        #expect(growth < 4 * size, "peak grew by \(growth / Self.mb) MB for a \(size / Self.mb) MB file")
    }

    /// `explain` of one 15,000-letter word: a snapshot of every symbol after every merge was quadratic
    /// (2 GB here, and 100k letters were killed); long words now record a window around each merge.
    @Test("explain of a 15,000-letter word stays under 400 MB")
    func explainLongWord() throws {
        let word = String(repeating: "a", count: 15_000)
        let t = try longWordTokenizerFolder()
        let r = try PeakMemory.run(["--model", t.path, "-e", "explain \(word)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.peak < 400 * Self.mb, "peak \(r.peak / Self.mb) MB")
    }
}

@Suite("Hostile inputs: long words in explain")
struct HostileExplainTests {
    @Test("a long pre-token records a window around each merge; a normal one the full list")
    func window() throws {
        let folder = try longWordTokenizerFolder()
        let tok = try ByteLevelBPE.load(folder: folder.path)
        let long = try tok.explain(String(repeating: "a", count: 2_000))
        let p = try #require(long.pretokens.first)
        #expect(p.initial.count == 2_000)
        #expect(!p.rules.isEmpty)
        #expect(p.rules.allSatisfy { $0.symbols.count <= 2 * ByteLevelBPE.snapshotContext + 3 })
        #expect(p.rules.contains { $0.symbols.first == "…" } && p.rules.contains { $0.symbols.last == "…" })
        #expect(long.ids == (try tok.encode(String(repeating: "a", count: 2_000))))
        // At the limit the full list is still recorded.
        let edge = try tok.explain(String(repeating: "a", count: ByteLevelBPE.maxSnapshotSymbols))
        let first = try #require(edge.pretokens.first?.rules.first)
        #expect(first.symbols.count == ByteLevelBPE.maxSnapshotSymbols - 1)
    }

    @Test("explain of 100,000 letters finishes (it was killed at 24 GB)")
    func hundredThousand() throws {
        let folder = try longWordTokenizerFolder()
        let tok = try ByteLevelBPE.load(folder: folder.path)
        let ex = try tok.explain(String(repeating: "b", count: 100_000))
        #expect(ex.ids == (try tok.encode(String(repeating: "b", count: 100_000))))
    }
}
