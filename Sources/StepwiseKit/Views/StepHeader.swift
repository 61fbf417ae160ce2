/// The heading drawn above a step's tensor: where the step is in the trace, its name and title,
/// the plain-English explanation, the formula, the shape with axis names and the steps it came from.
///
/// ```
/// ── step 15 of 212 ── blocks.0.attn.hook_pattern ───────────────────────────────
///   Attention pattern (layer 0)
///   Each query position spreads its attention over the keys it may see.
///   formula  pattern = softmax(scores)
///   shape    [head 9, query_pos 5, key_pos 5]
///   from     blocks.0.attn.hook_attn_scores
/// ```
public enum StepHeader {
    /// Renders the heading of `step`.
    ///
    /// - Parameters:
    ///   - step: the step.
    ///   - index: its 0-based position in the trace (shown 1-based: `step 15 of 212`).
    ///   - total: the number of steps in the trace.
    ///   - options: width (prose wraps at spaces; the rule fills the line), colour (bold title,
    ///     grey field names), ASCII fallback (`--` rule).
    ///   - compact: two lines instead of the full heading: the rule with the name, then the title and the
    ///     formula (`set header short`, for lessons on a small screen).
    /// - Returns: the lines, every one at most `options.width` columns wide.
    public static func render(step: Step, index: Int, total: Int, options: ViewOptions = ViewOptions(),
                              compact: Bool = false) -> [String] {
        let o = options
        let margin = TableView.margin
        func g(_ s: String) -> String { ANSI.style(s, ANSI.fg(ANSI.dimGrey), o.colored) }
        let h = o.unicode ? "─" : "-"
        var rule = h + h + " step \(index + 1) of \(total) " + h + h + " "
        if TextWidth.of(rule + step.name) + 2 > o.width { rule = h + h + " \(index + 1)/\(total) " + h + " " }
        let name = TextWidth.truncate(step.name, to: max(1, o.width - TextWidth.of(rule) - 1), ellipsis: o.truncationMark)
        var top = g(rule) + ANSI.style(name, ANSI.bold, o.colored) + " "
        top += g(String(repeating: h, count: max(0, o.width - TextWidth.of(top))))

        var out = [top]
        let inner = o.width - margin.count
        if compact {
            let title = ANSI.style(step.title, ANSI.bold, o.colored)
            let text = step.formula.isEmpty ? title : title + (o.unicode ? " · " : " - ") + step.formula
            return out + Prose.wrap(text, width: o.width, first: margin, rest: margin + "  ", cap: false).map { TableView.fit($0, o) }
        }
        if !step.title.isEmpty {
            out += TextWidth.wrap(step.title, width: inner).map { margin + ANSI.style($0, ANSI.bold, o.colored) }
        }
        if !step.explanation.isEmpty {
            out += TextWidth.wrap(step.explanation, width: inner).map { margin + $0 }
        }
        func field(_ name: String, _ value: String, items: Bool = false) {
            let label = TextWidth.padRight(name, 9)
            let lines = items ? wrapItems(value, width: max(1, inner - 9)) : TextWidth.wrap(value, width: max(1, inner - 9))
            for (i, l) in lines.enumerated() {
                out.append(margin + (i == 0 ? g(label) : String(repeating: " ", count: 9)) + l)
            }
        }
        if !step.formula.isEmpty { field("formula", step.formula) }
        field("shape", step.shapeDescription, items: true)
        field("from", step.inputs.isEmpty ? "(the input tokens)" : step.inputs.joined(separator: ", "), items: true)
        return out.map { TableView.fit($0, o) }
    }

    /// Wraps a `a, b, c` list between its items, cutting only an item longer than a whole line.
    static func wrapItems(_ text: String, width: Int) -> [String] {
        var parts: [String] = []
        var rest = Substring(text)
        while let r = rest.range(of: ", ") {
            parts.append(String(rest[..<r.upperBound]).trimmingTrailingSpace())
            rest = rest[r.upperBound...]
        }
        parts.append(String(rest))
        var lines: [String] = []
        var line = ""
        for part in parts {
            let candidate = line.isEmpty ? part : line + " " + part
            if TextWidth.of(candidate) <= width || line.isEmpty {
                line = candidate
            } else {
                lines.append(line)
                line = part
            }
            while TextWidth.of(line) > width {
                let head = TextWidth.cut(line, to: width)
                lines.append(head)
                line = String(line.dropFirst(head.count))
            }
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }
}

private extension String {
    func trimmingTrailingSpace() -> String { TextWidth.trimTrailing(self) }
}
