/// The REPL's command set, in the order `help` lists it.
public enum StandardCommands {
    /// Every command.
    public static let all: [Command] = [
        ModelCommands.prompt, ModelCommands.chat, TranslationCommands.source, TranslationCommands.translate,
        ModelCommands.tokens, ModelCommands.explain,
        NavigationCommands.step, NavigationCommands.next, NavigationCommands.back, NavigationCommands.goto,
        NavigationCommands.whereCmd, NavigationCommands.steps,
        InspectCommands.show, InspectCommands.attn, RoPEView.command, InspectCommands.heads, InspectCommands.embed, InspectCommands.ffn,
        InspectCommands.logits, InspectCommands.top,
        SamplingCommands.sample, SamplingCommands.generate, SamplingCommands.compare, ModelCommands.similarity,
        AnalysisCommands.weights, AnalysisCommands.detect, AnalysisCommands.ablate, AnalysisCommands.restore, SteerCommands.steer, AnalysisCommands.lens,
        AnalysisCommands.attribute, AnalysisCommands.patch,
        ModelCommands.load, ModelCommands.info, SettingsCommands.set, ExportCommand.export,
        LessonCommands.lessons, LessonCommands.lesson, LessonCommands.record,
        HelpCommand.make { StandardCommands.all },
    ]

    /// An interpreter over ``all``.
    public static func interpreter() -> Interpreter {
        Interpreter(commands: all)
    }

    /// The lines printed when the REPL opens.
    public static func banner(session: Session, width: Int) -> [String] {
        var lines = ["Stepwise — step through a transformer, one tensor at a time."]
        if let m = session.model {
            let i = m.info
            let layers = i.encoderLayers.map { "\($0) encoder + \(i.layers) decoder layers" } ?? "\(i.layers) layers"
            lines.append("Model: \(i.name) (\(i.family), \(layers) × \(i.heads) heads, d_model \(i.dModel), vocab \(i.vocabularySize)).")
        } else if session.tokenizer != nil {
            lines.append("Tokenizer only: 'prompt' tokenizes, no forward pass.")
        }
        lines.append("Try: prompt The cat sat on the    then: next, steps, attn 0 0, top 5, help")
        return lines
    }
}
