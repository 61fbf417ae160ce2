/// `export NAME FILE [--force]`.
enum ExportCommand {
    static let export = Command(
        "export", usage: "export NAME FILE [--force]",
        summary: "write a step (or 'tokens') to FILE.json, .npy or .csv, or draw it to FILE.svg, .png or .html; never overwrites without --force",
        help: """
            NAME is a step name or short form, optionally sliced, or 'tokens'. JSON holds \
            {"name", "shape", "axes", "data"} with data flat and row-major (masked scores are null); \
            'tokens' exports {"ids", "pieces"}. NPY is float32 in C order, for numpy.load. CSV has one row per \
            position. \
            Pictures: FILE.svg, .png or .html draws what 'show NAME' shows (a pattern as a heatmap with the \
            mask hatched, other tensors as coloured tables), 'export heads L FILE' every head of layer L, \
            'export top [K] FILE' the K likeliest next tokens as bars, 'export logits FILE' the top 10. \
            Their colours follow 'set theme' (the background) and 'set palette' (the colour scale: viridis, \
            cividis or grey); add --palette NAME for another scale in one picture. \
            The file is written whole or not at all.
            """,
        examples: ["export blocks.0.attn.hook_pattern pattern0.npy", "export pattern 0 head 1 head1.csv",
                   "export tokens tokens.json", "export logits logits.json --force",
                   "export pattern 0 head 1 head1.svg", "export heads 0 heads0.png", "export top 5 top5.svg"],
        completion: .steps(thenFile: true)
    ) { session, context, rest in
        var words = try Arguments.split(rest)
        let force = words.contains("--force")
        words.removeAll { $0 == "--force" }
        guard words.count >= 2 else { throw StepwiseError.usage("usage: export NAME FILE [--force]") }
        let palette = try PictureExport.takePalette(&words)
        guard words.count >= 2 else { throw StepwiseError.usage("usage: export NAME FILE [--force]") }
        let file = words.removeLast()
        let format = try Exporter.format(for: file)
        let path = try context.writablePath(file, command: "export", force: force)
        let what = words.joined(separator: " ")
        if format.isPicture {
            let (picture, described) = try PictureExport.picture(what, session: session, palette: palette)
            try Exporter.write(PictureExport.encode(picture, format: format), to: path, force: force, shownAs: file)
            return ["wrote \(described) to \(file) (\(picture.width)×\(picture.height) px)"]
        }
        if palette != nil { throw StepwiseError.usage("--palette is for pictures: .svg, .png or .html") }
        if what == "tokens" {
            guard let tok = session.tokenizer, !session.ids.isEmpty else {
                throw StepwiseError.usage("no prompt yet: type 'prompt The cat sat on the'")
            }
            let pieces = session.ids.map { tok.piece(for: $0) ?? "" }
            let source = session.sourceIDs.isEmpty ? nil : (ids: session.sourceIDs, pieces: session.sourceIDs.map { tok.piece(for: $0) ?? "" })
            try Exporter.write(try Exporter.encodeTokens(ids: session.ids, pieces: pieces, source: source, format: format),
                               to: path, force: force, shownAs: file)
            return [source.map { "wrote \($0.ids.count) source and \(session.ids.count) target tokens to \(file)" } ?? "wrote \(session.ids.count) tokens to \(file)"]
        }
        let trace = try session.requireTrace()
        let q = try StepQuery.parse(what, in: trace)
        let step = trace[q.name]!
        let (tensor, axes) = StepRenderer.slice(step, q.selections)
        let data = try Exporter.encode(name: q.name, tensor: tensor, axes: axes, format: format)
        try Exporter.write(data, to: path, force: force, shownAs: file)
        return ["wrote \(q.name) \(tensor.shape) to \(file)"]
    }
}

/// `help [COMMAND]`.
enum HelpCommand {
    static func make(_ all: @escaping @Sendable () -> [Command]) -> Command {
        Command(
            "help", aliases: ["?"], usage: "help [COMMAND]",
            summary: "list the commands, or explain one with an example",
            examples: ["help", "help show"],
            completion: .commands
        ) { _, context, rest in
            let commands = all()
            if rest.isEmpty {
                // Usage on its own line, the summary wrapped and indented under it: fits any width.
                var lines = ["Commands (help NAME for details):"]
                for c in commands + [Command("quit", usage: "quit", summary: "leave (Ctrl-D too)") { _, _, _ in [] }] {
                    lines += Prose.wrap(c.usage, width: context.width, first: "  ", rest: "    ")
                    lines += NarrationWrapper.wrap([c.summary], width: Prose.width(context.width) - 6).map { "      " + $0 }
                }
                return lines
            }
            guard let c = commands.first(where: { $0.name == rest || $0.aliases.contains(rest) }) else {
                let hint = Suggest.closest(to: rest, among: commands.map(\.name)).map { " — did you mean '\($0)'?" } ?? ""
                throw StepwiseError.usage("no command '\(rest)'\(hint)")
            }
            let width = Prose.width(context.width)
            var lines = Prose.wrap("usage: \(c.usage)" + (c.aliases.isEmpty ? "" : "   (also: \(c.aliases.joined(separator: ", ")))"),
                                   width: context.width, rest: "         ")
            lines += NarrationWrapper.wrap([c.summary], width: width)
            // A help text's lines are Markdown lines: a paragraph, or a list of '- ' items.
            if !c.help.isEmpty {
                lines.append("")
                lines += NarrationWrapper.wrap(c.help.split(separator: "\n").map(String.init), width: width)
            }
            if !c.examples.isEmpty {
                lines.append("")
                lines.append(c.examples.count == 1 ? "example:" : "examples:")
                lines += c.examples.flatMap { Prose.wrap($0, width: context.width, first: "  ", rest: "      ", cap: false) }
            }
            return lines
        }
    }
}
