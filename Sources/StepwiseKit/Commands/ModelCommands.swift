import Foundation

/// `load`, `info`, `prompt`, `tokens`, `explain`.
enum ModelCommands {
    static let load = Command(
        "load", usage: "load PATH",
        summary: "load a model folder, a tokenizer folder or a .gguf file ('load builtin' for the built-in model, 'load builtin:translate' for the built-in English → Spanish translation model)",
        help: """
            Loads a Hugging Face folder (config.json + model.safetensors + tokenizer files: GPT-2, BERT, Llama), \
            a folder holding only tokenizer files (the tokenizer views work, no forward pass), or a GGUF file. \
            The current prompt is cleared. If loading fails, the old model stays.
            """,
        examples: ["load builtin", "load builtin:translate", "load ~/models/gpt2", "load SmolLM2-135M-Instruct.Q4_1.gguf"],
        completion: .files
    ) { session, context, rest in
        let words = try Arguments.split(rest)
        guard words.count == 1 else { throw StepwiseError.usage("usage: load PATH (quote a path with spaces)") }
        let path = context.resolve(words[0])
        let started = Date()
        // Ctrl-C stops a long load between tensors; the old model stays.
        try ModelLoader.cancellable(context.isCancelled) {
            try session.load(path: words[0] == "builtin" ? nil : path)
        }
        let ms = Date().timeIntervalSince(started) * 1000
        if let m = session.model {
            let i = m.info
            let layers = i.encoderLayers.map { "\($0) encoder + \(i.layers) decoder layers" } ?? "\(i.layers) layers"
            return Prose.wrap("loaded \(i.name): \(i.family), \(layers) × \(i.heads) heads, d_model \(i.dModel), vocab \(i.vocabularySize), \(Format.count(i.parameterCount)) parameters" + (context.interactive ? Timing.suffix(milliseconds: ms) : ""),
                              width: session.settings.width ?? context.width)
        }
        return ["loaded a tokenizer only (\(session.tokenizer!.vocabularySize) tokens): 'prompt' tokenizes, no forward pass"]
    }

    static let info = Command(
        "info", usage: "info",
        summary: "model facts: architecture, sizes, parameter counts, where the file came from",
        examples: ["info"]
    ) { session, context, _ in
        guard let m = session.model else {
            guard let t = session.tokenizer else { throw StepwiseError.usage("nothing loaded: 'load PATH'") }
            return ["tokenizer only, \(t.vocabularySize) tokens, from \(session.source ?? "?")"]
        }
        let i = m.info
        var rows: [(String, String)] = [
            ("model", i.name), ("family", i.family),
            ("source", session.source.flatMap { ModelLoader.builtins[$0] }.map { "the built-in model '\(session.source!)' (Sources/StepwiseKit/Resources/\($0))" } ?? i.source),
            ("layers", i.encoderLayers.map { "\($0) encoder + \(i.layers) decoder" } ?? "\(i.layers)"),
            ("heads", i.kvHeads == i.heads ? "\(i.heads) per layer"
                : i.kvHeads == 1 ? "\(i.heads) query heads sharing 1 key/value head (multi-query)"
                : "\(i.heads) query heads sharing \(i.kvHeads) key/value heads (grouped-query)"),
            ("d_model", "\(i.dModel)"), ("d_head", "\(i.dHead)"), ("d_mlp", "\(i.dMLP)"),
            ("vocabulary", "\(i.vocabularySize) tokens"),
            ("context", i.contextLength.map { "\($0) positions" } ?? "unbounded"),
            ("attention", i.isEncoderDecoder ? "encoder bidirectional; decoder causal, with cross-attention from every target position to every source token"
                : i.isCausal ? "causal (each position sees itself and earlier ones)" : "bidirectional (every position sees every other)"),
        ]
        rows += i.details
        if let note = AnalysisCommands.ablationNote(session) { rows.append(("interventions", note)) }
        rows.append(("parameters", Format.count(i.parameterCount) + " (" + i.parameterCounts.map { "\($0.0) \(Format.count($0.1))" }.joined(separator: ", ") + ")"))
        if let trace = session.trace {
            // What the current trace holds (each allocation once: recipes keep only their inputs), which
            // logits it kept, and what the budget left out.
            let T = trace.tokenIDs.count
            let kept = trace["logits"].map {
                $0.shape[0] < T ? "logits for the last position only"
                    : $0.value.isRecipe ? "the last position's logits (the others computed when read)" : "logits for all \(T) positions"
            } ?? "no logits"
            let budget = session.settings.traceBudgetMB.map { "trace budget \($0) MB" } ?? "no trace budget"
            rows.append(("trace", "\(trace.steps.count) steps, \(TraceBudget.text(bytes: trace.heldBytes)) of tensors; \(kept); \(budget)"))
            if let report = trace.budget { rows += report.summary.map { ("", $0) } }
        }
        let w = rows.map(\.0.count).max() ?? 0
        // Values wrap under themselves so every line fits the terminal.
        return rows.flatMap { row -> [String] in
            let value = NarrationWrapper.wrap([row.1], width: max(20, context.width - w - 2))
            return value.enumerated().map { ($0.offset == 0 ? row.0 : "").padding(toLength: w, withPad: " ", startingAt: 0) + "  " + $0.element }
        }
    }

    static let prompt = Command(
        "prompt", aliases: ["p"], usage: "prompt TEXT",
        summary: "tokenize TEXT and run a traced forward pass; shows the top prediction",
        help: """
            The rest of the line is the text. Wrap it in double quotes to keep leading or trailing spaces and \
            to use \\n, \\t, \\r, \\" and \\\\. The cursor goes to the first step; 'next' walks on. On an \
            encoder-decoder model (BART, T5: 'load builtin:translate') TEXT is the start of the target: the decoder \
            reads its start token and TEXT's tokens, cross-attending to the sentence given with 'source'.
            """,
        examples: ["prompt The cat sat on the", "prompt \"Line one\\nLine two\""]
    ) { session, context, rest in
        let text = try Unescape.promptText(rest)
        guard !text.isEmpty else { throw StepwiseError.usage("the prompt is empty: type 'prompt' and some text") }
        return try run(text, &session, context: context)
    }

    /// Tokenizes `text`, runs the traced forward pass and makes it the session's current prompt.
    static func run(_ text: String, _ session: inout Session, context: CommandContext) throws -> [String] {
        guard let tok = session.tokenizer else { throw StepwiseError.usage("nothing loaded: 'load PATH'") }
        // An encoder-decoder model's prompt is the target so far: the decoder's start token, then the text's
        // tokens with nothing added.
        let ids = try session.isEncoderDecoder ? TranslationCommands.targetIDs(text, session) : tok.encodeForModel(text)
        guard !ids.isEmpty else { throw StepwiseError.usage("the prompt has no tokens") }
        guard let model = session.model else {
            session.promptText = text
            session.ids = ids
            session.trace = nil
            let width = session.settings.width ?? context.width
            return Prose.wrapItems(ids.map { tok.label(for: $0) }, width: width, first: "\(ids.count) tokens: ", rest: "  ", cap: false)
                + Prose.wrap("only a tokenizer is loaded, so no forward pass ran ('tokens' and 'explain' work)", width: width)
        }
        if let ctx = model.info.contextLength, ids.count > ctx {
            throw StepwiseError(.model, "the prompt is \(ids.count) tokens but the model's context is \(ctx); shorten it (nothing was cut)")
        }
        let started = Date()
        let trace = try model.trace(ids, options: session.forwardOptions(context: context))
        let ms = Date().timeIntervalSince(started) * 1000
        session.promptText = text
        session.ids = ids
        session.trace = trace
        session.history = []
        session.future = []
        session.cursor = 0
        var notes: [String] = []
        let ablated = session.interventions.filter { !$0.isSteer }.count
        if ablated > 0 { notes.append("\(ablated) head(s) ablated") }
        let steered = session.interventions.compactMap { i -> String? in if case let .steer(v) = i { return v.hook.name }; return nil }
        if !steered.isEmpty { notes.append("steering at " + steered.joined(separator: ", ")) }
        if let c = session.settings.causalMask, c != model.info.isCausal { notes.append(c ? "causal mask forced on" : "causal mask switched off") }
        // The time only where a person watches: scripts, lessons and snapshots need the same text every run.
        let counted = session.isEncoderDecoder ? "\(session.sourceIDs.count) source + \(ids.count) target tokens" : "\(ids.count) tokens"
        // A trace worth noticing says what it holds.
        let held = trace.heldBytes
        let holding = held >= 64 * 1_048_576 ? ", \(TraceBudget.text(bytes: held)) held" : ""
        var lines = ["\(counted) → \(trace.steps.count) steps" + holding + (context.interactive ? Timing.suffix(milliseconds: ms) : "")
                     + (notes.isEmpty ? "" : " (with " + notes.joined(separator: "; ") + ")")]
        if let report = trace.budget {
            lines += report.summary.flatMap { Prose.wrap($0, width: session.settings.width ?? context.width) }
        }
        if let best = Predictions.top(trace, tokenizer: tok, k: 1).first {
            lines.append("next token: \(best.label)  p = \(String(format: "%.3f", best.probability))")
        } else if !model.info.isCausal {
            lines.append("an encoder has no next-token prediction: 'steps' lists what it computed")
        }
        return lines
    }

    static let chat = Command(
        "chat", usage: "chat TEXT",
        summary: "like prompt, but wrapped in the model's chat template (a user turn, then the assistant's start)",
        help: "Needs a model whose file carries a chat template in the ChatML form (<|im_start|>role ... <|im_end|>), as SmolLM2's GGUF does. 'tokens' then shows the special tokens the template added.",
        examples: ["chat What is the capital of France?"]
    ) { session, context, rest in
        let text = try Unescape.promptText(rest)
        guard !text.isEmpty else { throw StepwiseError.usage("usage: chat TEXT") }
        let model = try session.requireModel()
        guard let template = model.info.chatTemplate else {
            throw StepwiseError(.model, "\(model.info.name) has no chat template; use 'prompt'")
        }
        return try run(try ChatTemplate.render(template: template, user: text), &session, context: context)
    }

    static let similarity = Command(
        "similarity", aliases: ["sim"], usage: "similarity \"A\" \"B\"",
        summary: "cosine similarity of two sentences' mean-pooled embeddings (an encoder such as BERT/MiniLM)",
        examples: ["similarity \"A cat sat on the mat.\" \"A kitten rested on the rug.\""]
    ) { session, _, rest in
        let words = try Arguments.split(rest)
        guard words.count == 2 else { throw StepwiseError.usage("usage: similarity \"first sentence\" \"second sentence\"") }
        guard let bert = try session.requireModel() as? BERTModel else {
            throw StepwiseError(.model, "similarity needs an encoder (a BERT folder such as all-MiniLM-L6-v2); 'load' one")
        }
        let s = try bert.similarity(words[0], words[1])
        return [String(format: "cosine similarity %.4f", s) + "  (1 = same meaning, 0 = unrelated)",
                "A: \(TokenLabel.display(words[0]))", "B: \(TokenLabel.display(words[1]))"]
    }

    static let tokens = Command(
        "tokens", usage: "tokens",
        summary: "the prompt's tokens: position, id and piece (an encoder-decoder model's source and target)",
        help: "The piece is the vocabulary entry as the tokenizer stores it (Ġ marks a leading space in GPT-2's byte alphabet); with 'set unicode off' it is spelt in ASCII (_ for a space, <0xNN> for other bytes).",
        examples: ["tokens"]
    ) { session, _, _ in
        guard let tok = session.tokenizer else { throw StepwiseError.usage("nothing loaded: 'load PATH'") }
        guard !session.ids.isEmpty || !session.sourceIDs.isEmpty else { throw StepwiseError.usage("no prompt yet: type 'prompt The cat sat on the'") }
        let unicode = session.settings.unicode, byteLevel = isByteLevel(tok)
        // An encoder-decoder model reads two sequences: the source (encoder) and the target (decoder).
        let sequences = session.sourceIDs.isEmpty ? [("", session.ids)]
            : [("source (encoder)", session.sourceIDs), ("target (decoder)", session.ids)]
        let all = sequences.flatMap(\.1)
        let w = max(3, String(max(all.count, 1) - 1).count)
        let idw = all.map { String($0).count }.max() ?? 1
        let raw = all.map { tok.piece(for: $0) ?? "?" }
        let pw = max(10, raw.map { TextWidth.of(TerminalText.visible(PieceText.display($0, unicode: unicode, byteLevel: byteLevel))) }.max() ?? 0)
        var lines: [String] = []
        for (title, ids) in sequences {
            if !title.isEmpty { lines.append((lines.isEmpty ? "" : "\n") + title) }
            lines.append("pos".padding(toLength: w, withPad: " ", startingAt: 0) + "  " + "id".leftPadded(idw) + "  "
                         + TextWidth.padRight("piece", pw) + " text")
            for (i, id) in ids.enumerated() {
                let piece = TerminalText.visible(PieceText.display(tok.piece(for: id) ?? "?", unicode: unicode, byteLevel: byteLevel))
                lines.append(String(i).leftPadded(w) + "  " + String(id).leftPadded(idw) + "  "
                             + TextWidth.padRight(piece, pw) + " " + tok.label(for: id))
            }
        }
        lines = lines.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        lines.append(sequences.count == 1 ? "\(session.ids.count) tokens" : "\(session.sourceIDs.count) source tokens, \(session.ids.count) target tokens")
        if PieceText.needsLegend(raw, unicode: unicode, byteLevel: byteLevel) { lines.append(PieceText.asciiLegend) }
        return lines
    }

    /// Whether the tokenizer's pieces spell bytes in GPT-2's alphabet (byte-level BPE).
    static func isByteLevel(_ tok: any Tokenizer) -> Bool {
        tok is ByteLevelBPE
    }

    static let explain = Command(
        "explain", usage: "explain [WORD]",
        summary: "how the tokenizer split WORD (default: the prompt): every BPE merge or WordPiece match in order, or Unigram's best segmentation and its score",
        examples: ["explain unbelievable", "explain \" the\""]
    ) { session, context, rest in
        guard let tok = session.tokenizer else { throw StepwiseError.usage("nothing loaded: 'load PATH'") }
        let text = rest.isEmpty ? (session.promptText ?? "") : try Unescape.promptText(rest)
        guard !text.isEmpty else { throw StepwiseError.usage("usage: explain WORD (or set a prompt first)") }
        let ex = try tok.explain(text)
        let unicode = session.settings.unicode, byteLevel = isByteLevel(tok)
        let width = session.settings.width ?? context.width
        // Pieces and merge descriptions in the chosen alphabet; every word of a rule is a piece or a mark.
        func piece(_ s: String) -> String { TerminalText.visible(PieceText.display(s, unicode: unicode, byteLevel: byteLevel)) }
        func rule(_ s: String) -> String {
            s.split(separator: " ", omittingEmptySubsequences: false).map { w in
                w == "+" || w == "->" || w == "match" ? String(w) : piece(String(w))
            }.joined(separator: " ")
        }
        let arrow = unicode ? "→" : "->"
        var lines: [String] = []
        var raw: [String] = []
        for p in ex.pretokens {
            lines.append("\(TokenLabel.display(p.text))" + (p.isSpecial ? "  special token" : ""))
            if p.isSpecial { lines.append("  \(arrow) \(p.pieces.first ?? "") = \(p.ids.first.map(String.init) ?? "?")"); continue }
            raw += p.initial + p.pieces
            lines += Prose.wrap(p.initial.map(piece).joined(separator: " "), width: width, first: "  start   ", cap: false)
            for (i, r) in p.rules.enumerated() {
                let rank = r.rank.map { " (rank \($0))" } ?? ""
                lines += Prose.wrap("\(rule(r.description))\(rank)   \(arrow)  " + r.symbols.map(piece).joined(separator: " "),
                                    width: width, first: "  \(String(i + 1).leftPadded(3)).   ", rest: "          ", cap: false)
            }
            lines += Prose.wrap(zip(p.pieces, p.ids).map { "\(piece($0))=\($1)" }.joined(separator: " "), width: width,
                                first: "  result  ", cap: false)
        }
        let n = ex.ids.count, m = ex.pretokens.count
        lines.append("\(n) token\(n == 1 ? "" : "s") from \(m) pre-token\(m == 1 ? "" : "s")")
        if PieceText.needsLegend(raw, unicode: unicode, byteLevel: byteLevel) { lines.append(PieceText.asciiLegend) }
        return lines
    }
}

/// Number formatting shared by commands.
enum Format {
    /// `124,439,808` → `124.4M`.
    static func count(_ n: Int) -> String {
        switch n {
        case 1_000_000_000...: return String(format: "%.2fB", Double(n) / 1e9)
        case 1_000_000...: return String(format: "%.1fM", Double(n) / 1e6)
        case 10_000...: return String(format: "%.1fK", Double(n) / 1e3)
        default: return "\(n)"
        }
    }
}

extension String {
    /// Right-aligns in `width` columns (no truncation).
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// Next-token predictions read off a trace's logits.
public enum Predictions {
    public struct Prediction: Sendable {
        public var id: Int
        public var label: String
        public var probability: Float
        public var logit: Float
    }

    /// The `k` most likely next tokens after the last position (softmax of the last logits row).
    public static func top(_ trace: Trace, tokenizer: any Tokenizer, k: Int, position: Int? = nil) -> [Prediction] {
        guard let row = trace.logitsRow(position) else { return [] }
        let probs = row.softmax()
        let order = row.data.indices.sorted { row.data[$0] > row.data[$1] || (row.data[$0] == row.data[$1] && $0 < $1) }
        return order.prefix(k).map { Prediction(id: $0, label: tokenizer.label(for: $0), probability: probs.data[$0], logit: row.data[$0]) }
    }
}
