import ArgumentParser
import StepwiseKit

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure matmul throughput, model load, traced forward passes, generation and peak memory.")

    @Option(name: .long, help: "The model to measure (default: the built-in model).")
    var model: String?

    @Option(name: .long, help: "Timed runs per measurement (the median is reported).")
    var runs: Int = 5

    func run() throws {
        #if DEBUG
        Console.error("warning: this is a debug build; numbers are 10-100x slower than 'swift run -c release stepwise bench'")
        #endif
        let shapes = [(32, 576, 576), (32, 1536, 576), (32, 576, 1536), (1, 1536, 576), (128, 512, 128), (32, 49152, 576)]
        Benchmarks.format(Benchmarks.matmul(shapes: shapes.map { (m: $0.0, n: $0.1, k: $0.2) }, runs: runs)).forEach(Console.print)
        do {
            Benchmarks.format(try Benchmarks.model(path: model, runs: runs)).forEach(Console.print)
        } catch let e as StepwiseError {
            Console.error("error: \(e.message)")
            throw ExitCode(1)
        }
    }
}
