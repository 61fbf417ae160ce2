/// A failure the user can act on: what went wrong, where, and what to do.
///
/// Every error that reaches the terminal is one of these, printed as one line by ``description``.
public struct StepwiseError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of thing failed.
    public enum Kind: String, Sendable {
        case file          // a model, tokenizer or lesson file is missing or malformed
        case unsupported   // a valid file that Stepwise cannot load (yet)
        case usage         // a command or argument is wrong
        case model         // the request does not fit the loaded model (layer out of range, ...)
        case interrupted   // the user pressed Ctrl-C
    }

    public var kind: Kind
    /// The one-line message, e.g. `model.safetensors: tensor 'wte' ends at byte 900 but the file has 512`.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// A malformed or unreadable file: `path: what is wrong`.
    public static func file(_ path: String, _ what: String) -> StepwiseError {
        StepwiseError(.file, "\(path): \(what)")
    }

    /// A wrong command or argument.
    public static func usage(_ message: String) -> StepwiseError {
        StepwiseError(.usage, message)
    }

    public var description: String { message }
}
