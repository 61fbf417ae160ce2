import Foundation

/// The pictures of a command that printed a heatmap, a table or bars, drawn from the session's state,
/// but only when that state is provably the one the command saw.
///
/// A session keeps each command's text and output (``Session/transcript``), not the trace it looked
/// at; a later `prompt` replaces the trace. So before drawing, the command (or, for `next`, `back`,
/// `goto`, `step`, the `show` of the step it printed) is run again on a copy of the session, and the
/// picture is drawn only if that prints exactly the recorded output. Otherwise the page says the picture
/// was left out. Only commands that change nothing are re-run: `show`, `heads`, `top`, `logits`,
/// `attn`, `step`, and `show NAME` for the movement commands.
public enum CommandFigures {
    public enum Outcome {
        /// The pictures (possibly none: a command that draws no picture).
        case pictures([Picture])
        /// The command drew a view, but the session has changed since: no picture, and why.
        case stale(String)
    }

    /// The pictures for `command`, which printed `output`, if the session still shows the same thing.
    public static func pictures(command: String, output: [String], session: Session, context: CommandContext,
                                interpreter: Interpreter) -> Outcome {
        let trimmed = command.trimmingCharacters(in: .whitespaces)
        let word = String(trimmed.prefix { !$0.isWhitespace })
        let rest = String(trimmed.dropFirst(word.count)).trimmingCharacters(in: .whitespaces)
        guard let name = interpreter.command(named: word)?.name, let trace = session.trace else { return .pictures([]) }
        let recheck: String
        let draw: () throws -> [Picture]
        switch name {
        case "show":
            recheck = trimmed
            draw = {
                let q = try StepQuery.parse(rest, in: trace)
                return [StepPictures.step(trace[q.name]!, selections: q.selections, typed: rest, session: session)]
            }
        case "heads":
            recheck = trimmed
            draw = {
                var words = try Arguments.split(rest)
                let place = try AttentionPlace.take(&words, session)
                let L = words.isEmpty ? session.currentStep?.layer ?? 0 : try Arguments.int(words.joined(separator: " "), "layer")
                return [try StepPictures.heads(layer: L, place: place, session: session)]
            }
        case "top":
            recheck = trimmed
            draw = { [try StepPictures.top(rest.isEmpty ? 10 : try Arguments.int(rest, "K"), session: session)] }
        case "logits":
            recheck = trimmed
            draw = { [try StepPictures.top(10, session: session)] }
        case "attn":
            recheck = trimmed
            draw = {
                let words = try Arguments.split(rest)
                guard words.count == 2 else { return [] }
                let (L, H) = (try Arguments.int(words[0], "layer"), try Arguments.int(words[1], "head"))
                guard let step = trace["blocks.\(L).attn.hook_pattern"], step.tensor.rank == 3 else { return [] }
                return [StepPictures.step(step, selections: [.index(H)], typed: "pattern \(L) head \(H)", session: session)]
            }
        case "step", "next", "back", "goto":
            guard let stepName = shownStep(output, in: trace) else { return .pictures([]) }
            recheck = "show " + stepName
            draw = { [StepPictures.step(trace[stepName]!, session: session)] }
        default:
            return .pictures([])
        }
        var copy = session
        // The check prints nothing and draws nothing in the terminal.
        var quiet = context
        quiet.images = nil
        quiet.emit = { _ in }
        guard case .output(let again) = interpreter.execute(recheck, in: &copy, context: quiet), again == output else {
            return .stale("picture left out: the session has changed since this command ran (re-run it to draw it)")
        }
        do {
            return .pictures(try draw())
        } catch {
            return .pictures([])
        }
    }

    /// The step a movement command printed: the name in its header line (`── step 12 of 48 ── NAME ──`).
    static func shownStep(_ output: [String], in trace: Trace) -> String? {
        guard let first = output.first.map(Markup.stripColor) else { return nil }
        return trace.names.filter { first.contains(" \($0) ") }.max { $0.count < $1.count }
    }
}

/// `record FILE.html`: the session so far as one self-contained page.
public enum SessionHTML {
    /// The page for these transcript entries.
    public static func render(_ entries: [(command: String, output: [String])], session: Session,
                              context: CommandContext) -> String {
        let interpreter = StandardCommands.interpreter()
        var body = "<h1>Stepwise session</h1>\n"
        var meta: [String] = []
        if let m = session.model { meta.append("model " + m.info.name) }
        meta.append("\(entries.count) command" + (entries.count == 1 ? "" : "s"))
        body += "<p class=\"meta\">\(Markup.escape(meta.joined(separator: " · "))) · hover a cell for its exact value</p>\n"
        for (command, output) in entries {
            var e = HTMLPage.Entry(command: command, output: output)
            switch CommandFigures.pictures(command: command, output: output, session: session, context: context,
                                           interpreter: interpreter) {
            case .pictures(let ps): e.pictures = ps
            case .stale(let why): e.note = why
            }
            body += HTMLPage.entry(e)
        }
        return HTMLPage.document(title: "Stepwise session", body: body, theme: session.settings.theme)
    }
}
