import ArgumentParser
import StepwiseKit

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure matmul throughput, model load, traced forward passes, generation and peak memory.",
        discussion: "Each number is the median of --runs timed runs after a warm-up. Use a release build.")

    @Option(name: .long, help: "The model to measure (default: the built-in model).")
    var model: String?

    @Option(name: .long, help: "Timed runs per measurement (the median is reported).")
    var runs: Int = 5

    @Option(name: .long, help: "Prompt lengths for the traced forward pass, comma-separated.")
    var prompts: String = "8,32,128"

    @Option(name: .long, help: "Tokens to generate with the KV cache (0: skip).")
    var generate: Int = 32

    @Flag(name: .long, inversion: .prefixedNo, help: "Measure the matmul kernel at the model shapes.")
    var matmul: Bool = true

    @Flag(name: .long, inversion: .prefixedNo, help: "Measure the model (load, forward, generation).")
    var modelBench: Bool = true

    @Flag(name: .long, help: "Print the results as JSON.")
    var json: Bool = false

    func run() throws {
        #if DEBUG
        Console.error("warning: this is a debug build; numbers are 10-100x slower than 'swift run -c release stepwise bench'")
        #endif
        let lengths = prompts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard lengths.allSatisfy({ $0 > 0 }), runs > 0, generate >= 0 else {
            Console.error("error: --prompts needs positive lengths, --runs a positive count, --generate a count >= 0")
            throw ExitCode(2)
        }
        var results: [Benchmarks.Result] = []
        if matmul {
            // SmolLM2-135M shapes: q/o projections, k/v, gate/up, down, one-token GEMV, attention, LM head;
            // then 1024³, the usual BLAS yardstick.
            let shapes = [(32, 576, 576), (32, 192, 576), (32, 1536, 576), (32, 576, 1536), (1, 1536, 576), (1, 576, 1536),
                          (128, 512, 128), (32, 49152, 576), (1, 49152, 576), (1024, 1024, 1024)]
            results += Benchmarks.matmul(shapes: shapes.map { (m: $0.0, n: $0.1, k: $0.2) }, runs: runs)
            if !json { Benchmarks.format(results).forEach(Console.print) }
        }
        if modelBench {
            do {
                let r = try Benchmarks.model(path: model, promptLengths: lengths, generate: generate, runs: runs)
                if !json { Benchmarks.format(r).forEach(Console.print) }
                results += r
            } catch let e as StepwiseError {
                Console.error("error: \(e.message)")
                throw ExitCode(1)
            }
        }
        if json { Console.print(Benchmarks.json(results)) }
    }
}
