/// The colours around a picture's data: background, text, rules and the masked cells' grey, one set
/// per theme (`set theme`), so a picture sits on the same kind of background as the terminal it was
/// made in.
public struct PictureColors: Sendable, Equatable {
    public var theme: ViewOptions.Theme
    public var background: RGB
    /// Body text.
    public var ink: RGB
    /// Secondary text: axis names, notes, ticks.
    public var muted: RGB
    /// Frames and tick marks.
    public var rule: RGB
    /// Faint grid lines under bars.
    public var grid: RGB
    /// A masked cell's fill (outside every scale); ``maskedHatch`` is the diagonal drawn across it.
    public var masked: RGB
    public var maskedHatch: RGB

    public static let light = PictureColors(
        theme: .light, background: .white, ink: .ink, muted: RGB(hex: 0x5F5F5F), rule: RGB(hex: 0x9E9E9E),
        grid: RGB(hex: 0xE0E0E0), masked: RGB(hex: 0xE3E3E3), maskedHatch: RGB(hex: 0xA0A0A0))

    public static let dark = PictureColors(
        theme: .dark, background: RGB(hex: 0x181818), ink: RGB(hex: 0xE6E6E6), muted: RGB(hex: 0xA3A3A3),
        rule: RGB(hex: 0x707070), grid: RGB(hex: 0x333333), masked: RGB(hex: 0x3A3A3A), maskedHatch: RGB(hex: 0x7C7C7C))

    public static func of(_ theme: ViewOptions.Theme) -> PictureColors {
        theme == .dark ? .dark : .light
    }
}

/// How a picture is coloured: the theme's ``PictureColors`` and a palette for its sequential scale,
/// which runs in the direction the terminal's heatmaps run for that theme (``HeatScale``): dim to
/// bright on a dark background, pale to deep on a light one. Signed data always takes the diverging
/// blue–white–red scale.
public struct PictureStyle: Sendable, Equatable {
    public var theme: ViewOptions.Theme
    public var palette: ColorScale.Palette

    public init(theme: ViewOptions.Theme = .dark, palette: ColorScale.Palette = .viridis) {
        self.theme = theme
        self.palette = palette
    }

    /// The session's theme and palette (`set theme`, `set palette`), or `palette` instead when given
    /// (`export … --palette NAME`).
    public init(_ settings: Settings, palette: ColorScale.Palette? = nil) {
        self.init(theme: settings.theme, palette: palette ?? settings.palette)
    }

    public var colors: PictureColors { .of(theme) }

    /// True when the palette runs backwards: its brightest stop at the low end (a light theme).
    public var reversed: Bool { !HeatScale.dimToBright(theme) }

    /// A sequential scale from `lo` to `hi`.
    public func sequential(_ lo: Float, _ hi: Float) -> ColorScale {
        .sequential(lo, hi, palette: palette, reversed: reversed)
    }

    /// The scale that suits these values (diverging when they have both signs).
    public func fitting(_ values: [Float]) -> ColorScale {
        .fitting(values, palette: palette, reversed: reversed)
    }

    /// The colour of bars: two thirds of the way up the sequential scale (viridis's blue on a light
    /// background, its green on a dark one).
    public var bar: RGB { sequential(0, 1).color(2 / 3) }
}
