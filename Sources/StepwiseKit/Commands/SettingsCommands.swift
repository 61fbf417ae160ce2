extension Settings {
    /// The names `set` accepts, in the order `set` lists them.
    public static let names = ["precision", "width", "rows", "cols", "view", "color", "theme", "unicode", "mask",
                               "temperature", "top-k", "top-p", "seed"]

    /// Completion choices for settings with a fixed set of values.
    public static let choices: [String: [String]] = [
        "view": ViewKind.allCases.map(\.rawValue), "color": ["on", "off"], "unicode": ["on", "off"],
        "theme": ViewOptions.Theme.allCases.map(\.rawValue),
        "width": ["auto"], "mask": ["auto", "causal", "none"],
    ]
}

/// `set NAME VALUE`, `set` alone lists the settings.
enum SettingsCommands {
    static func bool(_ v: String, _ name: String) throws -> Bool {
        switch v.lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: throw StepwiseError.usage("\(name) is on or off, got '\(v)'")
        }
    }

    static func list(_ s: Session) -> [String] {
        let st = s.settings
        let rows: [(String, String, String)] = [
            ("precision", "\(st.precision)", "digits after the point in tables"),
            ("width", st.width.map(String.init) ?? "auto", "columns of output (auto: the terminal's)"),
            ("rows", st.maxRows == 0 ? "fit" : "\(st.maxRows)", "most rows before the middle is elided (0: fit)"),
            ("cols", st.maxCols == 0 ? "fit" : "\(st.maxCols)", "most columns before the middle is elided (0: fit)"),
            ("view", st.view.rawValue, "auto (heatmaps for patterns), table or heatmap"),
            ("color", st.color ? "on" : "off", "256-colour heatmaps and highlights"),
            ("theme", st.theme.rawValue, "the terminal's background, for colour scales: dark or light"),
            ("unicode", st.unicode ? "on" : "off", "block characters and … (off: pure ASCII)"),
            ("mask", st.causalMask.map { $0 ? "causal" : "none" } ?? "auto", "attention mask: auto (the model's own), causal or none"),
            ("temperature", "\(s.sampling.temperature)", "sampling temperature (0: greedy)"),
            ("top-k", s.sampling.topK == 0 ? "off" : "\(s.sampling.topK)", "keep only the k most likely tokens (0: off)"),
            ("top-p", s.sampling.topP >= 1 ? "off" : "\(s.sampling.topP)", "keep the smallest set with this much probability (1: off)"),
            ("seed", "\(s.sampling.seed)", "random seed for sampling (same seed, same tokens)"),
        ]
        let w = rows.map(\.0.count).max()!
        let v = rows.map(\.1.count).max()!
        return rows.map { $0.0.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + $0.1.padding(toLength: v, withPad: " ", startingAt: 0) + "  " + $0.2 }
    }

    static let set = Command(
        "set", usage: "set [NAME VALUE]",
        summary: "change a setting (precision, width, rows, cols, view, color, theme, unicode, mask, temperature, top-k, top-p, seed)",
        examples: ["set precision 4", "set view heatmap", "set temperature 0.7", "set"],
        completion: .settings
    ) { session, context, rest in
        let words = try Arguments.split(rest)
        if words.isEmpty { return list(session) }
        guard words.count == 2 else { throw StepwiseError.usage("usage: set NAME VALUE ('set' lists the settings)") }
        let (name, value) = (words[0], words[1])
        switch name {
        case "precision": session.settings.precision = try Arguments.int(value, "precision", range: 0...9)
        case "width":
            session.settings.width = value == "auto" ? nil : try Arguments.int(value, "width", range: 20...1000)
        case "rows", "maxrows": session.settings.maxRows = try Arguments.int(value, "rows", range: 0...100_000)
        case "cols", "maxcols": session.settings.maxCols = try Arguments.int(value, "cols", range: 0...100_000)
        case "view":
            guard let v = Settings.ViewKind(rawValue: value) else { throw StepwiseError.usage("view is auto, table or heatmap, got '\(value)'") }
            session.settings.view = v
        case "color", "colour": session.settings.color = try bool(value, "color")
        case "theme":
            guard let t = ViewOptions.Theme(rawValue: value) else { throw StepwiseError.usage("theme is dark or light, got '\(value)'") }
            session.settings.theme = t
        case "mask":
            switch value {
            case "auto": session.settings.causalMask = nil
            case "causal", "on": session.settings.causalMask = true
            case "none", "off": session.settings.causalMask = false
            default: throw StepwiseError.usage("mask is auto, causal or none, got '\(value)'")
            }
            // The mask changes the forward pass: run the current prompt again under it.
            if let text = session.promptText, session.model != nil {
                return ["mask = \(value)"] + (try ModelCommands.run(text, &session, context: context))
            }
        case "unicode": session.settings.unicode = try bool(value, "unicode")
        case "temperature", "top-k", "top_k", "topk", "top-p", "top_p", "topp", "seed":
            try session.sampling.set(name, to: value)
        default:
            let hint = Suggest.closest(to: name, among: Settings.names).map { " — did you mean '\($0)'?" } ?? ""
            throw StepwiseError.usage("no setting '\(name)'\(hint) ('set' lists them)")
        }
        return ["\(name) = \(value)"]
    }
}
