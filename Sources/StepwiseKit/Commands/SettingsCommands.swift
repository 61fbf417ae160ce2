extension Settings {
    /// The names `set` accepts, in the order `set` lists them.
    public static let names = ["precision", "width", "rows", "cols", "view", "color", "theme", "palette", "images", "unicode", "mask",
                               "pager", "header", "trace-budget", "temperature", "top-k", "top-p", "seed"]

    /// Completion choices for settings with a fixed set of values.
    public static let choices: [String: [String]] = [
        "view": ViewKind.allCases.map(\.rawValue), "color": ["on", "off"], "unicode": ["on", "off"],
        "theme": ViewOptions.Theme.allCases.map(\.rawValue), "palette": ColorScale.Palette.allCases.map(\.rawValue),
        "images": ImageMode.allCases.map(\.rawValue),
        "width": ["auto"], "mask": ["auto", "causal", "none"], "pager": Paging.Mode.allCases.map(\.rawValue), "header": ["full", "short"],
        "trace-budget": ["off"],
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

    /// What each setting does, in the order `set` lists them (`help set` prints these too).
    static let descriptions: [(name: String, text: String)] = [
        ("precision", "digits after the point in tables"),
        ("width", "columns of output (auto: the terminal's)"),
        ("rows", "most rows before the middle is elided (0: fit)"),
        ("cols", "most columns before the middle is elided (0: fit)"),
        ("view", "auto (heatmaps for patterns), table or heatmap"),
        ("color", "256-colour heatmaps and highlights"),
        ("theme", "the background: dark or light (colour scales, pictures)"),
        ("palette", "pictures' colour scale: viridis, cividis or grey"),
        ("images", "heatmaps of show and heads as pictures too: auto (if detected), on (else sixel), off, kitty, iterm or sixel"),
        ("unicode", "block characters and … (off: pure ASCII)"),
        ("mask", "attention mask: auto (the model's own), causal or none; re-runs the prompt"),
        ("pager", "auto (output taller than the terminal), on or off; $PAGER, else less"),
        ("header", "step headings: full (explanation, shape, inputs) or short (name, title, formula)"),
        ("trace-budget", "MB a traced prompt keeps; beyond it MLP steps, then block outputs, then attention are left out (off: keep all); re-runs the prompt"),
        ("temperature", "sampling temperature (0: greedy)"),
        ("top-k", "keep only the k most likely tokens (0: off)"),
        ("top-p", "keep the smallest set with this much probability (1: off)"),
        ("seed", "random seed for sampling (same seed, same tokens)"),
    ]

    /// What `images` does here: the protocol it draws with, and what was detected.
    static func imagesNow(_ mode: ImageMode, _ images: InlineImages?) -> String {
        images?.detection.describe(mode) ?? "text only here: pictures are drawn only at the REPL's prompt in a terminal"
    }

    static func list(_ s: Session, width: Int, images: InlineImages? = nil) -> [String] {
        let st = s.settings
        let values: [String: String] = [
            "precision": "\(st.precision)", "width": st.width.map(String.init) ?? "auto",
            "rows": st.maxRows == 0 ? "fit" : "\(st.maxRows)", "cols": st.maxCols == 0 ? "fit" : "\(st.maxCols)",
            "view": st.view.rawValue, "color": st.color ? "on" : "off", "theme": st.theme.rawValue, "palette": st.palette.rawValue, "images": st.images.rawValue,
            "unicode": st.unicode ? "on" : "off", "mask": st.causalMask.map { $0 ? "causal" : "none" } ?? "auto",
            "pager": st.pager.rawValue, "header": st.shortHeaders ? "short" : "full",
            "trace-budget": st.traceBudgetMB.map { "\($0)" } ?? "off", "temperature": "\(s.sampling.temperature)",
            "top-k": s.sampling.topK == 0 ? "off" : "\(s.sampling.topK)", "top-p": s.sampling.topP >= 1 ? "off" : "\(s.sampling.topP)",
            "seed": "\(s.sampling.seed)",
        ]
        let rows = descriptions.map { d in
            (d.name, values[d.name] ?? "?", d.text + (d.name == "images" ? "; now " + imagesNow(st.images, images) : ""))
        }
        let w = rows.map(\.0.count).max()!
        let v = rows.map(\.1.count).max()!
        // The description wraps under itself, so every line fits.
        return rows.flatMap { row in
            Prose.wrap(row.2, width: width, first: row.0.padding(toLength: w, withPad: " ", startingAt: 0) + "  "
                       + row.1.padding(toLength: v, withPad: " ", startingAt: 0) + "  ")
        }
    }

    static let set = Command(
        "set", usage: "set [NAME VALUE]",
        summary: "change a setting (\(Settings.names.joined(separator: ", ")))",
        help: "'set' alone lists every setting with its value. The settings:\n"
            + descriptions.map { "- \($0.name): \($0.text)" }.joined(separator: "\n"),
        examples: ["set precision 4", "set view heatmap", "set mask none", "set pager off", "set unicode off", "set palette cividis",
                   "set temperature 0.7", "set"],
        completion: .settings
    ) { session, context, rest in
        let words = try Arguments.split(rest)
        if words.isEmpty { return list(session, width: session.settings.width ?? context.width, images: context.images) }
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
        case "palette":
            guard let p = ColorScale.Palette(rawValue: value.lowercased()) else {
                throw StepwiseError.usage("palette is viridis, cividis or grey, got '\(value)'")
            }
            session.settings.palette = p
        case "images":
            guard let m = ImageMode(rawValue: value.lowercased()) else {
                throw StepwiseError.usage("images is auto, on, off, kitty, iterm or sixel, got '\(value)'")
            }
            session.settings.images = m
            return ["images = \(m.rawValue): " + imagesNow(m, context.images)]
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
        case "pager":
            guard let m = Paging.Mode(rawValue: value.lowercased()) else {
                throw StepwiseError.usage("pager is on, off or auto, got '\(value)'")
            }
            session.settings.pager = m
        case "header":
            switch value.lowercased() {
            case "full": session.settings.shortHeaders = false
            case "short": session.settings.shortHeaders = true
            default: throw StepwiseError.usage("header is full or short, got '\(value)'")
            }
        case "trace-budget", "trace_budget":
            session.settings.traceBudgetMB = ["off", "none", "unlimited"].contains(value.lowercased()) ? nil
                : try Arguments.int(value, "trace-budget (MB, or off)", range: 1...1_048_576)
            // A larger or smaller budget changes what the current trace keeps: run the prompt again.
            if let text = session.promptText, session.model != nil {
                return ["trace-budget = \(value)"] + (try ModelCommands.run(text, &session, context: context))
            }
        case "temperature", "top-k", "top_k", "topk", "top-p", "top_p", "topp", "seed":
            try session.sampling.set(name, to: value)
        default:
            let hint = Suggest.closest(to: name, among: Settings.names).map { " — did you mean '\($0)'?" } ?? ""
            throw StepwiseError.usage("no setting '\(name)'\(hint) ('set' lists them)")
        }
        return ["\(name) = \(value)"]
    }
}
