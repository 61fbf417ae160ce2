import Foundation

/// An sRGB colour, 8 bits a channel.
public struct RGB: Sendable, Hashable, CustomStringConvertible {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF))
    }

    public static let white = RGB(hex: 0xFFFFFF)
    public static let black = RGB(hex: 0x000000)
    /// Dark text, on light cells and light pictures.
    public static let ink = RGB(hex: 0x1A1A1A)

    /// `#rrggbb`, as SVG and CSS write it.
    public var description: String {
        "#" + [r, g, b].map { v in
            let s = String(v, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }

    /// Relative luminance (WCAG), 0 for black to 1 for white: picks black or white text on a cell.
    public var luminance: Double {
        func lin(_ v: UInt8) -> Double {
            let c = Double(v) / 255
            return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }

    /// Black or white, whichever reads better on this colour.
    public var contrastingText: RGB { luminance > 0.22 ? .ink : .white }

    /// The colour `t` of the way from `a` to `b` (channels interpolated in sRGB, rounded).
    static func mix(_ a: RGB, _ b: RGB, _ t: Double) -> RGB {
        func m(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Double(x) + (Double(y) - Double(x)) * t).rounded()) }
        return RGB(m(a.r, b.r), m(a.g, b.g), m(a.b, b.b))
    }
}

/// A drawing in pixel units that ``SVGWriter`` and ``PNGWriter`` render the same way: one layout,
/// two file formats, so the PNG shows exactly what the SVG shows.
///
/// Coordinates are whole pixels from the top left. Text is monospaced: every character (a terminal
/// column, ``TextWidth``) advances ``FontSize/advance`` pixels, in the PNG's bitmap font and in the
/// SVG's monospace font alike, so the layout computed here holds in both.
public struct Picture: Sendable {
    public var width: Int
    public var height: Int
    /// The background, text and rule colours (the session's theme).
    public var colors: PictureColors
    /// What is drawn, in order (later items on top).
    public var items: [Item] = []
    /// A one-line description for screen readers (the SVG's `aria-label`).
    public var label: String = ""

    public var background: RGB { colors.background }

    public init(width: Int, height: Int, colors: PictureColors = .light) {
        self.width = width
        self.height = height
        self.colors = colors
    }

    /// A colour by its part in the picture, resolved against ``colors`` when it is drawn into the layout.
    public enum Ink: Sendable {
        /// Body text.
        case ink
        /// Secondary text: axis names, notes, ticks.
        case muted
        /// Frames and tick marks.
        case rule
        /// Faint grid lines under bars.
        case grid
        /// The hatch across a masked cell.
        case hatch
        case custom(RGB)
    }

    func resolve(_ ink: Ink) -> RGB {
        switch ink {
        case .ink: return colors.ink
        case .muted: return colors.muted
        case .rule: return colors.rule
        case .grid: return colors.grid
        case .hatch: return colors.maskedHatch
        case .custom(let c): return c
        }
    }

    public enum Item: Sendable {
        case rect(Rect)
        case text(Label)
        case line(Line)
    }

    /// What a rectangle stands for (the SVG writes it as its `class`, so tests and styles can find it).
    public enum Role: String, Sendable {
        case plain
        /// A heatmap or table cell holding a value.
        case cell
        /// A cell the attention mask hid: drawn hatched, never as a value.
        case masked
        /// A bar of a bar chart.
        case bar
        /// A slice of the colour bar, or the mask's legend swatch.
        case swatch
    }

    public struct Rect: Sendable {
        public var x: Int, y: Int, w: Int, h: Int
        public var fill: RGB
        public var stroke: RGB?
        /// Shown when the pointer rests on it (SVG `<title>`): the exact value and its labels.
        public var hover: String?
        public var role: Role
        /// Row and column in its matrix, for cells (SVG `data-row`, `data-col`).
        public var cell: (row: Int, col: Int)?
    }

    public enum Anchor: String, Sendable {
        case start, middle, end
    }

    /// Text sizes: the PNG draws the bitmap font at this many pixels per font pixel.
    public enum FontSize: Int, Sendable {
        case body = 2
        case title = 3

        /// Pixels from one character to the next.
        public var advance: Int { BitmapFont.advance * rawValue }
        /// Height of a capital letter above the baseline.
        public var capHeight: Int { BitmapFont.capHeight * rawValue }
        /// Baseline-to-baseline distance for lines of this size.
        public var lineHeight: Int { capHeight + 10 * rawValue / 2 + 4 }
        /// The SVG font size whose monospace advance (0.6 em) matches ``advance``.
        public var svgSize: Double { Double(advance) / 0.6 }
    }

    public struct Label: Sendable {
        /// The start of the baseline (before the anchor shifts it).
        public var x: Int, y: Int
        public var text: String
        public var size: FontSize
        public var anchor: Anchor
        public var color: RGB
        public var bold: Bool
        /// Rotated a quarter turn anticlockwise: reads upwards from `(x, y)`.
        public var vertical: Bool
    }

    public struct Line: Sendable {
        public var x1: Int, y1: Int, x2: Int, y2: Int
        public var color: RGB
        public var width: Int
    }

    // MARK: - Building

    mutating func rect(_ x: Int, _ y: Int, _ w: Int, _ h: Int, fill: RGB, stroke: RGB? = nil, hover: String? = nil,
                       role: Role = .plain, cell: (row: Int, col: Int)? = nil) {
        items.append(.rect(Rect(x: x, y: y, w: w, h: h, fill: fill, stroke: stroke, hover: hover, role: role, cell: cell)))
    }

    mutating func text(_ s: String, x: Int, y: Int, size: FontSize = .body, anchor: Anchor = .start,
                       color: Ink = .ink, bold: Bool = false, vertical: Bool = false) {
        items.append(.text(Label(x: x, y: y, text: s, size: size, anchor: anchor, color: resolve(color), bold: bold, vertical: vertical)))
    }

    mutating func line(_ x1: Int, _ y1: Int, _ x2: Int, _ y2: Int, color: Ink = .rule, width: Int = 1) {
        items.append(.line(Line(x1: x1, y1: y1, x2: x2, y2: y2, color: resolve(color), width: width)))
    }

    /// The width `s` takes at `size`: its terminal columns times the advance.
    static func width(_ s: String, _ size: FontSize = .body) -> Int {
        TextWidth.of(s) * size.advance
    }

    /// `s` cut to at most `pixels` wide, ending in `…` when cut.
    static func fit(_ s: String, _ pixels: Int, _ size: FontSize = .body) -> String {
        TextWidth.truncate(s, to: max(1, pixels / size.advance))
    }

    /// The same drawing moved by `(dx, dy)`, for composing pictures.
    func shifted(dx: Int, dy: Int) -> [Item] {
        items.map { item in
            switch item {
            case .rect(var r): r.x += dx; r.y += dy; return .rect(r)
            case .text(var t): t.x += dx; t.y += dy; return .text(t)
            case .line(var l): l.x1 += dx; l.x2 += dx; l.y1 += dy; l.y2 += dy; return .line(l)
            }
        }
    }
}

extension Picture {
    /// Draws a title and its muted subtitle lines at the top left; returns the baseline of the last line
    /// drawn and the right edge of the widest one.
    mutating func header(_ title: String, _ subtitle: [String], margin m: Int) -> (y: Int, widest: Int) {
        var y = m + FontSize.title.capHeight
        text(title, x: m, y: y, size: .title, bold: true)
        var widest = m + Picture.width(title, .title)
        y += 10
        for line in subtitle {
            y += FontSize.body.lineHeight
            text(line, x: m, y: y, color: .muted)
            widest = max(widest, m + Picture.width(line))
        }
        return (y, widest)
    }
}
