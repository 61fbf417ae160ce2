import Foundation
import Testing
@testable import StepwiseKit

/// One way to break a model folder: a name, what is done to the folder, and a fragment the error must hold.
struct FolderMutation: Sendable, CustomStringConvertible {
    /// What the case does, e.g. "safetensors: truncated to half".
    var name: String
    /// The file the error must name (relative to the folder; "" = the folder itself).
    var names: String
    /// A fragment of the expected message.
    var says: String
    /// The folder the case starts from.
    var base: Base = .gpt2
    var mutate: @Sendable (TempFolder) throws -> Void

    enum Base: Sendable { case gpt2, llama }

    var description: String { name }
}

private let weights = "model.safetensors"
private let config = "config.json"

/// Edits the fixture's safetensors header or data.
private func editWeights(_ t: TempFolder, _ body: (inout SafetensorsEdit) -> Void) throws {
    var e = try SafetensorsEdit(t.file(weights))
    body(&e)
    try e.write(t.file(weights))
}

/// Edits one field of config.json (nil removes it).
private func editConfig(_ t: TempFolder, _ key: String, _ value: Any?) throws {
    var c = try JSONSerialization.jsonObject(with: t.read(config)) as! [String: Any]
    c[key] = value
    try JSONSerialization.data(withJSONObject: c, options: [.sortedKeys]).write(to: t.file(config))
}

/// Rewrites config.json as text (for what JSONSerialization cannot write: duplicate keys, 300.5 exactly,
/// trailing text). The text given is the fixture's config re-serialised with sorted keys and no spaces.
private func rawConfig(_ t: TempFolder, _ edit: (String) -> String) throws {
    let c = try JSONSerialization.jsonObject(with: t.read(config))
    let text = String(decoding: try JSONSerialization.data(withJSONObject: c, options: [.sortedKeys]), as: UTF8.self)
    try t.write(config, edit(text))
}

/// Writes one float32 value into a tensor's data.
private func poison(_ t: TempFolder, _ tensor: String, index: Int, _ value: Float) throws {
    try editWeights(t) { e in
        let at = e.begin(tensor) + 4 * index
        withUnsafeBytes(of: value.bitPattern.littleEndian) { e.data.replaceSubrange(at..<(at + 4), with: $0) }
    }
}

private let wte = "transformer.wte.weight"

/// Leaves only the tokenizer files (no config.json, no weights): a tokenizer-only folder.
private func tokenizerOnly(_ t: TempFolder) throws {
    try FileManager.default.removeItem(at: t.file(config))
    try FileManager.default.removeItem(at: t.file(weights))
}

/// Replaces the safetensors header with `text` (for duplicates and bytes JSONSerialization cannot write).
private func rawHeader(_ t: TempFolder, _ edit: (String) -> String) throws {
    let e = try SafetensorsEdit(t.file(weights))
    let text = edit(String(decoding: try JSONSerialization.data(withJSONObject: e.header, options: [.sortedKeys]), as: UTF8.self))
    var out = Data()
    withUnsafeBytes(of: UInt64(text.utf8.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: Array(text.utf8))
    out.append(e.data)
    try out.write(to: t.file(weights))
}

/// Every case tried, one mutation each, applied to a loadable GPT-2 folder (tied-4h + a 267-piece BPE tokenizer).
let folderMutations: [FolderMutation] = [
    // MARK: safetensors
    FolderMutation(name: "safetensors: empty file", names: weights, says: "too short") { t in
        try Data().write(to: t.file(weights))
    },
    FolderMutation(name: "safetensors: truncated to half", names: weights, says: "truncated") { t in
        let d = try t.read(weights); try d.prefix(d.count / 2).write(to: t.file(weights))
    },
    FolderMutation(name: "safetensors: truncated inside the header", names: weights, says: "truncated") { t in
        try t.read(weights).prefix(100).write(to: t.file(weights))
    },
    FolderMutation(name: "safetensors: wrong magic (a GGUF file renamed)", names: weights, says: "implausible") { t in
        try Data(contentsOf: TestPaths.fixtures.appendingPathComponent("gguf/tiny.gguf")).write(to: t.file(weights))
    },
    FolderMutation(name: "safetensors: header length 2^64-1", names: weights, says: "implausible") { t in
        var d = try t.read(weights); d.replaceSubrange(0..<8, with: [UInt8](repeating: 0xFF, count: 8)); try d.write(to: t.file(weights))
    },
    FolderMutation(name: "safetensors: header is not JSON", names: weights, says: "not valid JSON") { t in
        var d = try t.read(weights); d[8] = UInt8(ascii: "#"); try d.write(to: t.file(weights))
    },
    FolderMutation(name: "safetensors: header is a JSON array", names: weights, says: "not a JSON object") { t in
        var d = Data(); withUnsafeBytes(of: UInt64(2).littleEndian) { d.append(contentsOf: $0) }; d.append(contentsOf: Array("[]".utf8))
        try d.write(to: t.file(weights))
    },
    FolderMutation(name: "safetensors: unknown dtype", names: weights, says: "dtype F8_E4M3") { t in
        try editWeights(t) { $0.set(wte, "dtype", "F8_E4M3") }
    },
    FolderMutation(name: "safetensors: dtype missing", names: weights, says: "has no dtype") { t in
        try editWeights(t) { $0.set(wte, "dtype", NSNull()) }
    },
    FolderMutation(name: "safetensors: negative dimension", names: weights, says: "malformed shape") { t in
        try editWeights(t) { $0.set(wte, "shape", [-300, 32]) }
    },
    FolderMutation(name: "safetensors: fractional dimension", names: weights, says: "malformed shape") { t in
        try editWeights(t) { $0.set(wte, "shape", [300.5, 32]) }
    },
    FolderMutation(name: "safetensors: shape overflows Int", names: weights, says: "overflows") { t in
        try editWeights(t) { $0.set(wte, "shape", [1 << 40, 1 << 40]) }
    },
    FolderMutation(name: "safetensors: shape times dtype size overflows", names: weights, says: "values) but") { t in
        try editWeights(t) { $0.set(wte, "shape", [1 << 31, 1 << 31]) }
    },
    FolderMutation(name: "safetensors: shape does not match the byte range", names: weights, says: "values) but") { t in
        try editWeights(t) { $0.set(wte, "shape", [301, 32]) }
    },
    FolderMutation(name: "safetensors: offsets past the end", names: weights, says: "data section has") { t in
        try editWeights(t) { e in let b = e.begin(wte); e.set(wte, "data_offsets", [b + 1_000_000, b + 1_000_000 + 38_400]) }
    },
    FolderMutation(name: "safetensors: offsets reversed", names: weights, says: "spans bytes") { t in
        try editWeights(t) { e in let b = e.begin(wte); e.set(wte, "data_offsets", [b + 38_400, b]) }
    },
    FolderMutation(name: "safetensors: negative offset", names: weights, says: "spans bytes") { t in
        try editWeights(t) { $0.set(wte, "data_offsets", [-4, 38_396]) }
    },
    FolderMutation(name: "safetensors: huge offsets (2^53)", names: weights, says: "malformed data_offsets") { t in
        try editWeights(t) { $0.set(wte, "data_offsets", [9_007_199_254_740_992, 9_007_199_254_740_992 + 38_400]) }
    },
    FolderMutation(name: "safetensors: three offsets", names: weights, says: "malformed data_offsets") { t in
        try editWeights(t) { $0.set(wte, "data_offsets", [0, 4, 8]) }
    },
    FolderMutation(name: "safetensors: two tensors overlap", names: weights, says: "overlap") { t in
        try editWeights(t) { e in
            let name = "transformer.ln_f.bias"
            e.set(name, "data_offsets", [e.begin(wte), e.begin(wte) + 128])
        }
    },
    FolderMutation(name: "safetensors: a tensor the model needs is missing", names: weights, says: "has no tensor 'transformer.ln_f.weight'") { t in
        try editWeights(t) { $0.header["transformer.ln_f.weight"] = nil }
    },
    FolderMutation(name: "safetensors: a tensor has the wrong shape for the config", names: weights, says: "the config implies [32]") { t in
        try editWeights(t) { $0.set("transformer.ln_f.bias", "shape", [4, 8]) }
    },
    FolderMutation(name: "safetensors: NaN in a weight", names: weights, says: "tensor 'transformer.h.1.mlp.c_fc.weight' has a non-finite value (nan)") { t in
        try poison(t, "transformer.h.1.mlp.c_fc.weight", index: 77, .nan)
    },
    FolderMutation(name: "safetensors: +Inf in the embedding", names: weights, says: "tensor 'transformer.wte.weight' has a non-finite value (inf)") { t in
        try poison(t, wte, index: 5, .infinity)
    },
    FolderMutation(name: "safetensors: -Inf in a bias", names: weights, says: "tensor 'transformer.ln_f.bias' has a non-finite value (-inf)") { t in
        try poison(t, "transformer.ln_f.bias", index: 31, -.infinity)
    },
    FolderMutation(name: "safetensors: a tensor name twice (Foundation kept one silently)", names: weights, says: "tensor 'transformer.ln_f.bias' appears twice in the header") { t in
        try rawHeader(t) { h in
            let start = h.range(of: "\"transformer.ln_f.bias\":")!.lowerBound
            let end = h[start...].range(of: "}")!.upperBound
            return String(h.dropLast()) + "," + h[start..<end] + "}"
        }
    },
    FolderMutation(name: "safetensors: __metadata__ value not a string", names: weights, says: "__metadata__.format is a number, expected a string") { t in
        try rawHeader(t) { "{\"__metadata__\": {\"format\": 1}, " + $0.dropFirst() }
    },
    FolderMutation(name: "safetensors: text after the header object", names: weights, says: "header is not valid JSON at byte") { t in
        try rawHeader(t) { $0 + "x" }
    },
    FolderMutation(name: "safetensors: header padded with spaces (as writers do) loads", names: weights, says: "has no tensor 'transformer.ln_f.weight'") { t in
        try rawHeader(t) { h in
            let start = h.range(of: "\"transformer.ln_f.weight\":")!.lowerBound
            let end = h[start...].range(of: "},")!.upperBound
            return String(h[..<start] + h[end...]) + "        "
        }
    },
    FolderMutation(name: "safetensors: missing", names: "", says: "has no model.safetensors") { t in
        try FileManager.default.removeItem(at: t.file(weights))
    },
    FolderMutation(name: "safetensors: a folder where the file should be", names: weights, says: weights) { t in
        try FileManager.default.removeItem(at: t.file(weights))
        try FileManager.default.createDirectory(at: t.file(weights), withIntermediateDirectories: false)
    },

    // MARK: config.json
    FolderMutation(name: "config: not JSON", names: config, says: "is not valid JSON at byte 2 (line 1, column 3): unexpected 'n', expected a key in quotes") { t in try t.write(config, "{ n_embd: 32") },
    FolderMutation(name: "config: empty", names: config, says: "is not valid JSON at byte 0 (line 1, column 1): unexpected end of the file") { t in try t.write(config, "") },
    FolderMutation(name: "config: a JSON array", names: config, says: "is an array, expected a JSON object") { t in try t.write(config, "[1]") },
    FolderMutation(name: "config: a duplicate key (Foundation kept one silently)", names: config, says: "key 'n_embd' appears twice in the top-level object (again at byte") { t in
        try rawConfig(t) { $0.replacingOccurrences(of: "\"n_embd\":32", with: "\"n_embd\":32,\n\"n_embd\":64") }
    },
    FolderMutation(name: "config: a duplicate key in a nested object", names: config, says: "key 'a' appears twice in 'task_specific_params'") { t in
        try rawConfig(t) { "{\"task_specific_params\": {\"a\": 1, \"a\": 2}, " + $0.dropFirst() }
    },
    FolderMutation(name: "config: vocab_size 300.5 (was 'not valid JSON')", names: config, says: "field 'vocab_size' is 300.5; it must be a whole number") { t in
        try rawConfig(t) { $0.replacingOccurrences(of: "\"vocab_size\":300", with: "\"vocab_size\":300.5") }
    },
    FolderMutation(name: "config: vocab_size 1e30", names: config, says: "field 'vocab_size' is 1e30; it must be a whole number that fits in 64 bits") { t in
        try rawConfig(t) { $0.replacingOccurrences(of: "\"vocab_size\":300", with: "\"vocab_size\":1e30") }
    },
    FolderMutation(name: "config: vocab_size 300.0 is whole", names: weights, says: "has no tensor") { t in
        try rawConfig(t) { $0.replacingOccurrences(of: "\"vocab_size\":300", with: "\"vocab_size\":300.0") }
        try editWeights(t) { $0.header["transformer.ln_f.weight"] = nil }
    },
    FolderMutation(name: "config: layer_norm_epsilon beyond float32", names: config, says: "field 'layer_norm_epsilon' is 1e39, which does not fit in a 32-bit float") { t in
        try editConfig(t, "layer_norm_epsilon", nil)
        try rawConfig(t) { "{\"layer_norm_epsilon\": 1e39, " + $0.dropFirst() }
    },
    FolderMutation(name: "config: model_type a number", names: config, says: "field 'model_type' has the wrong type: it is 2, expected a string") { t in try editConfig(t, "model_type", 2) },
    FolderMutation(name: "config: text after the object", names: config, says: "unexpected text after the end of the JSON value") { t in
        try rawConfig(t) { $0 + " {}" }
    },
    FolderMutation(name: "config: nested 10,000 deep", names: config, says: "nested more than 64 deep") { t in
        try rawConfig(t) { "{\"x\": " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + ", " + $0.dropFirst() }
    },
    FolderMutation(name: "config: invalid UTF-8 in a string", names: config, says: "the string is not valid UTF-8") { t in
        var d = Data("{\"model_type\": \"gpt".utf8); d.append(0xFF); d.append(contentsOf: Array("\"}".utf8)); try d.write(to: t.file(config))
    },
    FolderMutation(name: "config: a lone surrogate escape", names: config, says: "a lone low surrogate") { t in
        try rawConfig(t) { "{\"name\": \"\\udc00\", " + $0.dropFirst() }
    },
    FolderMutation(name: "config: no model_type", names: config, says: "has no model_type") { t in try editConfig(t, "model_type", nil) },
    FolderMutation(name: "config: unknown model_type", names: config, says: "model_type 'mamba' is not supported") { t in try editConfig(t, "model_type", "mamba") },
    FolderMutation(name: "config: n_embd missing", names: config, says: "has no 'n_embd'") { t in try editConfig(t, "n_embd", nil) },
    FolderMutation(name: "config: n_embd a string", names: config, says: "'n_embd' has the wrong type") { t in try editConfig(t, "n_embd", "32") },
    FolderMutation(name: "config: n_embd not the weights' width", names: weights, says: "has shape [300, 32], the config implies [300, 64]") { t in try editConfig(t, "n_embd", 64) },
    FolderMutation(name: "config: n_head does not divide n_embd", names: config, says: "n_head 5 does not divide n_embd 32") { t in try editConfig(t, "n_head", 5) },
    FolderMutation(name: "config: n_head zero", names: config, says: "n_head 0 does not divide") { t in try editConfig(t, "n_head", 0) },
    FolderMutation(name: "config: vocab_size negative", names: config, says: "vocab_size -1 is impossible") { t in try editConfig(t, "vocab_size", -1) },
    FolderMutation(name: "config: vocab_size huge", names: config, says: "vocab_size 9223372036854775807 is impossible") { t in try editConfig(t, "vocab_size", Int.max) },
    FolderMutation(name: "config: n_positions 10^9", names: config, says: "n_positions 1000000000 is impossible") { t in try editConfig(t, "n_positions", 1_000_000_000) },
    FolderMutation(name: "config: n_layer more than the weights hold", names: weights, says: "has no tensor 'transformer.h.2.ln_1.weight'") { t in try editConfig(t, "n_layer", 3) },
    FolderMutation(name: "config: n_inner overflowing", names: config, says: "n_inner") { t in try editConfig(t, "n_inner", Int.max) },
    FolderMutation(name: "config: unknown activation", names: config, says: "activation_function 'swish2' is not supported") { t in try editConfig(t, "activation_function", "swish2") },
    FolderMutation(name: "config: vocab_size below the tokenizer's ids (checked while reading vocab.json)", names: "vocab.json", says: "but config.json's vocab_size is 200: the tokenizer files and config.json do not belong together") { t in try editConfig(t, "vocab_size", 200) },
    FolderMutation(name: "config: vocab_size not the weights'", names: weights, says: "has shape [300, 32], the config implies [400, 32]") { t in try editConfig(t, "vocab_size", 400) },
    FolderMutation(name: "config: bert with no hidden_size", names: config, says: "has no 'hidden_size'") { t in
        try editConfig(t, "model_type", "bert"); try t.write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\n")
    },
    FolderMutation(name: "config: llama over GPT-2 weights", names: config, says: "has no") { t in try editConfig(t, "model_type", "llama") },

    // MARK: config.json (Llama: the tiny-random fixture + the same tokenizer)
    FolderMutation(name: "llama config: num_attention_heads 0", names: config, says: "num_attention_heads is 0; it must be positive", base: .llama) { t in
        try editConfig(t, "num_attention_heads", 0); try editConfig(t, "head_dim", nil)
    },
    FolderMutation(name: "llama config: num_key_value_heads 0", names: config, says: "num_key_value_heads is 0", base: .llama) { t in
        try editConfig(t, "num_key_value_heads", 0)
    },
    FolderMutation(name: "llama config: heads not a multiple of kv heads", names: config, says: "4 attention heads are not a multiple of 3 key/value heads", base: .llama) { t in
        try editConfig(t, "num_key_value_heads", 3)
    },
    FolderMutation(name: "llama config: heads × head_dim overflows", names: config, says: "num_attention_heads is 4294967296", base: .llama) { t in
        try editConfig(t, "num_attention_heads", 1 << 32); try editConfig(t, "num_key_value_heads", 1 << 32); try editConfig(t, "head_dim", 1 << 32)
    },
    FolderMutation(name: "llama config: head_dim odd", names: config, says: "head_dim 15 is odd", base: .llama) { t in
        try editConfig(t, "head_dim", 15)
    },
    FolderMutation(name: "llama config: rms_norm_eps 0", names: config, says: "rms_norm_eps 0.0", base: .llama) { t in
        try editConfig(t, "rms_norm_eps", 0)
    },
    FolderMutation(name: "llama config: hidden_size not the weights'", names: weights, says: "the config implies", base: .llama) { t in
        try editConfig(t, "hidden_size", 32); try editConfig(t, "head_dim", 8)
    },
    FolderMutation(name: "llama config: vocab_size not the weights'", names: weights, says: "the config implies", base: .llama) { t in
        try editConfig(t, "vocab_size", 97)
    },
    FolderMutation(name: "llama weights: NaN in a norm", names: weights, says: "tensor 'model.norm.weight' has a non-finite value (nan) at flat index 1", base: .llama) { t in
        // The Llama fixture is float16: a float32 NaN's high half (0x7FC0) lands in element 1.
        try poison(t, "model.norm.weight", index: 0, .nan)
    },

    // MARK: tokenizer files
    FolderMutation(name: "vocab.json: not JSON", names: "vocab.json", says: "is not valid JSON") { t in try t.write("vocab.json", "{\"a\": 1,") },
    FolderMutation(name: "vocab.json: a JSON array", names: "vocab.json", says: "is not a JSON object") { t in try t.write("vocab.json", "[\"a\"]") },
    FolderMutation(name: "vocab.json: negative id", names: "vocab.json", says: "has no valid id") { t in try t.write("vocab.json", "{\"a\": -1}") },
    FolderMutation(name: "vocab.json: id 2^62", names: "vocab.json", says: "has no valid id") { t in try t.write("vocab.json", "{\"a\": 4611686018427387904}") },
    FolderMutation(name: "vocab.json: sparse ids (a 30-byte file asking for a 10M-entry table), no model", names: "vocab.json", says: "ids run up to 9999999 but there are only 2 pieces") { t in
        try tokenizerOnly(t); try t.write("vocab.json", "{\"a\": 0, \"b\": 9999999}")
    },
    FolderMutation(name: "vocab.json: an id beyond config.json's vocab_size stops the read there", names: "vocab.json", says: "'b' has id 9999999, but config.json's vocab_size is 300") { t in
        try t.write("vocab.json", "{\"a\": 0, \"b\": 9999999}")
    },
    FolderMutation(name: "vocab.json: a piece twice (Foundation kept one silently)", names: "vocab.json", says: "the piece 'a' appears twice in the vocabulary") { t in
        try t.write("vocab.json", "{\"a\": 0, \"a\": 1}")
    },
    FolderMutation(name: "vocab.json: id 1.5", names: "vocab.json", says: "'a' has no valid id: 1.5 is not an id") { t in try t.write("vocab.json", "{\"a\": 1.5}") },
    FolderMutation(name: "vocab.json: id a string", names: "vocab.json", says: "'a' is a string, expected an id") { t in try t.write("vocab.json", "{\"a\": \"0\"}") },
    FolderMutation(name: "vocab.json: two pieces share an id", names: "vocab.json", says: "is given to two pieces") { t in try t.write("vocab.json", "{\"a\": 0, \"b\": 0}") },
    FolderMutation(name: "vocab.json: more pieces than the model", names: "vocab.json", says: "but config.json's vocab_size is 300: the tokenizer files and config.json do not belong together") { t in
        var v = try JSONSerialization.jsonObject(with: t.read("vocab.json")) as! [String: Int]
        for i in 0..<100 { v["extra\(i)"] = 267 + i }
        try JSONSerialization.data(withJSONObject: v).write(to: t.file("vocab.json"))
    },
    FolderMutation(name: "merges.txt: a line with one piece", names: "merges.txt", says: "line 3 'he' is not two pieces") { t in
        try t.write("merges.txt", "#version: 0.2\nĠ t\nhe\n")
    },
    FolderMutation(name: "merges.txt: a piece not in the vocabulary", names: "merges.txt", says: "is not in the vocabulary") { t in
        try t.write("merges.txt", "#version: 0.2\nĠ zzz\n")
    },
    FolderMutation(name: "merges.txt: not UTF-8", names: "merges.txt", says: "UTF-8") { t in
        try Data([0x23, 0xFF, 0xFE, 0x0A]).write(to: t.file("merges.txt"))
    },
    FolderMutation(name: "merges.txt: missing", names: "", says: "has weights but no tokenizer files") { t in
        try FileManager.default.removeItem(at: t.file("merges.txt"))
    },
    FolderMutation(name: "tokenizer.json: not JSON (preferred over vocab.json)", names: "tokenizer.json", says: "is not valid JSON") { t in
        try t.write("tokenizer.json", "\u{FEFF}{{")
    },
    FolderMutation(name: "tokenizer.json: empty file (leaked 4 KB in Foundation, fuzzer find)", names: "tokenizer.json", says: "is not valid JSON") { t in
        try t.write("tokenizer.json", "")
    },
    FolderMutation(name: "tokenizer.json: no model", names: "tokenizer.json", says: "has no \"model\" object") { t in try t.write("tokenizer.json", "{}") },
    FolderMutation(name: "tokenizer.json: Unigram model with an empty vocabulary", names: "tokenizer.json", says: "model.vocab is empty") { t in
        try t.write("tokenizer.json", "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}")
    },
    FolderMutation(name: "tokenizer.json: vocab id out of range", names: "tokenizer.json", says: "is not an id in") { t in
        try t.write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 99999999999}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}")
    },
    FolderMutation(name: "tokenizer.json: sparse ids, no model", names: "tokenizer.json", says: "ids run up to 9999998 but there are only 2 pieces") { t in
        try tokenizerOnly(t); try t.write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"added_tokens\": [{\"id\": 9999998, \"content\": \"<s>\"}], \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}")
    },
    FolderMutation(name: "tokenizer.json: merge that is a number", names: "tokenizer.json", says: "merge 0 is neither") { t in
        try t.write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [7]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}")
    },
    FolderMutation(name: "tokenizer.json: an added token beyond config.json's vocab_size", names: "tokenizer.json", says: "added token '<s>' has id 300, but config.json's vocab_size is 300") { t in
        try t.write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"added_tokens\": [{\"id\": 300, \"content\": \"<s>\"}], \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}")
    },
    FolderMutation(name: "tokenizer.json: a vocabulary id that is a string", names: "tokenizer.json", says: "model.vocab['a'] is a string, expected an id (a whole number)") { t in
        try t.write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"0\"}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}")
    },
    FolderMutation(name: "tokenizer.json: a duplicate top-level key", names: "tokenizer.json", says: "key 'model' appears twice in the file") { t in
        try t.write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"model\": {}}")
    },
    FolderMutation(name: "tokenizer.json: a duplicate key in the pre-tokenizer", names: "tokenizer.json", says: "key 'type' appears twice in 'pre_tokenizer'") { t in
        try t.write("tokenizer.json", "{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"type\": \"Whitespace\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}")
    },
    FolderMutation(name: "tokenizer.json: a merge pair of numbers", names: "tokenizer.json", says: "merge 0 is neither") { t in
        try t.write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [[1, 2]]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}")
    },
    FolderMutation(name: "vocab.txt: more lines than config.json's vocab_size (BERT)", names: "vocab.txt", says: "has 301 pieces, but config.json's vocab_size is 300") { t in
        try FileManager.default.removeItem(at: t.file("vocab.json")); try FileManager.default.removeItem(at: t.file("merges.txt"))
        try editConfig(t, "model_type", "bert"); try editConfig(t, "vocab_size", 300)
        try t.write("vocab.txt", (0..<301).map { "p\($0)" }.joined(separator: "\n") + "\n")
    },
    FolderMutation(name: "vocab.txt: empty (WordPiece when there is no vocab.json)", names: "vocab.txt", says: "is empty") { t in
        try FileManager.default.removeItem(at: t.file("vocab.json")); try FileManager.default.removeItem(at: t.file("merges.txt"))
        try t.write("vocab.txt", "")
    },
    FolderMutation(name: "vocab.txt: not UTF-8", names: "vocab.txt", says: "is not UTF-8 text") { t in
        try FileManager.default.removeItem(at: t.file("vocab.json")); try FileManager.default.removeItem(at: t.file("merges.txt"))
        try Data([0x61, 0x0A, 0xC3, 0x28]).write(to: t.file("vocab.txt"))
    },
]

@Suite("Hostile model files")
struct HostileModelFileTests {
    @Test("the base folder loads, so each case fails for its one mutation")
    func baseLoads() throws {
        let t = try HostileFixtures.gpt2Folder()
        guard case .model(let m) = try ModelLoader.load(t.path) else { Issue.record("expected a model"); return }
        #expect(m.info.family == "gpt2")
        #expect(try m.tokenizer.encode(" the cat sat") == [258, 261, 263])
    }

    @Test("the Llama base folder loads")
    func llamaBaseLoads() throws {
        let t = try HostileFixtures.llamaFolder()
        guard case .model(let m) = try ModelLoader.load(t.path) else { Issue.record("expected a model"); return }
        #expect(m.info.family == "llama")
    }

    @Test("a broken model folder is one StepwiseError naming the file and what is wrong", arguments: folderMutations)
    func brokenFolder(_ c: FolderMutation) throws {
        let t = try c.base == .gpt2 ? HostileFixtures.gpt2Folder() : HostileFixtures.llamaFolder()
        try expectBrokenFolder(c, t)
    }

    /// What real tools accept is accepted (issue 16, item 7): Python's text mode reads CRLF files and
    /// Foundation (like RFC 8259's "may ignore") skips a UTF-8 byte-order mark at the start of JSON.
    @Test("a BOM at the start of config.json, vocab.json and merges.txt, and CRLF line ends in merges.txt, are accepted")
    func bomAndCRLFAccepted() throws {
        let t = try HostileFixtures.gpt2Folder()
        let bom = Data([0xEF, 0xBB, 0xBF])
        for name in [config, "vocab.json"] { try (bom + t.read(name)).write(to: t.file(name)) }
        let merges = String(decoding: try t.read("merges.txt"), as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n")
        try (bom + Data(merges.utf8)).write(to: t.file("merges.txt"))
        guard case .model(let m) = try ModelLoader.load(t.path) else { Issue.record("expected a model"); return }
        #expect(try m.tokenizer.encode(" the cat sat") == [258, 261, 263])
    }

    @Test("a tokenizer.json with a BOM loads like the one without")
    func tokenizerJSONBOM() throws {
        let t = try TempFolder()
        let plain = try TempFolder()
        let text = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [\"a b\"]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}"
        try plain.write("tokenizer.json", text)
        try (Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)).write(to: t.file("tokenizer.json"))
        #expect(try ByteLevelBPE.load(folder: t.path).encode("ab") == ByteLevelBPE.load(folder: plain.path).encode("ab"))
    }

    /// Swift's `split(separator: "\n")` does not split `"\r\n"` (one Character): a CRLF vocab.txt was one line.
    @Test("a vocab.txt with CRLF line ends (and a BOM) gives the same vocabulary as with LF")
    func vocabTxtCRLF() throws {
        let lines = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "##s"]
        let t = try TempFolder()
        try t.write("lf.txt", lines.joined(separator: "\n") + "\n")
        try (Data([0xEF, 0xBB, 0xBF]) + Data((lines.joined(separator: "\r\n") + "\r\n").utf8)).write(to: t.file("crlf.txt"))
        let lf = try WordPiece(vocabFile: t.file("lf.txt").path), crlf = try WordPiece(vocabFile: t.file("crlf.txt").path)
        #expect(crlf.vocabulary == lines)
        #expect(crlf.vocabulary == lf.vocabulary)
        #expect(try crlf.encode("the cats") == [5, 6, 7])
    }

    /// Finite weights whose products overflow float32 (`p = -nan` in `prompt` before): the pass stops at
    /// the first step holding a non-finite value, and the session keeps its previous prompt.
    @Test("a forward pass that overflows names the first non-finite step, and prompt fails on one line")
    func overflowingWeights() throws {
        let t = try HostileFixtures.gpt2Folder()
        try editWeights(t) { e in
            let b = e.begin(wte)
            for i in 0..<(300 * 32) {
                let at = b + 4 * i
                let v = e.data.subdata(in: at..<(at + 4)).withUnsafeBytes { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
                withUnsafeBytes(of: (v * 1e30).bitPattern.littleEndian) { e.data.replaceSubrange(at..<(at + 4), with: $0) }
            }
        }
        var s = Session()
        try s.load(path: t.path)  // every weight is finite: the load succeeds
        let interp = StandardCommands.interpreter()
        guard case .failure(let line) = interp.execute("prompt the cat", in: &s, context: CommandContext()) else {
            Issue.record("prompt should fail"); return
        }
        #expect(line.contains("the forward pass went non-finite at step blocks.0.ln1.hook_scale (inf at pos 0 "), "\(line)")
        #expect(!line.contains("\n"))
        #expect(s.promptText == nil && s.trace == nil)
    }

    @Test("logits that overflow are an error on the fast (untraced) path too")
    func overflowingLogits() throws {
        let t = try HostileFixtures.gpt2Folder()
        // The final norm's weight at the largest finite float: ln_final.hook_out overflows.
        for i in 0..<32 { try poison(t, "transformer.ln_f.weight", index: i, .greatestFiniteMagnitude) }
        guard case .model(let m) = try ModelLoader.load(t.path) else { Issue.record("expected a model"); return }
        let fast = try #require(expectStepwiseError { _ = try m.forward([258, 261], cache: nil, options: ForwardOptions(record: false)) })
        #expect(fast.message.contains("the forward pass went non-finite in the logits ("), "\(fast.message)")
        let traced = try #require(expectStepwiseError { _ = try m.forward([258, 261], cache: nil, options: ForwardOptions()) })
        #expect(traced.message.contains("went non-finite at step ln_final.hook_out"), "\(traced.message)")
    }

    @Test("masked attention scores (-inf by design) do not count as non-finite")
    func maskedScoresAreFine() throws {
        let t = try HostileFixtures.gpt2Folder()
        guard case .model(let m) = try ModelLoader.load(t.path) else { Issue.record("expected a model"); return }
        let trace = try m.forward([258, 261, 263], cache: nil, options: ForwardOptions())
        #expect(trace["blocks.0.attn.hook_attn_scores"]?.tensor.data.contains(-.infinity) == true)
    }

    @Test("a failing load leaves the session as it was")
    func sessionKeptOnFailedLoad() throws {
        let good = try HostileFixtures.gpt2Folder()
        var s = Session()
        try s.load(path: good.path)
        let interp = StandardCommands.interpreter()
        _ = interp.execute("prompt the cat", in: &s, context: CommandContext())
        let bad = try HostileFixtures.gpt2Folder()
        try poison(bad, wte, index: 0, .nan)
        let before = (s.source, s.promptText, s.ids, s.cursor)
        guard case .failure(let line) = interp.execute("load \(bad.path)", in: &s, context: CommandContext()) else {
            Issue.record("loading a NaN model should fail"); return
        }
        #expect(line.contains("non-finite"))
        #expect(s.source == before.0 && s.promptText == before.1 && s.ids == before.2 && s.cursor == before.3)
    }
}
