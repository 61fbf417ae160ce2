/// A transformer that can run a traced forward pass.
///
/// One implementation per family (``GPT2Model``, BERT, Llama). Each reads its weights from a
/// ``WeightSource`` and records its steps under TransformerLens's hook names.
public protocol LanguageModel: AnyObject, Sendable {
    /// What was loaded: family, sizes, source.
    var info: ModelInfo { get }
    /// The tokenizer that came with the model.
    var tokenizer: any Tokenizer { get }

    /// Runs the model on `ids`.
    ///
    /// - Parameters:
    ///   - ids: the new tokens. With a `cache`, they continue the cached sequence (positions start at
    ///     `cache.length`) and the cache is extended; without one they are the whole sequence.
    ///   - cache: keys and values of earlier positions, for generation.
    ///   - options: what to record and which interventions to apply.
    /// - Returns: the trace; with `options.record == false` it holds only `logits`.
    /// - Throws: ``StepwiseError`` if an id is out of range or the sequence exceeds the context.
    func forward(_ ids: [Int], cache: KVCache?, options: ForwardOptions) throws -> Trace
}

extension LanguageModel {
    /// A full traced pass over `ids` with default options.
    public func trace(_ ids: [Int], options: ForwardOptions = ForwardOptions()) throws -> Trace {
        try forward(ids, cache: nil, options: options)
    }

    /// A fresh cache sized for this model.
    public func makeCache() -> KVCache {
        KVCache(layers: info.layers)
    }

    /// Checks ids against the vocabulary and the context length.
    public func validate(_ ids: [Int], startingAt start: Int = 0) throws {
        guard !ids.isEmpty else { throw StepwiseError.usage("nothing to run: the prompt has no tokens") }
        if let bad = ids.first(where: { $0 < 0 || $0 >= info.vocabularySize }) {
            throw StepwiseError(.model, "token id \(bad) is outside the vocabulary (0..<\(info.vocabularySize))")
        }
        if let ctx = info.contextLength, start + ids.count > ctx {
            throw StepwiseError(.model, "\(start + ids.count) tokens exceed the model's context of \(ctx); shorten the prompt")
        }
    }
}

/// Facts about a loaded model, for `info` and for the views.
public struct ModelInfo: Sendable {
    /// `gpt2`, `bert`, `llama`.
    public var family: String
    /// A display name (the folder or file name).
    public var name: String
    /// The path the model was loaded from.
    public var source: String
    public var layers: Int
    public var heads: Int
    /// Key/value heads (fewer than `heads` under grouped-query attention).
    public var kvHeads: Int
    public var dModel: Int
    public var dHead: Int
    public var dMLP: Int
    public var vocabularySize: Int
    /// Maximum positions, nil when unbounded.
    public var contextLength: Int?
    /// True for decoders (causal mask), false for encoders.
    public var isCausal: Bool
    /// Number of parameters, by group (`embedding`, `attention`, ...), in file order.
    public var parameterCounts: [(String, Int)]
    /// Further facts for `info`: (label, value).
    public var details: [(String, String)]
    /// The chat template the file carries (GGUF `tokenizer.chat_template`), if any.
    public var chatTemplate: String?
    /// An encoder-decoder model's encoder layers (``layers`` counts the decoder's); nil for other models.
    public var encoderLayers: Int?
    /// The id the decoder starts from (BART's `</s>`, T5's `<pad>`), for encoder-decoder models.
    public var decoderStartID: Int?

    /// True for models with an encoder and a decoder joined by cross-attention (BART, T5).
    public var isEncoderDecoder: Bool { encoderLayers != nil }

    public init(family: String, name: String, source: String, layers: Int, heads: Int, kvHeads: Int,
                dModel: Int, dHead: Int, dMLP: Int, vocabularySize: Int, contextLength: Int?,
                isCausal: Bool, parameterCounts: [(String, Int)] = [], details: [(String, String)] = []) {
        self.family = family
        self.name = name
        self.source = source
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.dModel = dModel
        self.dHead = dHead
        self.dMLP = dMLP
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.isCausal = isCausal
        self.parameterCounts = parameterCounts
        self.details = details
    }

    /// Total parameters.
    public var parameterCount: Int { parameterCounts.reduce(0) { $0 + $1.1 } }
}

/// What a forward pass records and changes.
public struct ForwardOptions: Sendable {
    /// Record every step (true) or only the logits (false, for fast generation).
    public var record: Bool
    /// Edits applied at hook points, in order (head ablations included, see ``Intervention/patch``).
    public var patches: [Patch]
    /// Overrides the model's mask: `false` lets a decoder attend both ways (a teaching switch).
    public var causal: Bool?
    /// With `record` off, compute the logits of the last position only (`[1, vocab]`): what generation
    /// reads, and all a prefill needs; a 780-token prompt on a 262,144-token vocabulary otherwise
    /// computes 800 MB of logits it throws away.
    public var lastLogitsOnly = false
    /// A recorded pass keeps the logits of every position only while they take at most this many floats
    /// (default 32 Mi, 128 MB); beyond it, only the last position's, which every command reads (`top`,
    /// sampling, attribution, patching). `ln_final.hook_out` still holds every position.
    public var logitBudget = 32 * 1024 * 1024
    /// The most a recorded pass keeps, in bytes (default ``TraceBudget/defaultBytes``, 1536 MB); nil keeps
    /// every step. The attention scores and patterns and the norms' outputs are recipes that hold nothing
    /// of their own; when the rest would exceed this, the pass leaves out groups of steps (MLP
    /// pre-activations first, patterns last) and the trace says which (``Trace/budget``). The residual
    /// stream and the logits are always kept.
    public var traceBudget: Int? = TraceBudget.defaultBytes
    /// An encoder-decoder model's source ids (what the encoder reads, special tokens included); the
    /// pass's ids are then the decoder's. Nil for other models.
    public var source: [Int]?
    /// Steps recorded even when `record` is off, by full name (`translate` keeps the cross-attention patterns).
    public var keep: Set<HookName> = []
    /// Checked before each block; when it returns true the pass stops with a ``StepwiseError`` of kind
    /// `.interrupted` (Ctrl-C in the REPL).
    public var isCancelled: @Sendable () -> Bool

    /// - Parameters:
    ///   - interventions: the session's edits, turned into patches before `patches`.
    ///   - patches: further edits at hook points.
    public init(record: Bool = true, interventions: [Intervention] = [], patches: [Patch] = [], causal: Bool? = nil,
                isCancelled: @escaping @Sendable () -> Bool = { false }) {
        self.record = record
        self.patches = interventions.map(\.patch) + patches
        self.causal = causal
        self.isCancelled = isCancelled
    }

    /// Throws ``StepwiseError`` `.interrupted` if the pass was cancelled; models call it before each block.
    public func checkCancelled(layer: Int) throws {
        if isCancelled() {
            throw StepwiseError(.interrupted, "interrupted at layer \(layer) of the forward pass; nothing was changed")
        }
    }
}

/// An edit the session keeps applying to every pass, until `restore`.
public enum Intervention: Sendable, Equatable {
    /// Replaces one head's output `hook_z[:, head, :]` with zeros or with its mean over positions.
    case ablateHead(layer: Int, head: Int, mode: AblationMode)
    /// Adds a steering vector at one hook point, at every position (`steer`).
    case steer(Steering.Vector)

    /// The edit as a patch at a hook point: an ablation is a zero or mean patch of one head at `hook_z`,
    /// a steer an add patch at every position.
    public var patch: Patch {
        switch self {
        case let .ablateHead(layer, head, mode):
            return Patch(.z(layer: layer), mode == .zero ? .zero : .mean, heads: [head])
        case let .steer(v):
            return v.patch
        }
    }

    /// True for a steer.
    public var isSteer: Bool {
        if case .steer = self { return true }
        return false
    }
}

/// How an ablated head's output is replaced.
public enum AblationMode: String, Sendable, Equatable {
    case zero
    case mean
}

extension Array where Element == Intervention {
    /// The ablation mode of a head, if it is ablated.
    public func ablation(layer: Int, head: Int) -> AblationMode? {
        for case let .ablateHead(l, h, mode) in self where l == layer && h == head { return mode }
        return nil
    }
}

/// Keys and values of the positions seen so far, per layer, for generation one token at a time.
public final class KVCache: @unchecked Sendable {
    /// Per layer: keys and values, `[pos, kvHeads * dHead]` row-major, after any rotation.
    public var keys: [[Float]]
    public var values: [[Float]]
    /// Number of cached positions.
    public var length: Int = 0
    /// The ids of the cached positions, for labelling the key axis.
    public var tokenIDs: [Int] = [] {
        didSet {
            if tokenIDs.starts(with: oldValue) { return }  // grown: the labels made so far still hold
            if oldValue.starts(with: tokenIDs) {  // truncated
                labels.removeLast(Swift.max(0, labels.count - tokenIDs.count))
            } else {
                labels = []
            }
        }
    }
    /// Labels of the first `labels.count` ids, made by ``labels(_:)``.
    private var labels: [String] = []
    /// An encoder-decoder model's cross-attention keys and values per decoder layer, computed once
    /// from the encoded source (`[sourcePos, heads * dHead]`), and the source they came from.
    public var crossKeys: [Tensor] = []
    public var crossValues: [Tensor] = []
    public var crossSource: [Int] = []

    public init(layers: Int) {
        keys = Array(repeating: [], count: layers)
        values = Array(repeating: [], count: layers)
    }

    /// The cached positions' labels through `label`, each id labelled once: a generated token's pass
    /// labels only the ids added since the last one (labels are kept while ``tokenIDs`` grows or is cut
    /// short, and made again when it changes otherwise).
    public func labels(_ label: (Int) -> String) -> [String] {
        labels += tokenIDs[labels.count...].map(label)
        return labels
    }
}
