import Foundation
import Testing
@testable import StepwiseKit

/// Known blocks of every supported ggml type (raw bytes + gguf-py's dequantized values, made by
/// tools/reference/make_gguf_fixtures.py) against ``GGUFQuantization``.
@Suite("GGUF dequantization")
struct GGUFQuantizationTests {
    static let dir = TestPaths.fixtures.appendingPathComponent("gguf")

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var typeID: UInt32
        var blockSize: Int
        var typeSize: Int
        var count: Int
        var description: String { name }
    }

    static let cases: [Case] = {
        guard let json = try? loadJSON(dir.appendingPathComponent("blocks.json")) as? [String: [String: Int]] else {
            return []
        }
        return json.keys.sorted().map { k in
            let v = json[k]!
            return Case(name: k, typeID: UInt32(v["type_id"]!), blockSize: v["block_size"]!,
                        typeSize: v["type_size"]!, count: v["count"]!)
        }
    }()

    static func load(_ c: Case) throws -> (raw: Data, want: [Float]) {
        let raw = try Data(contentsOf: dir.appendingPathComponent("blocks/\(c.name).raw"))
        let f = try Data(contentsOf: dir.appendingPathComponent("blocks/\(c.name).f32"))
        let want = f.withUnsafeBytes { b in
            (0..<(b.count / 4)).map { Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        return (raw, want)
    }

    @Test("the fixture covers every type the task names")
    func coverage() {
        let names = Set(Self.cases.map(\.name))
        for t in ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "Q2_K", "Q3_K"] {
            #expect(names.contains(t), "blocks.json lacks \(t)")
        }
    }

    @Test("type ids, block sizes and bytes per block match gguf-py", arguments: cases)
    func layout(_ c: Case) throws {
        let t = try #require(GGUFTensorType(rawValue: c.typeID))
        #expect(t.name == c.name)
        #expect(t.blockSize == c.blockSize)
        #expect(t.typeSize == c.typeSize)
        #expect(t.canDequantize)
    }

    @Test("known blocks dequantize to gguf-py's values", arguments: cases)
    func knownBlocks(_ c: Case) throws {
        let t = try #require(GGUFTensorType(rawValue: c.typeID))
        let (raw, want) = try Self.load(c)
        #expect(want.count == c.count)
        #expect(raw.count == t.byteCount(forValues: c.count))
        let got = raw.withUnsafeBytes { GGUFQuantization.dequantize(t, from: $0, count: c.count) }
        let (err, bound) = referenceError(got, want, tolerance: 1e-6)
        #expect(err <= bound, "\(c.name): max abs error \(err) > \(bound)")
    }

    @Test("large inputs split over threads give the same values", arguments: ["Q4_1", "Q4_K", "Q6_K", "F16"])
    func threaded(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let t = try #require(GGUFTensorType(rawValue: c.typeID))
        let (raw, want) = try Self.load(c)
        let copies = (1 << 18) / c.count + 3  // well past the single-task threshold
        var big = Data()
        var bigWant: [Float] = []
        for _ in 0..<copies {
            big.append(raw)
            bigWant += want
        }
        let got = big.withUnsafeBytes { GGUFQuantization.dequantize(t, from: $0, count: bigWant.count) }
        let (err, bound) = referenceError(got, bigWant, tolerance: 1e-6)
        #expect(err <= bound, "\(name) x\(copies): max abs error \(err) > \(bound)")
    }

    @Test("byteCount(forValues:) rejects partial blocks and overflow")
    func byteCounts() {
        #expect(GGUFTensorType.q4_1.byteCount(forValues: 64) == 40)
        #expect(GGUFTensorType.q4_1.byteCount(forValues: 33) == nil)
        #expect(GGUFTensorType.q6_K.byteCount(forValues: 512) == 420)
        #expect(GGUFTensorType.f32.byteCount(forValues: Int.max / 2) == nil)
        #expect(GGUFTensorType.f32.byteCount(forValues: -4) == nil)
    }
}
