extension GGUFFile {
    /// What the REPL's `info` shows about the file, as (label, value) rows:
    /// format, architecture, name, file type, quantization mix, parameters, context length,
    /// chat template, tokenizer.
    public var summary: [(String, String)] {
        var rows: [(String, String)] = []
        rows.append(("format", "GGUF v\(version), \(tensors.count) tensors, \(metadata.count) metadata keys"))
        rows.append(("architecture", architecture ?? "(not set)"))
        rows.append(("name", metadata["general.name"]?.string ?? "(not set)"))
        if let ft = metadata["general.file_type"]?.int {
            rows.append(("file type", Self.fileTypeName(ft)))
        }
        rows.append(("quantization", quantizationMix))
        let params = parameterCount
        rows.append(("parameters", "\(Self.abbreviated(params)) (\(params))"))
        rows.append(("context length", architectureValue("context_length")?.int.map(String.init) ?? "(not set)"))
        if let t = metadata["tokenizer.chat_template"]?.string {
            rows.append(("chat template", "present (\(t.utf8.count) bytes)"))
        } else {
            rows.append(("chat template", "absent"))
        }
        var tok = metadata["tokenizer.ggml.model"]?.string ?? "(not set)"
        if let pre = metadata["tokenizer.ggml.pre"]?.string { tok += ", pre \(pre)" }
        if let n = metadata["tokenizer.ggml.tokens"]?.array?.count { tok += ", \(n) tokens" }
        rows.append(("tokenizer", tok))
        return rows
    }

    /// The number of tensors of each stored type, most common first: `Q4_1 ×210, F32 ×61, Q8_0 ×1`.
    public var quantizationMix: String {
        var counts: [GGUFTensorType: Int] = [:]
        for t in tensors { counts[t.type, default: 0] += 1 }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.key.name) ×\($0.value)" }.joined(separator: ", ")
    }

    /// The total number of values in all tensors.
    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.elementCount } }

    /// llama.cpp's name for a `general.file_type` value (`llama_ftype`): 3 is `MOSTLY_Q4_1`.
    static func fileTypeName(_ ft: Int) -> String {
        let names: [Int: String] = [
            0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 3: "MOSTLY_Q4_1", 7: "MOSTLY_Q8_0", 8: "MOSTLY_Q5_0",
            9: "MOSTLY_Q5_1", 10: "MOSTLY_Q2_K", 11: "MOSTLY_Q3_K_S", 12: "MOSTLY_Q3_K_M", 13: "MOSTLY_Q3_K_L",
            14: "MOSTLY_Q4_K_S", 15: "MOSTLY_Q4_K_M", 16: "MOSTLY_Q5_K_S", 17: "MOSTLY_Q5_K_M", 18: "MOSTLY_Q6_K",
            19: "MOSTLY_IQ2_XXS", 20: "MOSTLY_IQ2_XS", 21: "MOSTLY_Q2_K_S", 22: "MOSTLY_IQ3_XS",
            23: "MOSTLY_IQ3_XXS", 24: "MOSTLY_IQ1_S", 25: "MOSTLY_IQ4_NL", 26: "MOSTLY_IQ3_S", 27: "MOSTLY_IQ3_M",
            28: "MOSTLY_IQ2_S", 29: "MOSTLY_IQ2_M", 30: "MOSTLY_IQ4_XS", 31: "MOSTLY_IQ1_M", 32: "MOSTLY_BF16",
            36: "MOSTLY_TQ1_0", 37: "MOSTLY_TQ2_0", 38: "MOSTLY_MXFP4_MOE", 39: "MOSTLY_NVFP4", 40: "MOSTLY_Q1_0",
        ]
        return names[ft].map { "\($0) (\(ft))" } ?? "unknown (\(ft))"
    }

    /// 134515008 → `134.5M`.
    static func abbreviated(_ n: Int) -> String {
        let units: [(Double, String)] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")]
        for (scale, unit) in units where Double(n) >= scale {
            let v = (Double(n) / scale * 10).rounded() / 10
            return "\(v)\(unit)"
        }
        return "\(n)"
    }
}
