import Foundation

/// Reads a Hugging Face `config.json` into a `Decodable` config, turning decoding failures into one
/// line that names the file and the field.
enum ConfigFile {
    /// - Parameters:
    ///   - path: the `config.json`.
    ///   - family: for the message when a required key is missing ("is this a BERT config?").
    static func decode<T: Decodable>(_ type: T.Type, path: String, family: String) throws -> T {
        let data: Data
        do { data = try MappedFile.data(path: path) } catch {  // not Data(contentsOf:), which leaks on empty files
            throw StepwiseError.file(path, "cannot be read")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw StepwiseError.file(path, "has no '\(key.stringValue)' (is this a \(family) config?)")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw StepwiseError.file(path, "field '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw StepwiseError.file(path, "field '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' is null")
        } catch {
            throw StepwiseError.file(path, "is not valid JSON")
        }
    }
}
