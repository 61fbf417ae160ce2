/// Sentences a command prints (captions, explanations, notes), wrapped to the terminal on word
/// boundaries. Tables and heatmaps lay themselves out to the width; prose is filled here, by the view
/// or command that makes it, never by cutting finished lines.
public enum Prose {
    /// The widest a line of prose gets: on a wide terminal, longer lines are hard to read.
    public static let readableWidth = 100

    /// The columns prose may use on a terminal `width` columns wide.
    public static func width(_ width: Int) -> Int { max(20, min(width, readableWidth)) }

    /// `text` filled into lines of at most ``width(_:)`` columns, breaking at spaces.
    /// - Parameters:
    ///   - first: printed before the first line (an indent or a label such as `"text: "`).
    ///   - rest: printed before every later line; default as many spaces as `first` is wide.
    ///   - cap: false to use the whole terminal width (a command echo, generated text).
    /// - Returns: at least one line. A word longer than a whole line is cut.
    public static func wrap(_ text: String, width: Int, first: String = "", rest: String? = nil, cap: Bool = true) -> [String] {
        let total = cap ? Self.width(width) : max(20, width)
        let rest = rest ?? String(repeating: " ", count: TextWidth.of(first))
        let room = max(8, total - max(TextWidth.of(first), TextWidth.of(rest)))
        return fill(text, width: room).enumerated().map { ($0.offset == 0 ? first : rest) + $0.element }
    }

    /// Items (token labels such as `' the'`, which hold spaces themselves) filled into lines, two items
    /// apart by one space and a line broken only between items, never inside one.
    public static func wrapItems(_ items: [String], width: Int, first: String = "", rest: String? = nil, cap: Bool = true) -> [String] {
        let total = cap ? Self.width(width) : max(20, width)
        let rest = rest ?? String(repeating: " ", count: TextWidth.of(first))
        var lines: [String] = []
        var line = first, empty = true
        for item in items {
            if !empty && TextWidth.of(line) + 1 + TextWidth.of(item) > total {
                lines.append(line)
                line = rest
                empty = true
            }
            line += (empty ? "" : " ") + item
            empty = false
        }
        lines.append(line)
        return lines
    }

    /// Breaks `text` at single spaces into lines of at most `width` columns; the space at a break is
    /// dropped, every other space kept (so runs of spaces in generated text stay as they were).
    static func fill(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = "", used = 0, started = false
        for word in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            var word = word
            var w = TextWidth.of(word)
            if started && used + 1 + w <= width {
                line += " " + word
                used += 1 + w
                continue
            }
            if started { lines.append(line) }
            while w > width {
                let head = TextWidth.cut(word, to: width)
                lines.append(head)
                word = String(word.dropFirst(head.count))
                w = TextWidth.of(word)
            }
            line = word
            used = w
            started = true
        }
        lines.append(line)
        return lines.map(TextWidth.trimTrailing)
    }

    /// Every line of `lines` wrapped (see ``wrap(_:width:first:rest:cap:)``), each keeping its own indent
    /// for its continuation lines.
    public static func wrapEach(_ lines: [String], width: Int, cap: Bool = true) -> [String] {
        lines.flatMap { line -> [String] in
            let indent = String(line.prefix { $0 == " " })
            return wrap(String(line.dropFirst(indent.count)), width: width, first: indent, cap: cap)
        }
    }
}
