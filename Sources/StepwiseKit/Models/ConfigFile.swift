import Foundation

/// Reads a Hugging Face `config.json` into a `Decodable` config through ``JSONReader`` (strict: duplicate
/// keys, numbers that are not whole, trailing text are errors), turning failures into one line that names
/// the file and the field.
enum ConfigFile {
    /// - Parameters:
    ///   - path: the `config.json`.
    ///   - family: for the message when a required key is missing ("is this a BERT config?").
    static func decode<T: Decodable>(_ type: T.Type, path: String, family: String) throws -> T {
        let root = try read(path)
        do {
            return try T(from: JSONValueDecoder(value: root, path: path))
        } catch let e as StepwiseError {
            throw e
        } catch let DecodingError.keyNotFound(key, _) {
            throw StepwiseError.file(path, "has no '\(key.stringValue)' (is this a \(family) config?)")
        } catch let DecodingError.dataCorrupted(ctx) {
            // Thrown by a config's own init (an unsupported rope_type, ...).
            throw StepwiseError.file(path, ctx.debugDescription)
        } catch {
            throw StepwiseError.file(path, "is not a valid \(family) config (\(error))")
        }
    }

    /// The whole file as a tree; a JSON object is required.
    static func read(_ path: String) throws -> JSONValue {
        let root: JSONValue
        do {
            root = try JSONReader.readFile(path)
        } catch let e as StepwiseError where e.message.hasPrefix(path + ": cannot") {
            throw StepwiseError.file(path, "cannot be read")
        }
        guard case .object = root else {
            throw StepwiseError.file(path, "is \(root.kind.article), expected a JSON object")
        }
        return root
    }
}
