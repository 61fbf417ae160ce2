import Foundation
import Testing
@testable import StepwiseKit

/// The whole reader on tiny.gguf, a complete file written by gguf-py's GGUFWriter
/// (tools/reference/make_gguf_fixtures.py; tiny.json says what it holds).
@Suite("GGUF file")
struct GGUFFileTests {
    static let dir = TestPaths.fixtures.appendingPathComponent("gguf")
    static let tinyPath = dir.appendingPathComponent("tiny.gguf").path

    static func expected() throws -> [String: Any] {
        try #require(try loadJSON(dir.appendingPathComponent("tiny.json")) as? [String: Any])
    }

    @Test("header, alignment and metadata keys in file order")
    func header() throws {
        let f = try GGUFFile(path: Self.tinyPath)
        let want = try Self.expected()
        #expect(f.version == 3)
        #expect(f.alignment == 64)
        #expect(f.dataOffset == want["data_offset"] as? Int)
        #expect(f.dataOffset % 64 == 0)
        #expect(f.metadataKeys == want["kv_keys"] as? [String])
        #expect(f.metadata.count == f.metadataKeys.count)
        #expect(f.architecture == "tiny")
    }

    @Test("every metadata value type")
    func metadataValues() throws {
        let f = try GGUFFile(path: Self.tinyPath)
        #expect(f["test.u8"] == .uint8(200))
        #expect(f["test.i8"] == .int8(-100))
        #expect(f["test.u16"] == .uint16(60000))
        #expect(f["test.i16"] == .int16(-30000))
        #expect(f["test.u32"] == .uint32(4_000_000_000))
        #expect(f["test.i32"] == .int32(-2_000_000_000))
        #expect(f["test.u64"] == .uint64(18_000_000_000_000_000_000))
        #expect(f["test.i64"] == .int64(-9_000_000_000_000_000_000))
        #expect(f["test.f32"] == .float32(0.15625))
        #expect(f["test.f64"] == .float64(-2.718281828459045))
        #expect(f["test.bool_true"] == .bool(true))
        #expect(f["test.bool_false"] == .bool(false))
        #expect(f["test.string"]?.string == "héllo, ☃ world")
        #expect(f["general.name"]?.string == "Tiny Test Model")
        // Accessors convert across integer widths, exactly or not at all.
        #expect(f["test.u8"]?.int == 200)
        #expect(f["test.i64"]?.int == -9_000_000_000_000_000_000)
        #expect(f["test.u64"]?.int == nil)
        #expect(f["test.u64"]?.double == 1.8e19)
        #expect(f["test.u32"]?.float == 4e9)
        #expect(f["test.f32"]?.float == 0.15625)
        #expect(f["test.f64"]?.double == -2.718281828459045)
        #expect(f["test.string"]?.int == nil)
        #expect(f["test.u8"]?.string == nil)
        #expect(f.architectureValue("context_length")?.int == 128)
    }

    @Test("arrays, including nested arrays")
    func arrays() throws {
        let f = try GGUFFile(path: Self.tinyPath)
        #expect(f["test.ints"] == .array(.int32, [.int32(1), .int32(-2), .int32(3), .int32(40000)]))
        #expect(f["test.ints"]?.ints == [1, -2, 3, 40000])
        #expect(f["test.floats"]?.floats == [0.5, -1.25, 3.0])
        #expect(f["test.strings"]?.strings == ["a", "", "ĠHello", "<|im_start|>"])
        #expect(f["test.bools"] == .array(.bool, [.bool(true), .bool(false), .bool(true)]))
        #expect(f["test.u8s"] == .array(.uint8, [.uint8(1), .uint8(2), .uint8(255)]))
        let nested = try #require(f["test.nested"]?.array)
        #expect(f["test.nested"]?.typeName == "array<array>[3]")
        #expect(nested.map { $0.ints ?? [] } == [[1, 2], [3], [4, 5, 6]])
        #expect(f["test.strings"]?.ints == nil)
        #expect(f["tokenizer.ggml.tokens"]?.strings == ["<s>", "a", "b"])
    }

    @Test("tensor table, PyTorch shapes and dequantized values of every stored type")
    func tensors() throws {
        let f = try GGUFFile(path: Self.tinyPath)
        let want = try #require(try Self.expected()["tensors"] as? [[String: Any]])
        #expect(f.tensorNames == want.map { $0["name"] as! String })
        for w in want {
            let name = w["name"] as! String
            let g = try #require(f.ggufTensorInfo(name))
            #expect(g.ne == w["ne"] as? [Int], "\(name)")
            #expect(g.shape == w["shape"] as? [Int], "\(name)")
            #expect(g.type.name == w["type"] as? String, "\(name)")
            #expect(g.type.rawValue == UInt32(w["type_id"] as! Int), "\(name)")
            #expect(g.offset == w["offset"] as? Int, "\(name)")
            #expect(g.byteCount == w["n_bytes"] as? Int, "\(name)")
            let info = try #require(f.tensorInfo(name))
            #expect(info == WeightInfo(shape: g.shape, dtype: g.type.name, byteCount: g.byteCount))
            let t = try f.tensor(name)
            #expect(t.shape == g.shape)
            let values = (w["values"] as! [NSNumber]).map(\.floatValue)
            let (err, bound) = referenceError(t.data, values, tolerance: 1e-6)
            #expect(err <= bound, "\(name) (\(g.type.name)): max abs error \(err) > \(bound)")
            let raw = try f.rawTensor(name)
            #expect(raw.info == g)
            #expect(raw.bytes.count == g.byteCount)
        }
        #expect(f.contains("blk.0.q4_k"))
        #expect(!f.contains("nope"))
        #expect(throws: StepwiseError.self) { try f.tensor("nope") }
        #expect(throws: StepwiseError.self) { try f.rawTensor("nope") }
    }

    @Test("rawTensor gives the stored bytes at the data offset")
    func rawBytes() throws {
        let f = try GGUFFile(path: Self.tinyPath)
        let file = try Data(contentsOf: URL(fileURLWithPath: Self.tinyPath))
        let (info, bytes) = try f.rawTensor("blk.0.q4_1")
        let start = f.dataOffset + info.offset
        #expect(Array(bytes) == Array(file[start..<(start + info.byteCount)]))
        #expect(info.type == .q4_1 && info.ne == [64, 3])
    }

    @Test("a version 2 file reads the same; version 1 is unsupported")
    func versions() throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: Self.tinyPath))
        bytes[4] = 2
        let v2 = try TempGGUF(bytes)
        let f = try GGUFFile(path: v2.path)
        #expect(f.version == 2)
        let ref = try GGUFFile(path: Self.tinyPath)
        #expect(try f.tensor("blk.0.q6_k") == ref.tensor("blk.0.q6_k"))
        #expect(f.metadata == ref.metadata)

        bytes[4] = 1
        let v1 = try TempGGUF(bytes)
        let e = try #require(throwsStepwise { _ = try GGUFFile(path: v1.path) })
        #expect(e.kind == .unsupported)
        #expect(e.message.contains(v1.path) && e.message.contains("version 1"))
    }

    @Test("summary for info")
    func summary() throws {
        let f = try GGUFFile(path: Self.tinyPath)
        let rows = Dictionary(uniqueKeysWithValues: f.summary)
        #expect(rows["architecture"] == "tiny")
        #expect(rows["name"] == "Tiny Test Model")
        #expect(rows["context length"] == "128")
        #expect(rows["chat template"] == "absent")
        #expect(rows["tokenizer"] == "gpt2, pre tiny, 3 tokens")
        #expect(f.parameterCount == 48 + 192 + 64 + 256 + 192 + 192 + 64 + 128 + 512 + 512 + 768)
        #expect(rows["parameters"] == "2.9K (2928)")
        #expect(rows["quantization"] == "F32 ×1, F16 ×1, Q4_0 ×1, Q4_1 ×1, Q5_0 ×1, Q5_1 ×1, Q8_0 ×1, Q4_K ×1, Q5_K ×1, Q6_K ×1, BF16 ×1")
    }
}

/// Runs `body` and returns the ``StepwiseError`` it throws (recording an issue if it throws
/// something else or nothing).
func throwsStepwise(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> StepwiseError? {
    do {
        try body()
        Issue.record("expected a StepwiseError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as StepwiseError {
        return e
    } catch {
        Issue.record("expected a StepwiseError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Bytes written to a unique temporary file, removed when the value is released.
final class TempGGUF {
    let path: String

    init(_ bytes: Data) throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("stepwise-gguf-\(UUID().uuidString).gguf").path
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Replaces the file's contents in place (creating and removing files is slow on some machines, so
    /// loops over many variants reuse one file).
    func set(_ bytes: Data) throws {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? h.close() }
        try h.truncate(atOffset: 0)
        try h.write(contentsOf: bytes)
    }

    /// Cuts the file to its first `count` bytes.
    func truncate(to count: Int) throws {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? h.close() }
        try h.truncate(atOffset: UInt64(count))
    }
}
