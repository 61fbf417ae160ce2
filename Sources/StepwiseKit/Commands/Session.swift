/// Everything a REPL session holds: the model, the prompt and its trace, the cursor, the settings.
///
/// Pure state, no I/O: the REPL loop, the lesson player and batch mode all run commands on one of these.
public struct Session {
    /// The loaded model; nil when only a tokenizer is loaded.
    public var model: (any LanguageModel)?
    /// The loaded tokenizer (the model's, or a tokenizer-only folder's).
    public var tokenizer: (any Tokenizer)?
    /// Where the model or tokenizer came from.
    public var source: String?

    /// The current prompt's text and ids (an encoder-decoder model's: the target, the decoder's ids
    /// from its start token on).
    public var promptText: String?
    public var ids: [Int] = []
    /// An encoder-decoder model's source sentence and the encoder's ids (special tokens included), set by
    /// `source` and `translate`; every pass cross-attends to it.
    public var sourceText: String?
    public var sourceIDs: [Int] = []
    /// The trace of the last forward pass (nil before the first prompt, or with a tokenizer only).
    public var trace: Trace?
    /// Index of the current step in `trace.steps`.
    public var cursor: Int = 0
    /// Traces of earlier forward passes in this prompt (generation), oldest first: `back` walks into them.
    public var history: [Trace] = []
    /// Later passes to return to after `back` walked into ``history``, most recent last.
    public var future: [Trace] = []

    public var settings = Settings()
    /// How `sample` and `generate` choose tokens.
    public var sampling = SamplingSettings.standard
    /// Heads switched off for every forward pass until `restore`.
    public var interventions: [Intervention] = []
    /// Commands run so far and their output, for `record`.
    public var transcript: [(command: String, output: [String])] = []

    public init() {}

    /// Forward-pass options carrying the session's state: its ablations and mask setting.
    /// - Parameters:
    ///   - interventions: instead of the session's own (to compare before and after a change).
    public func forwardOptions(record: Bool = true, interventions: [Intervention]? = nil,
                               context: CommandContext? = nil) -> ForwardOptions {
        var options = ForwardOptions(record: record, interventions: interventions ?? self.interventions, causal: settings.causalMask)
        options.traceBudget = settings.traceBudgetMB.map { $0 * 1_048_576 }
        if let context { options.isCancelled = context.isCancelled }
        if model?.info.isEncoderDecoder == true, !sourceIDs.isEmpty { options.source = sourceIDs }
        return options
    }

    /// The current step, if there is a trace.
    public var currentStep: Step? {
        guard let trace, trace.steps.indices.contains(cursor) else { return nil }
        return trace.steps[cursor]
    }

    /// The trace, or an error telling the user what to do first.
    public func requireTrace() throws -> Trace {
        if let trace { return trace }
        if model == nil && tokenizer != nil {
            throw StepwiseError.usage("no forward pass: only a tokenizer is loaded; 'load' a model folder")
        }
        throw StepwiseError.usage("no prompt yet: type 'prompt The cat sat on the'")
    }

    /// True when the loaded model has an encoder and a decoder (BART, Marian, T5).
    public var isEncoderDecoder: Bool { model?.info.isEncoderDecoder == true }

    /// Throws for commands that work on decoder-only and encoder-only models but not (yet) on the two
    /// stacks of an encoder-decoder model, saying what to use instead.
    public func refuseEncoderDecoder(_ command: String, _ instead: String) throws {
        guard isEncoderDecoder else { return }
        throw StepwiseError(.unsupported, "'\(command)' does not apply to an encoder-decoder model such as \(model!.info.name): \(instead)")
    }

    /// The model, or an error telling the user what to do first.
    public func requireModel() throws -> any LanguageModel {
        guard let model else {
            throw StepwiseError.usage(tokenizer == nil ? "no model loaded: 'load PATH'" : "only a tokenizer is loaded: 'load' a model folder for this")
        }
        return model
    }
}

/// User-adjustable display and sampling settings (`set NAME VALUE`).
public struct Settings: Equatable, Sendable {
    /// Digits after the decimal point in tables.
    public var precision = 3
    /// Terminal width in columns; nil = detect (COLUMNS, the terminal, else 80).
    public var width: Int?
    /// Maximum rows and columns shown before eliding the middle; 0 = as many as fit.
    public var maxRows = 0
    public var maxCols = 0
    /// How matrices are drawn by default.
    public var view: ViewKind = .auto
    /// Colour output.
    public var color = false
    /// Unicode box and block characters (false: pure ASCII).
    public var unicode = true
    /// The terminal's background, for colour scales; pictures take its background and text colours too.
    public var theme: ViewOptions.Theme = .dark
    /// The colour scale of pictures (`export`, `record`, `stepwise html`, images in the terminal).
    public var palette: ColorScale.Palette = .viridis
    /// When `show` and `heads` also draw their heatmap as a picture in the terminal (only ever at the
    /// REPL's prompt in a terminal that can: ``CommandContext/images``).
    public var images: ImageMode = .auto
    /// The attention mask: nil = the model's own (causal for decoders, none for encoders); true/false forces it.
    public var causalMask: Bool?
    /// When output goes through the pager (only ever at a terminal): taller than the screen, always or never.
    public var pager: Paging.Mode = .auto
    /// Step headings in full (title, explanation, formula, shape, inputs) or short (the name, title and formula).
    public var shortHeaders = false
    /// The most a recorded pass keeps, in MB (``ForwardOptions/traceBudget``); nil keeps every step.
    public var traceBudgetMB: Int? = TraceBudget.defaultBytes / 1_048_576

    public init() {}

    /// How a matrix is drawn.
    public enum ViewKind: String, CaseIterable, Sendable {
        /// Heatmaps for attention patterns, tables for everything else.
        case auto
        case table, heatmap
    }
}
