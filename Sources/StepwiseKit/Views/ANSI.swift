/// The few SGR escape sequences the views use (only when ``ViewOptions/color`` is `.ansi256`).
enum ANSI {
    static let reset = "\u{1B}[0m"
    static let bold = "\u{1B}[1m"

    /// Foreground from the 256-colour palette.
    static func fg(_ n: Int) -> String { "\u{1B}[38;5;\(n)m" }
    /// Background from the 256-colour palette.
    static func bg(_ n: Int) -> String { "\u{1B}[48;5;\(n)m" }

    /// Grey for labels and marks.
    static let dimGrey = 244

    /// `text` wrapped in `code` … reset when `on`, else unchanged.
    static func style(_ text: String, _ code: String, _ on: Bool) -> String {
        on && !text.isEmpty ? code + text + reset : text
    }
}
