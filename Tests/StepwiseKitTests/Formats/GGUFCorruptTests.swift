import Foundation
import Testing
@testable import StepwiseKit

/// Builds GGUF bytes field by field, so each corrupt case changes exactly one thing.
struct GGUFBuilder {
    var bytes = Data()

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes.append(contentsOf: Array(s.utf8)) }
    mutating func header(magic: String = "GGUF", version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
        bytes.append(contentsOf: Array(magic.utf8))
        u32(version)
        u64(tensors)
        u64(kvs)
    }
    mutating func kvString(_ k: String, _ v: String) { string(k); u32(GGUFValueType.string.rawValue); string(v) }
    mutating func kvU32(_ k: String, _ v: UInt32) { string(k); u32(GGUFValueType.uint32.rawValue); u32(v) }
    mutating func tensor(_ name: String, ne: [Int64], type: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(ne.count))
        for n in ne { i64(n) }
        u32(type)
        u64(offset)
    }
    /// Pads to `alignment` and appends `count` bytes of data (0x3C: float16 1.0 and small float32s).
    mutating func data(alignment: Int = 32, count: Int) {
        while bytes.count % alignment != 0 { u8(0) }
        bytes.append(Data(repeating: 0x3C, count: count))
    }

    /// A valid file: two metadata entries, an F32 [4] tensor at 0 and a Q8_0 [32] tensor at 32.
    static func valid(tensorType: UInt32 = GGUFTensorType.q8_0.rawValue, tensorBytes: Int = 34) -> Data {
        var b = GGUFBuilder()
        b.header(tensors: 2, kvs: 2)
        b.kvString("general.architecture", "llama")
        b.kvU32("general.alignment", 32)
        b.tensor("a", ne: [4], type: GGUFTensorType.f32.rawValue, offset: 0)
        b.tensor("b", ne: [32], type: tensorType, offset: 32)
        b.data(count: 32 + tensorBytes)
        return b.bytes
    }
}

/// Every kind of corrupt header is a ``StepwiseError`` naming the file and the problem.
@Suite("GGUF corrupt files")
struct GGUFCorruptTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        /// A piece of the expected message.
        var says: String
        var bytes: @Sendable () -> Data
    }

    static let cases: [Case] = [
        Case(description: "empty file", says: "too short") { Data() },
        Case(description: "wrong magic", says: "not a GGUF file") {
            var d = GGUFBuilder.valid(); d[3] = UInt8(ascii: "X"); return d
        },
        Case(description: "safetensors-like start", says: "not a GGUF file") { Data([8, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D]) },
        Case(description: "unknown version", says: "version 9") {
            var b = GGUFBuilder(); b.header(version: 9, tensors: 0, kvs: 0); return b.bytes
        },
        Case(description: "big-endian file", says: "big-endian") {
            var b = GGUFBuilder(); b.header(version: 0x0300_0000, tensors: 0, kvs: 0); return b.bytes
        },
        Case(description: "huge tensor count", says: "tensor count") {
            var b = GGUFBuilder(); b.header(tensors: .max, kvs: 0); return b.bytes
        },
        Case(description: "tensor count slightly too big", says: "tensor count") {
            var d = GGUFBuilder.valid(); d[8] = 200; return d
        },
        Case(description: "huge metadata count", says: "metadata count") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1 << 62); b.kvU32("x", 1); return b.bytes
        },
        Case(description: "huge key length", says: "length of key") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1); b.u64(.max); b.u32(4); b.u32(1); return b.bytes
        },
        Case(description: "key length one past the end", says: "length of key") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1); b.u64(13); b.u32(4); b.u32(1); return b.bytes
        },
        Case(description: "huge string value length", says: "length of metadata 'k'") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1); b.string("k"); b.u32(8); b.u64(1 << 60); b.u64(0); return b.bytes
        },
        Case(description: "unknown value type", says: "unknown value type 13") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1); b.string("k"); b.u32(13); b.u64(0); return b.bytes
        },
        Case(description: "huge array length", says: "element count of metadata 'k'") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1); b.string("k"); b.u32(9); b.u32(5); b.u64(.max / 2); b.u64(0); return b.bytes
        },
        Case(description: "array length x element size past the end", says: "element count") {
            // 3 int32 elements claimed, 8 bytes present: 3 x 4 > 8.
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1); b.string("k"); b.u32(9); b.u32(5); b.u64(3); b.u64(0); return b.bytes
        },
        Case(description: "array of strings too long for the bytes", says: "element count") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1); b.string("k"); b.u32(9); b.u32(8); b.u64(1000); b.u64(0); return b.bytes
        },
        Case(description: "arrays nested too deep", says: "nests arrays") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1); b.string("k"); b.u32(9)
            for _ in 0..<40 { b.u32(9); b.u64(1) }
            b.u32(0); b.u64(0); return b.bytes
        },
        Case(description: "duplicate key", says: "appears twice") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 2); b.kvU32("k", 1); b.kvU32("k", 2); return b.bytes
        },
        Case(description: "alignment not a power of two", says: "general.alignment") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1); b.kvU32("general.alignment", 24); return b.bytes
        },
        Case(description: "alignment zero", says: "general.alignment") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1); b.kvU32("general.alignment", 0); return b.bytes
        },
        Case(description: "alignment of the wrong type", says: "general.alignment") {
            var b = GGUFBuilder(); b.header(tensors: 0, kvs: 1); b.kvString("general.alignment", "32"); return b.bytes
        },
        Case(description: "too many dimensions", says: "5 dimensions") {
            var b = GGUFBuilder(); b.header(tensors: 1, kvs: 0); b.tensor("t", ne: [1, 1, 1, 1, 1], type: 0, offset: 0)
            b.data(count: 4); return b.bytes
        },
        Case(description: "negative extent", says: "negative extent") {
            var b = GGUFBuilder(); b.header(tensors: 1, kvs: 0); b.tensor("t", ne: [4, -1], type: 0, offset: 0)
            b.data(count: 64); return b.bytes
        },
        Case(description: "extent product overflows", says: "overflows") {
            var b = GGUFBuilder(); b.header(tensors: 1, kvs: 0); b.tensor("t", ne: [1 << 40, 1 << 40], type: 0, offset: 0)
            b.data(count: 64); return b.bytes
        },
        Case(description: "byte count overflows", says: "more bytes than the whole file") {
            var b = GGUFBuilder(); b.header(tensors: 1, kvs: 0); b.tensor("t", ne: [1 << 31, 1 << 31], type: 0, offset: 0)
            b.data(count: 64); return b.bytes
        },
        Case(description: "row not a whole number of blocks", says: "block size 32") {
            var b = GGUFBuilder(); b.header(tensors: 1, kvs: 0); b.tensor("t", ne: [16, 2], type: GGUFTensorType.q4_1.rawValue, offset: 0)
            b.data(count: 64); return b.bytes
        },
        Case(description: "unknown tensor type", says: "tensor 'b' has unknown ggml type id 99") {
            GGUFBuilder.valid(tensorType: 99)
        },
        Case(description: "removed type id 4 (Q4_2)", says: "unknown ggml type id 4") {
            GGUFBuilder.valid(tensorType: 4)
        },
        Case(description: "offset past the end", says: "past the end") {
            var b = GGUFBuilder(); b.header(tensors: 1, kvs: 0); b.tensor("t", ne: [4], type: 0, offset: 1 << 40)
            b.data(count: 16); return b.bytes
        },
        Case(description: "tensor data runs past the end", says: "needs bytes") {
            var b = GGUFBuilder(); b.header(tensors: 1, kvs: 0); b.tensor("t", ne: [8], type: 0, offset: 0)
            b.data(count: 31); return b.bytes
        },
        Case(description: "misaligned offset", says: "not a multiple of the alignment 32") {
            var b = GGUFBuilder(); b.header(tensors: 1, kvs: 0); b.tensor("t", ne: [4], type: 0, offset: 4)
            b.data(count: 64); return b.bytes
        },
        Case(description: "overlapping tensors", says: "overlap") {
            var b = GGUFBuilder(); b.header(tensors: 2, kvs: 0)
            b.tensor("t", ne: [16], type: 0, offset: 0)
            b.tensor("u", ne: [4], type: 0, offset: 32)
            b.data(count: 128); return b.bytes
        },
        Case(description: "duplicate tensor name", says: "appears twice") {
            var b = GGUFBuilder(); b.header(tensors: 2, kvs: 0)
            b.tensor("t", ne: [4], type: 0, offset: 0)
            b.tensor("t", ne: [4], type: 0, offset: 32)
            b.data(count: 64); return b.bytes
        },
    ]

    @Test("corrupt file is a StepwiseError naming the file", arguments: cases)
    func corrupt(_ c: Case) throws {
        let tmp = try TempGGUF(c.bytes())
        let e = try #require(throwsStepwise { _ = try GGUFFile(path: tmp.path) })
        #expect(e.message.hasPrefix(tmp.path), "\(e.message)")
        #expect(e.message.contains(c.says), "\(c.description): \(e.message)")
    }

    @Test("the valid file the cases start from opens")
    func validBase() throws {
        let tmp = try TempGGUF(GGUFBuilder.valid())
        let f = try GGUFFile(path: tmp.path)
        #expect(f.tensorNames == ["a", "b"])
        #expect(try f.tensor("b").data == [Float](repeating: Float(Float16(bitPattern: 0x3C3C)) * 60, count: 32))
        #expect(f.architecture == "llama")
    }

    @Test("a known type Stepwise cannot convert opens, and tensor() says which")
    func unsupportedType() throws {
        let t = GGUFTensorType.iq2_XXS
        let tmp = try TempGGUF(GGUFBuilder.valid(tensorType: t.rawValue, tensorBytes: t.typeSize))
        // ne [32] is not a whole IQ2_XXS block (256): rebuild with 256 values.
        var b = GGUFBuilder(); b.header(tensors: 1, kvs: 0)
        b.tensor("iq", ne: [256], type: t.rawValue, offset: 0)
        b.data(count: t.typeSize)
        let ok = try TempGGUF(b.bytes)
        #expect(throws: StepwiseError.self) { _ = try GGUFFile(path: tmp.path) }
        let f = try GGUFFile(path: ok.path)
        #expect(f.tensorInfo("iq") == WeightInfo(shape: [256], dtype: "IQ2_XXS", byteCount: 66))
        #expect(try f.rawTensor("iq").bytes.count == 66)
        let e = try #require(throwsStepwise { _ = try f.tensor("iq") })
        #expect(e.kind == .unsupported && e.message.contains("IQ2_XXS"))
    }

    @Test("tiny.gguf truncated at every byte before its last tensor ends is an error")
    func truncatedEverywhere() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: GGUFFileTests.tinyPath))
        let f = try GGUFFile(path: GGUFFileTests.tinyPath)
        let end = f.tensors.map { f.dataOffset + $0.offset + $0.byteCount }.max()!
        #expect(end <= whole.count)
        // Every byte of the header, then a stride through the data section.
        let cuts = Array(0..<f.dataOffset) + Array(stride(from: f.dataOffset, to: end, by: 7)) + [end - 1]
        var failures: [Int] = []
        let tmp = try TempGGUF(whole)
        for n in cuts.reversed() {  // shrinking one file in place
            try tmp.truncate(to: n)
            do {
                _ = try GGUFFile(path: tmp.path)
                failures.append(n)
            } catch let e as StepwiseError {
                if !e.message.hasPrefix(tmp.path) { failures.append(n) }
            }
        }
        #expect(failures.isEmpty, "cuts that opened or gave a foreign error: \(failures.prefix(20))")
        // Cut right after the last tensor: still valid.
        try tmp.set(whole.prefix(end))
        #expect(try GGUFFile(path: tmp.path).tensors.count == f.tensors.count)
    }

    @Test("single corrupted header bytes never crash")
    func flippedBytes() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: GGUFFileTests.tinyPath))
        let f = try GGUFFile(path: GGUFFileTests.tinyPath)
        var rng = SplitMix64(seed: 7)
        let tmp = try TempGGUF(whole)
        for _ in 0..<300 {
            var d = whole
            let i = Int(rng.next() % UInt64(f.dataOffset))
            d[i] = UInt8(truncatingIfNeeded: rng.next())
            try tmp.set(d)
            do {
                let g = try GGUFFile(path: tmp.path)
                for name in g.tensorNames where g.ggufTensorInfo(name)!.type.canDequantize {
                    _ = try g.tensor(name)
                }
            } catch let e as StepwiseError {
                #expect(e.message.hasPrefix(tmp.path), "\(e.message)")
            }
        }
    }
}
