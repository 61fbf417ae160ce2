/// Draws labelled values as horizontal bars with their percentage: next-token probabilities, the
/// attention of one query over keys.
///
/// ```
///   ' mat'   ███████████████████████████▋                  61.5%
///   ' rug'   ████████▍                                     18.7%
/// ```
/// Bars use `█` and the eighth blocks `▏▎▍▌▋▊▉` for the fraction (ASCII: whole `#` cells).
public enum BarView {
    /// Renders one line per item.
    ///
    /// - Parameters:
    ///   - items: labels and values (probabilities in 0...1 for the usual use).
    ///   - options: width, precision (percent shows `precision - 2` decimals, so 3 → `61.5%`),
    ///     colour, ASCII fallback.
    ///   - maxValue: the value a full-length bar stands for; default the largest value (so the top
    ///     item fills the bar). Pass 1 to draw probabilities on an absolute scale.
    /// - Returns: the lines, every one at most `options.width` columns wide (and at most
    ///   ``Prose/readableWidth``: bars do not stretch across a wide terminal). Negative and non-finite
    ///   values get an empty bar and print as they are.
    public static func render(items: [(label: String, value: Float)], options: ViewOptions = ViewOptions(),
                              maxValue: Float? = nil) -> [String] {
        guard !items.isEmpty else { return [] }
        var o = options
        // On a wide terminal a bar as long as the screen is hard to compare with its neighbours.
        o.width = min(o.width, Prose.readableWidth)
        let margin = TableView.margin
        let avail = o.width - margin.count
        let decimals = max(0, o.precision - 2)
        let texts = items.map { percent($0.value, decimals) }
        let pctW = texts.map(\.count).max() ?? 0
        let labelCap = max(4, min(24, avail / 3))
        let labels = items.map { TextWidth.truncate($0.label, to: labelCap, ellipsis: o.truncationMark) }
        let labelW = labels.map(TextWidth.of).max() ?? 0
        let barW = max(1, avail - labelW - 2 - 2 - pctW)
        let top = maxValue ?? items.map(\.value).filter(\.isFinite).max() ?? 0

        return zip(zip(labels, texts), items).map { pair, item in
            let (label, text) = pair
            let fraction: Float = top > 0 && item.value.isFinite ? max(0, min(1, item.value / top)) : 0
            let bar = ANSI.style(bar(fraction * Float(barW), unicode: o.unicode), ANSI.fg(39), o.colored)
            let line = margin + TextWidth.padRight(label, labelW) + "  "
                + TextWidth.padRight(bar, barW) + "  " + TextWidth.padLeft(text, pctW)
            return TableView.fit(line, o)
        }
    }

    static let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]

    /// A bar `units` cells long: full blocks then one eighth-block for the rest (ASCII: rounded `#`s).
    static func bar(_ units: Float, unicode: Bool) -> String {
        guard unicode else { return String(repeating: "#", count: Int(units.rounded())) }
        var full = Int(units)
        var eighth = Int(((units - Float(full)) * 8).rounded())
        if eighth == 8 { full += 1; eighth = 0 }
        return String(repeating: "█", count: full) + eighths[eighth]
    }

    /// `61.5%` with `decimals` digits after the point.
    static func percent(_ v: Float, _ decimals: Int) -> String {
        if !v.isFinite { return NumberFormat.format(v, decimals) }
        return NumberFormat.fixed(Double(v) * 100, decimals) + "%"
    }
}
