/// Draws rows of named fields as aligned columns: a header, one line per row, the middle rows elided
/// when there are more than the row budget. For tables whose columns are different kinds of value
/// (a token id beside a probability), where a number table would print every column alike and
/// summarise them together.
///
/// ```
///   rank  token          id  probability  cumulative
///      0  ' table'     1937        0.050       0.050
/// ```
public enum RecordsView {
    /// A column: its title, and whether its cells are right-aligned (numbers) or left-aligned (text).
    public struct Column: Sendable, Equatable {
        public var title: String
        public var numeric: Bool
        public init(_ title: String, numeric: Bool = true) {
            self.title = title
            self.numeric = numeric
        }
    }

    /// Renders the rows; a text column wider than its share of ``ViewOptions/width`` is cut with the
    /// truncation mark, so every line fits.
    /// - Parameters:
    ///   - rows: one cell per column, already formatted.
    ///   - options: width, row budget (``ViewOptions/maxRows``, else ``ViewOptions/height``), colour, ASCII.
    ///   - mark: a row to point at with `▶` (`>` in ASCII); when the budget elides rows, it and its
    ///     neighbours are shown too.
    public static func render(columns: [Column], rows: [[String]], options o: ViewOptions, mark: Int? = nil) -> [String] {
        precondition(rows.allSatisfy { $0.count == columns.count }, "RecordsView: a row has the wrong number of cells")
        let margin = TableView.margin, sep = "  "
        let shown = pick(count: rows.count, limit: o.rowLimit, mark: mark)
        let visible = shown.compactMap { $0 }.map { rows[$0] }
        var widths = columns.indices.map { c in
            max(TextWidth.of(columns[c].title), visible.map { TextWidth.of($0[c]) }.max() ?? 0)
        }
        // Text columns give up room when the line is too wide.
        let fixed = margin.count + sep.count * (columns.count - 1)
        for c in columns.indices where !columns[c].numeric {
            let others = widths.enumerated().filter { $0.offset != c }.map(\.element).reduce(0, +)
            widths[c] = max(4, min(widths[c], o.width - fixed - others))
        }
        let pointer = o.unicode ? "▶ " : "> "
        func line(_ cells: [String], marked: Bool = false) -> String {
            let parts = zip(columns, zip(cells, widths)).map { col, cw in
                let cell = TextWidth.truncate(cw.0, to: cw.1, ellipsis: o.truncationMark)
                return col.numeric ? TextWidth.padLeft(cell, cw.1) : TextWidth.padRight(cell, cw.1)
            }
            return TableView.fit((marked ? pointer : margin) + parts.joined(separator: sep), o)
        }
        let grey = ANSI.fg(ANSI.dimGrey)
        var out = [ANSI.style(line(columns.map(\.title)), grey, o.colored)]
        for r in shown {
            guard let r else {
                out.append(ANSI.style(line(columns.map { $0.numeric ? o.elisionMark : "" }), grey, o.colored))
                continue
            }
            out.append(line(rows[r], marked: r == mark))
        }
        return out
    }

    /// The rows shown: ``Elision/pick(count:limit:)``, or, when that would hide `mark`, the first rows,
    /// the two either side of `mark`, and the last row, with gaps (`nil`) between.
    static func pick(count: Int, limit: Int, mark: Int?) -> [Int?] {
        let plain = Elision.pick(count: count, limit: limit)
        guard let mark, mark >= 0, mark < count, !plain.contains(mark) else { return plain }
        let around = max(0, mark - 2)...min(count - 1, mark + 2)
        let head = Array(0..<max(1, min(around.lowerBound, limit - around.count - 1)))
        var out: [Int?] = head
        if around.lowerBound > head.count { out.append(nil) }
        out += around.map { $0 }
        if around.upperBound < count - 2 { out.append(nil) }
        if around.upperBound < count - 1 { out.append(count - 1) }
        return out
    }
}
