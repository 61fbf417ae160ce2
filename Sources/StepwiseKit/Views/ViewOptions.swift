/// How a view draws: the room it has, how numbers look, and which characters and colours it may use.
///
/// Every view is a pure function of its input and these options: the same tensor and options give
/// the same lines, with no ANSI escape sequence unless ``color`` is ``ColorMode/ansi256``.
public struct ViewOptions: Sendable, Equatable {
    /// Whether views may emit colour escape sequences.
    public enum ColorMode: String, Sendable, Equatable, CaseIterable {
        /// Plain text only: no escape sequences at all.
        case never
        /// 256-colour SGR sequences (`ESC[38;5;Nm`, `ESC[48;5;Nm`).
        case ansi256
    }

    /// Terminal columns every line must fit in (default 80).
    public var width: Int
    /// Digits after the decimal point (default 3).
    public var precision: Int
    /// Most rows a table or heatmap shows before eliding the middle; 0 = fit (``height`` rows).
    public var maxRows: Int
    /// Most columns a table or heatmap shows before eliding the middle; 0 = as many as fit ``width``.
    public var maxCols: Int
    /// Colour escapes allowed or not (default ``ColorMode/never``).
    public var color: ColorMode
    /// `false` = pure-ASCII fallback for rules, shades, bars and elision marks (default `true`).
    public var unicode: Bool
    /// Data rows a table or heatmap may use when ``maxRows`` is 0 (default 24).
    public var height: Int
    /// The terminal's background, for colour scales (default ``Theme/dark``).
    public var theme: Theme = .dark

    /// The terminal's background: colour scales go from dim to bright on dark, pale to deep on light.
    public enum Theme: String, Sendable, Equatable, CaseIterable {
        case dark, light
    }

    public init(width: Int = 80, precision: Int = 3, maxRows: Int = 0, maxCols: Int = 0,
                color: ColorMode = .never, unicode: Bool = true, height: Int = 24) {
        precondition(width > 0, "ViewOptions: width must be positive, got \(width)")
        precondition(precision >= 0 && precision <= 12, "ViewOptions: precision \(precision) outside 0...12")
        precondition(maxRows >= 0 && maxCols >= 0, "ViewOptions: maxRows/maxCols must be >= 0")
        precondition(height > 0, "ViewOptions: height must be positive, got \(height)")
        self.width = width
        self.precision = precision
        self.maxRows = maxRows
        self.maxCols = maxCols
        self.color = color
        self.unicode = unicode
        self.height = height
    }

    /// The row budget: ``maxRows`` when set, else ``height``.
    var rowLimit: Int { maxRows > 0 ? maxRows : height }

    /// The mark drawn where rows or columns were left out: `…`, or `...` in ASCII mode.
    var elisionMark: String { unicode ? "…" : "..." }

    /// The mark that ends a truncated label: `…`, or `~` in ASCII mode.
    var truncationMark: String { unicode ? "…" : "~" }

    var colored: Bool { color == .ansi256 }
}
