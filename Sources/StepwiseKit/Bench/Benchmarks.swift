import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Measurements for `stepwise bench`: matmul throughput, load time, traced forward passes and
/// generation, each the median of several runs after a warm-up, in whatever build it runs in (use a
/// release build: debug Swift is 10-100x slower).
public enum Benchmarks {
    /// One measured quantity.
    public struct Result: Sendable, Codable {
        /// A stable identifier for scripts, e.g. `matmul.32x576x576`, `forward.32`, `generate`.
        public var key: String
        public var name: String
        public var value: Double
        public var unit: String
        public var detail: String
    }

    /// Median wall time of `runs` calls after one warm-up call.
    static func median(runs: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    /// `x[m, k] · W[n, k]ᵀ` throughput at the given shapes, twice each: `MatMul.abT` with `W` as it is
    /// (packed a k-block at a time on every call, like a BLAS `sgemm`), and ``PackedMatrix`` (packed once,
    /// what the models' projections use). Then the block-format matrix-vector products
    /// (``blockMatvec(rows:columns:runs:)``). Every line names the kernel variant (``KernelISA``).
    public static func matmul(shapes: [(m: Int, n: Int, k: Int)], runs: Int = 7) -> [Result] {
        var rng = SplitMix64(seed: 1)
        let isa = KernelISA.selected
        var results: [Result] = []
        for s in shapes {
            let a = (0..<(s.m * s.k)).map { _ in rng.nextFloat() - 0.5 }
            let b = (0..<(s.n * s.k)).map { _ in rng.nextFloat() - 0.5 }
            let flops = 2 * Double(s.m * s.n * s.k)
            let t = median(runs: runs) { _ = MatMul.abT(a: a, b: b, m: s.m, n: s.n, k: s.k) }
            results.append(Result(key: "matmul.\(s.m)x\(s.k)x\(s.n)", name: "matmul \(s.m)x\(s.k) · \(s.k)x\(s.n)", value: flops / t / 1e9,
                                  unit: "GFLOP/s", detail: String(format: "%.3f ms, %@", t * 1000, isa.rawValue)))
            let x = Tensor(shape: [s.m, s.k], data: a)
            let packed = PackedMatrix(Tensor(shape: [s.n, s.k], data: b))
            let tp = median(runs: runs) { _ = packed.linear(x) }
            results.append(Result(key: "packed.\(s.m)x\(s.k)x\(s.n)", name: "  pre-packed weights", value: flops / tp / 1e9,
                                  unit: "GFLOP/s", detail: String(format: "%.3f ms, %@", tp * 1000, isa.rawValue)))
            // The same product from weights as a GGUF stores them (what the models use), converted as it multiplies.
            guard s.m > StoredMatrix.vectorRows else { continue }
            for format in [StoredMatrix.Format.q4_1, .q8_0] where s.k % format.blockValues == 0 {
                let bytes = blockBytes(format, rows: s.n, columns: s.k, rng: &rng)
                let stored = bytes.withUnsafeBytes { StoredMatrix(format: format, rows: s.n, columns: s.k, bytes: $0) }
                let ts = median(runs: runs) { _ = stored.linear(x) }
                results.append(Result(key: "stored.\(format.rawValue).\(s.m)x\(s.k)x\(s.n)", name: "  \(format.ggufType.name) weights",
                                      value: flops / ts / 1e9, unit: "GFLOP/s", detail: String(format: "%.3f ms, %@", ts * 1000, isa.rawValue)))
            }
        }
        return results + blockMatvec(runs: runs)
    }

    /// One token's product with a block-format matrix of every format (`[1, columns] · [columns, rows]`):
    /// bytes of weights streamed per second. The default shape is Gemma 3 270M's feed-forward down
    /// projection (2048 columns: a whole number of 256-value K blocks).
    public static func blockMatvec(rows: Int = 640, columns: Int = 2048, runs: Int = 7) -> [Result] {
        var rng = SplitMix64(seed: 3)
        let x = Tensor(shape: [1, columns], data: (0..<columns).map { _ in rng.nextFloat() - 0.5 })
        return StoredMatrix.Format.blockFormats.map { format in
            let bytes = blockBytes(format, rows: rows, columns: columns, rng: &rng)
            let q = bytes.withUnsafeBytes { StoredMatrix(format: format, rows: rows, columns: columns, bytes: $0) }
            let t = median(runs: runs * 3) { _ = q.linear(x) }
            return Result(key: "matvec.\(format.rawValue).\(columns)x\(rows)", name: "matvec \(format.ggufType.name) 1x\(columns) · \(columns)x\(rows)",
                          value: Double(bytes.count) / t / 1e9, unit: "GB/s",
                          detail: String(format: "%.1f µs, %.1f GFLOP/s, %@", t * 1e6, 2 * Double(rows * columns) / t / 1e9, KernelISA.selected.rawValue))
        }
    }

    /// Random codes with float16 scales of 2^-10 (finite and small whatever the scale bytes hold).
    static func blockBytes(_ format: StoredMatrix.Format, rows: Int, columns: Int, rng: inout SplitMix64) -> [UInt8] {
        let blocks = rows * columns / format.blockValues
        var bytes = (0..<(blocks * format.blockBytes)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let scaleOffsets = format == .q6_K ? [208] : format.hasMin ? [0, 2] : [0]
        for b in 0..<blocks { for o in scaleOffsets { bytes[b * format.blockBytes + o] = 0; bytes[b * format.blockBytes + o + 1] = 0x14 } }
        return bytes
    }

    /// Load time, traced forward passes at several prompt lengths, and generation with the KV cache.
    ///
    /// The first measurement is the load itself and the first traced forward pass right after it
    /// (`load to first prompt`, what a user waits for before the REPL can show a step).
    public static func model(path: String?, promptLengths: [Int] = [8, 32, 128], generate: Int = 32, runs: Int = 5) throws -> [Result] {
        var results: [Result] = []
        let t0 = DispatchTime.now().uptimeNanoseconds
        let loaded = try ModelLoader.load(path)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        guard case .model(let model) = loaded else {
            throw StepwiseError.usage("bench needs a model, not only a tokenizer")
        }
        results.append(Result(key: "load", name: "load \(model.info.name)", value: loadSeconds * 1000, unit: "ms",
                              detail: "cold, includes the tokenizer; kernels \(KernelISA.selected) (\(KernelISA.selection.reason))"))
        let ctx = model.info.contextLength ?? Int.max
        var rng = SplitMix64(seed: 7)
        let vocab = model.info.vocabularySize
        let firstIDs = (0..<min(8, ctx)).map { _ in Int(rng.next() % UInt64(vocab)) }
        _ = try model.trace(firstIDs)
        let firstSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        results.append(Result(key: "load_to_first_prompt", name: "load to first traced prompt", value: firstSeconds * 1000, unit: "ms",
                              detail: "load + one traced \(firstIDs.count)-token forward pass"))
        for n in promptLengths where n <= ctx {
            let ids = (0..<n).map { _ in Int(rng.next() % UInt64(vocab)) }
            var steps = 0
            let t = try median(runs: runs) { steps = try model.trace(ids).steps.count }
            results.append(Result(key: "forward.\(n)", name: "traced forward, \(n) tokens", value: Double(n) / t, unit: "tokens/s",
                                  detail: String(format: "%.2f ms, %d steps recorded", t * 1000, steps)))
        }
        if generate > 0, model.info.isCausal {
            let prompt = (0..<min(8, ctx / 2)).map { _ in Int(rng.next() % UInt64(vocab)) }
            let n = min(generate, ctx - prompt.count)
            let t = try median(runs: max(1, runs / 2)) {
                let cache = model.makeCache()
                var options = ForwardOptions(record: false)
                options.lastLogitsOnly = true  // as the generator asks
                var row = try model.forward(prompt, cache: cache, options: options).logitsRow()!.data
                for _ in 0..<n {
                    let next = row.indices.max { row[$0] < row[$1] }!
                    row = try model.forward([next], cache: cache, options: options).logitsRow()!.data
                }
            }
            results.append(Result(key: "generate", name: "generation with KV cache", value: Double(n) / t, unit: "tokens/s",
                                  detail: "\(n) greedy tokens after an \(prompt.count)-token prompt, untraced"))
        }
        results.append(Result(key: "peak_rss", name: "peak memory", value: Double(peakResidentBytes()) / 1_048_576, unit: "MiB", detail: "maximum resident set size"))
        return results
    }

    /// The process's peak resident set size in bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    /// Results as one JSON object: `{"results": [{"key", "name", "value", "unit", "detail"}, ...]}`.
    public static func json(_ results: [Result]) -> String {
        struct Document: Codable { var results: [Result] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = (try? encoder.encode(Document(results: results))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Results as aligned lines.
    public static func format(_ results: [Result]) -> [String] {
        let w = results.map(\.name.count).max() ?? 0
        return results.map { r in
            r.name.padding(toLength: w, withPad: " ", startingAt: 0) + "  "
                + String(format: "%10.1f", r.value) + " " + r.unit.padding(toLength: 9, withPad: " ", startingAt: 0) + "  " + r.detail
        }
    }
}
