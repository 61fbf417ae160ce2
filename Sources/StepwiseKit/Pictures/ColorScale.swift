/// Maps values to colours for pictures: a sequential palette from `lo` to `hi` (attention weights,
/// non-negative data), or a diverging blue–white–red palette symmetric around zero (signed data).
///
/// The defaults are readable by people with the common colour-vision deficiencies: viridis (dark
/// purple → green → yellow) for weights, and ColorBrewer's RdBu (blue below zero, near-white at zero,
/// red above) for signed values. A sequential scale runs as the terminal's heatmaps run for the theme
/// (``PictureStyle``): from dim to bright on a dark background, from pale to deep on a light one
/// (``reversed``). Masked cells are never a colour of the scale: ``PictureColors/masked`` is a grey
/// drawn with a hatch line.
public struct ColorScale: Sendable, Equatable {
    /// The palettes a picture can use.
    public enum Palette: String, Sendable, CaseIterable {
        /// Sequential, perceptually uniform, colour-blind safe (matplotlib's default since 2.0).
        case viridis
        /// Sequential, designed to look the same to people with red–green deficiency.
        case cividis
        /// Sequential grey (prints in black and white).
        case grey

        /// Stops from dim to bright, evenly spaced; colours between stops are interpolated in sRGB.
        var stops: [RGB] {
            switch self {
            // viridis at 0, 1/9, …, 1 (the ten colours of viridis(10) in R's viridisLite).
            case .viridis: return [0x440154, 0x482878, 0x3E4A89, 0x31688E, 0x26828E,
                                   0x1F9E89, 0x35B779, 0x6DCD59, 0xB4DE2C, 0xFDE725].map(RGB.init(hex:))
            // cividis(10), from the same package.
            case .cividis: return [0x00204D, 0x00336F, 0x39486B, 0x575C6D, 0x707173,
                                   0x8A8779, 0xA69D75, 0xC4B56C, 0xE4CF5B, 0xFFEA46].map(RGB.init(hex:))
            case .grey: return [0x252525, 0xF7F7F7].map(RGB.init(hex:))
            }
        }
    }

    /// ColorBrewer RdBu (11 classes), from the most negative (dark blue) to the most positive (dark red).
    static let divergingStops: [RGB] = [0x053061, 0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xF7F7F7,
                                        0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B, 0x67001F].map(RGB.init(hex:))

    public var lo: Float
    public var hi: Float
    /// Blue–white–red around zero instead of the sequential palette.
    public var diverging: Bool
    public var palette: Palette
    /// A sequential scale from the palette's brightest stop at `lo` to its dimmest at `hi` (a light
    /// theme's direction: pale to deep); false: dimmest at `lo`.
    public var reversed = false

    /// A sequential scale from `lo` (the palette's first stop; its last when `reversed`) to `hi`.
    public static func sequential(_ lo: Float, _ hi: Float, palette: Palette = .viridis, reversed: Bool = false) -> ColorScale {
        ColorScale(lo: lo, hi: hi, diverging: false, palette: palette, reversed: reversed)
    }

    /// A diverging scale from `-m` (dark blue) through 0 (near white) to `m` (dark red).
    public static func diverging(_ m: Float) -> ColorScale {
        ColorScale(lo: -m, hi: m, diverging: true, palette: .viridis)
    }

    /// The scale that suits these values: diverging when they have both signs, else sequential over
    /// their range. Non-finite values are ignored; none at all give `0...1`.
    public static func fitting(_ values: [Float], palette: Palette = .viridis, reversed: Bool = false) -> ColorScale {
        let finite = values.filter(\.isFinite)
        guard let mn = finite.min(), let mx = finite.max() else { return .sequential(0, 1, palette: palette, reversed: reversed) }
        if mn < 0 && mx > 0 { return .diverging(max(-mn, mx)) }
        return .sequential(mn, mx, palette: palette, reversed: reversed)
    }

    /// Where `v` sits on the scale, 0...1 (clamped; a flat range maps everything to 0.5).
    public func position(_ v: Float) -> Double {
        guard hi > lo else { return 0.5 }
        return Double(max(0, min(1, (v - lo) / (hi - lo))))
    }

    /// The colour of a finite value.
    public func color(_ v: Float) -> RGB {
        let stops = diverging ? Self.divergingStops : (reversed ? palette.stops.reversed() : palette.stops)
        let t = position(v) * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(t))
        return RGB.mix(stops[i], stops[i + 1], t - Double(i))
    }

    /// Tick values for the colour bar: the ends and three between (diverging: −m, −m/2, 0, m/2, m).
    public var ticks: [Float] {
        guard hi > lo else { return [lo] }
        return (0...4).map { lo + (hi - lo) * Float($0) / 4 }
    }
}
