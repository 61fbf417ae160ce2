import Foundation
import Testing
@testable import StepwiseKit

/// The reader on the real SmolLM2-135M-Instruct Q4_1 file, against gguf-py's values for the same file
/// (Fixtures/gguf/smollm2.json, made by tools/reference/make_gguf_fixtures.py).
@Suite("GGUF SmolLM2", .enabled(if: TestPaths.model("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") != nil, "needs the SmolLM2 GGUF under TestPaths.models"))
struct GGUFSmolLM2Tests {
    static let smolPath = "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

    static func open() throws -> GGUFFile {
        let url = try #require(TestPaths.model(smolPath))
        return try GGUFFile(path: url.path)
    }

    static func expected() throws -> [String: Any] {
        let url = TestPaths.fixtures.appendingPathComponent("gguf/smollm2.json")
        return try #require(try loadJSON(url) as? [String: Any])
    }

    @Test("metadata")
    func metadata() throws {
        let f = try Self.open()
        let want = try Self.expected()
        #expect(f.version == 3)
        #expect(f.metadata.count == want["kv_count"] as? Int)
        #expect(f.tensors.count == want["tensor_count"] as? Int)
        #expect(f.dataOffset == want["data_offset"] as? Int)
        #expect(f.alignment == 32)
        #expect(f["general.architecture"]?.string == "llama")
        #expect(f.architectureValue("block_count")?.int == 30)
        #expect(f["llama.attention.head_count"]?.int == 9)
        #expect(f["llama.attention.head_count_kv"]?.int == 3)
        #expect(f["llama.embedding_length"]?.int == 576)
        #expect(f["llama.feed_forward_length"]?.int == 1536)
        #expect(f["llama.context_length"]?.int == 8192)
        #expect(f["llama.rope.freq_base"]?.float == 100000)
        #expect(f["llama.attention.layer_norm_rms_epsilon"]?.float == Float(1e-5))
        #expect(f["tokenizer.ggml.model"]?.string == "gpt2")
        #expect(f["tokenizer.ggml.pre"]?.string == "smollm")
        let tokens = try #require(f["tokenizer.ggml.tokens"]?.strings)
        #expect(tokens.count == 49152)
        #expect(Array(tokens[0...2]) == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        #expect(f["tokenizer.ggml.merges"]?.strings?.count == 48900)
        #expect(f["tokenizer.ggml.token_type"]?.ints?.count == 49152)
        #expect(f["tokenizer.chat_template"]?.string?.contains("<|im_start|>") == true)
        #expect(f["tokenizer.ggml.add_bos_token"] == .bool(false))
        #expect(f["tokenizer.ggml.add_space_prefix"] == .bool(false))
        #expect(f["tokenizer.ggml.bos_token_id"] == .uint32(1))
        #expect(f["general.languages"]?.strings == ["en"])
        #expect(f.metadataKeys.first == "general.architecture")
    }

    @Test("tensor table and summary")
    func table() throws {
        let f = try Self.open()
        let want = try Self.expected()
        let counts = try #require(want["type_counts"] as? [String: Int])
        var got: [String: Int] = [:]
        for t in f.tensors { got[t.type.name, default: 0] += 1 }
        #expect(got == counts)
        #expect(f.parameterCount == want["parameters"] as? Int)
        #expect(f.tensorInfo("token_embd.weight") == WeightInfo(shape: [49152, 576], dtype: "Q8_0", byteCount: 30_081_024))
        #expect(f.tensorInfo("blk.0.attn_k.weight")?.shape == [192, 576])
        #expect(f.tensorInfo("blk.0.attn_k.weight")?.dtype == "Q4_1")
        #expect(!f.contains("output.weight"))
        let rows = Dictionary(uniqueKeysWithValues: f.summary)
        #expect(rows["architecture"] == "llama")
        #expect(rows["file type"] == "MOSTLY_Q4_1 (3)")
        #expect(rows["quantization"] == "Q4_1 ×210, F32 ×61, Q8_0 ×1")
        #expect(rows["context length"] == "8192")
        #expect(rows["chat template"]?.hasPrefix("present") == true)
        #expect(rows["tokenizer"] == "gpt2, pre smollm, 49152 tokens")
        #expect(rows["parameters"]?.hasPrefix("134.5M") == true)
    }

    @Test("dequantized tensors match gguf-py (first/last values, sum, L2 norm)")
    func values() throws {
        let f = try Self.open()
        let list = try #require(try Self.expected()["tensors"] as? [[String: Any]])
        #expect(list.count >= 5)
        for w in list {
            let name = w["name"] as! String
            let t = try f.tensor(name)
            #expect(t.shape == w["shape"] as? [Int], "\(name)")
            #expect(f.tensorInfo(name)?.dtype == w["type"] as? String)
            let first = (w["first"] as! [NSNumber]).map(\.floatValue)
            let last = (w["last"] as! [NSNumber]).map(\.floatValue)
            #expect(referenceError(Array(t.data.prefix(8)), first, tolerance: 1e-6).error == 0, "\(name) first values")
            #expect(referenceError(Array(t.data.suffix(8)), last, tolerance: 1e-6).error == 0, "\(name) last values")
            if t.rank == 2 {
                let row1 = (w["row1_first"] as! [NSNumber]).map(\.floatValue)
                #expect(Array(t.row(1).data.prefix(8)) == row1, "\(name) row 1")
            }
            var sum = 0.0, sq = 0.0
            for v in t.data { sum += Double(v); sq += Double(v) * Double(v) }
            let wantSum = (w["sum"] as! NSNumber).doubleValue, wantL2 = (w["l2"] as! NSNumber).doubleValue
            #expect(abs(sum - wantSum) <= 1e-6 * max(1, wantL2), "\(name) sum \(sum) vs \(wantSum)")
            #expect(abs(sq.squareRoot() - wantL2) <= 1e-9 * max(1, wantL2), "\(name) L2 \(sq.squareRoot()) vs \(wantL2)")
        }
    }

    @Test("all 272 tensors dequantize to finite values")
    func everything() throws {
        let f = try Self.open()
        var total = 0
        for name in f.tensorNames {
            let t = try f.tensor(name)
            #expect(t.data.allSatisfy { $0.isFinite }, "\(name) has non-finite values")
            total += t.count
        }
        #expect(total == f.parameterCount)
    }
}
