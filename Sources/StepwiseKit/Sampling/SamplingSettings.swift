import Foundation

/// How the next token is chosen from the logits: temperature, top-k, top-p and the random seed.
///
/// Every value is validated when set, so a `SamplingSettings` is always usable by ``Sampler``.
/// The stages run in this order: divide by the temperature, keep the top k, keep the top-p nucleus,
/// renormalise, draw.
public struct SamplingSettings: Sendable, Equatable {
    /// Divides the logits before the softmax. `0` means greedy: always take the highest logit.
    /// Below 1 sharpens the distribution, above 1 flattens it. Always finite and `>= 0`.
    public private(set) var temperature: Double
    /// Keep only the `topK` highest-scoring tokens; `0` turns the filter off. Always `>= 0`.
    public private(set) var topK: Int
    /// Keep the smallest set of tokens whose probabilities add up to at least `topP`; `1` turns the
    /// filter off. Always in `(0, 1]`.
    public private(set) var topP: Double
    /// Seeds the ``SplitMix64`` generator that draws the random numbers.
    public var seed: UInt64

    /// Creates validated settings.
    /// - Parameters:
    ///   - temperature: finite, `>= 0` (0 = greedy).
    ///   - topK: `>= 0` (0 = off).
    ///   - topP: in `(0, 1]` (1 = off).
    ///   - seed: any value.
    /// - Throws: ``StepwiseError`` (usage) naming the setting that is out of range.
    public init(temperature: Double = 1, topK: Int = 0, topP: Double = 1, seed: UInt64 = 0) throws {
        try Self.check(temperature: temperature)
        try Self.check(topK: topK)
        try Self.check(topP: topP)
        self.init(unchecked: temperature, topK, topP, seed)
    }

    private init(unchecked temperature: Double, _ topK: Int, _ topP: Double, _ seed: UInt64) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }

    /// Temperature 1, no top-k, no top-p, seed 0: sampling from the model's own distribution.
    public static let standard = SamplingSettings(unchecked: 1, 0, 1, 0)
    /// Temperature 0: always the most likely token, no randomness.
    public static let greedy = SamplingSettings(unchecked: 0, 0, 1, 0)

    /// True when the temperature is 0: the highest logit is taken and no random number is used.
    public var isGreedy: Bool { temperature == 0 }

    // MARK: - Setters

    /// Sets the temperature.
    /// - Throws: ``StepwiseError`` unless `value` is finite and `>= 0`.
    public mutating func setTemperature(_ value: Double) throws {
        try Self.check(temperature: value)
        temperature = value
    }

    /// Sets top-k.
    /// - Throws: ``StepwiseError`` when `value < 0`.
    public mutating func setTopK(_ value: Int) throws {
        try Self.check(topK: value)
        topK = value
    }

    /// Sets top-p.
    /// - Throws: ``StepwiseError`` unless `0 < value <= 1`.
    public mutating func setTopP(_ value: Double) throws {
        try Self.check(topP: value)
        topP = value
    }

    /// The names ``set(_:to:)`` accepts (each also has short aliases: `temp`, `k`, `top-k`, `p`, `top-p`).
    public static let parameterNames = ["temperature", "top_k", "top_p", "seed"]

    /// Sets one setting from text, as typed in the REPL (`set temperature 0.7`, `set top_k 40`).
    /// - Parameters:
    ///   - name: `temperature` (`temp`), `top_k` (`top-k`, `topk`, `k`), `top_p` (`top-p`, `topp`, `p`) or `seed`.
    ///   - text: the value.
    /// - Throws: ``StepwiseError`` (usage) for an unknown name, text that is not a number of the right
    ///   kind, or a value out of range.
    public mutating func set(_ name: String, to text: String) throws {
        let value = text.trimmingCharacters(in: .whitespaces)
        switch name.lowercased() {
        case "temperature", "temp":
            guard let t = Double(value) else {
                throw StepwiseError.usage("temperature must be a number >= 0 (0 = greedy), got '\(text)'")
            }
            try setTemperature(t)
        case "top_k", "top-k", "topk", "k":
            guard let k = Int(value) else {
                throw StepwiseError.usage("top-k must be a whole number >= 0 (0 = off), got '\(text)'")
            }
            try setTopK(k)
        case "top_p", "top-p", "topp", "p":
            guard let p = Double(value) else {
                throw StepwiseError.usage("top-p must be a number in (0, 1] (1 = off), got '\(text)'")
            }
            try setTopP(p)
        case "seed":
            guard let s = UInt64(value) else {
                throw StepwiseError.usage("seed must be a whole number from 0 to \(UInt64.max), got '\(text)'")
            }
            seed = s
        default:
            throw StepwiseError.usage("unknown sampling setting '\(name)'; use temperature, top_k, top_p or seed")
        }
    }

    /// One line for the REPL, e.g. `temperature 0.7, top-k 40, top-p 0.9, seed 42` or
    /// `temperature 0 (greedy), top-k off, top-p off, seed 0`.
    public var summary: String {
        let t = isGreedy ? "0 (greedy)" : "\(temperature)"
        let k = topK == 0 ? "off" : "\(topK)"
        let p = topP == 1 ? "off" : "\(topP)"
        return "temperature \(t), top-k \(k), top-p \(p), seed \(seed)"
    }

    // MARK: - Validation

    private static func check(temperature t: Double) throws {
        guard t.isFinite, t >= 0 else {
            throw StepwiseError.usage("temperature must be a finite number >= 0 (0 = greedy), got \(t)")
        }
    }

    private static func check(topK k: Int) throws {
        guard k >= 0 else {
            throw StepwiseError.usage("top-k must be a whole number >= 0 (0 = off), got \(k)")
        }
    }

    private static func check(topP p: Double) throws {
        guard p > 0, p <= 1 else {  // also rejects NaN
            throw StepwiseError.usage("top-p must be in (0, 1] (1 = off), got \(p)")
        }
    }
}
