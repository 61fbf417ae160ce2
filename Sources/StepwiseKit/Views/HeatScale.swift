/// Maps values to heatmap cells; masked cells get a mark that never looks like zero.
///
/// Without colour a cell is a bar of eight heights (`▁▂▃▄▅▆▇█`; ASCII `.:-=+*#%@`), blank only below
/// 1% of the range, so a weight of 0.05 on a 0-1 scale is a visible `▁`. Signed data without colour
/// draws the sign before the bar (`-▃`, `+▆`) in two-column cells. In colour, eight steps of viridis
/// (perceptually even, colour-blind safe) go from dim to bright on a dark theme and from pale to deep on
/// a light one; signed data uses a blue–white–red diverging ramp.
struct HeatScale {
    var lo: Float
    var hi: Float
    var options: ViewOptions
    /// Colour mode with values on both sides of zero: blue below, red above, white at zero.
    var diverging: Bool

    static let blocks: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    static let asciiRamp: [Character] = Array(" .:-=+*#%@")
    /// Viridis at 1/8, 2/8, ..., 1 in the 256-colour palette (nearest entries), weakest first.
    static let viridis = [54, 60, 24, 30, 36, 77, 149, 220]
    /// Below this share of the range a cell is blank (level 0).
    static let blankBelow: Float = 0.01

    init(lo: Float, hi: Float, options: ViewOptions) {
        self.lo = lo
        self.hi = hi
        self.options = options
        diverging = options.colored && lo < 0 && hi > 0
    }

    /// The range of the unmasked finite values, or `0...0` when there are none.
    static func range(_ values: [Float]) -> ClosedRange<Float> {
        let s = ValueSummary(values)
        return s.finiteCount > 0 ? s.min...s.max : 0...0
    }

    var ramp: [Character] { options.unicode ? Self.blocks : Self.asciiRamp }
    /// `×` in two-column cells; the lighter `·` in one-column cells, where a wall of `×` would
    /// drown the values (ASCII: `x` always — `.` is a shade there).
    func maskMark(width: Int) -> String { options.unicode ? (width == 1 ? "·" : "×") : "x" }

    /// Where `v` sits in the range, 0...1 (for diverging: -1...1 around zero).
    func position(_ v: Float) -> Float {
        if diverging {
            let m = max(abs(lo), abs(hi))
            return max(-1, min(1, v / m))
        }
        guard hi > lo else { return v == 0 ? 0 : 1 }
        return max(0, min(1, (v - lo) / (hi - lo)))
    }

    /// Whether signed data without colour shows its sign (always, for values on both sides of zero).
    var signed: Bool { lo < 0 && hi > 0 }
    /// Signed data without colour needs two columns a cell: the sign, then the bar.
    var needsTwoColumns: Bool { signed && !options.colored }
    /// The magnitude ramp after a sign in ASCII (no `-` or `+`, which would read as signs).
    static let asciiSignedRamp: [Character] = Array(" .:=*#%@&")

    /// The step of a share `t` of the range (0...1) on a ramp of `steps` non-blank steps: 0 (blank)
    /// below ``blankBelow``, else 1...steps, rounding up so that no visible weight reads as nothing.
    static func level(_ t: Float, steps: Int) -> Int {
        // (The small allowance keeps a value exactly on a step's top, such as 5/8, on that step.)
        t < blankBelow ? 0 : min(steps, max(1, Int((t * Float(steps) - 1e-4).rounded(.up))))
    }

    /// Whether a sequential colour scale runs from dim (low values) to bright (high values) on this
    /// theme: on a dark background the strongest values are the brightest; on a light one the deepest.
    /// Pictures (``PictureStyle``) follow the same rule.
    static func dimToBright(_ theme: ViewOptions.Theme) -> Bool { theme == .dark }

    /// The 256-colour palette entry for a value (nil: draw nothing, the value is below 1% of the range).
    func colour(_ v: Float) -> Int? {
        let t = position(v)
        if diverging {
            let k = Int((abs(t) * 5).rounded())
            return t < 0 ? 16 + 36 * (5 - k) + 6 * (5 - k) + 5 : 16 + 36 * 5 + 6 * (5 - k) + (5 - k)
        }
        let level = Self.level(t, steps: Self.viridis.count)
        guard level > 0 else { return nil }
        return Self.dimToBright(options.theme) ? Self.viridis[level - 1] : Self.viridis[Self.viridis.count - level]
    }

    /// One cell, `width` columns (1 or 2).
    func cell(_ v: Float, masked: Bool, width: Int) -> String {
        if masked || v == -.infinity || v.isNaN {
            let m = width == 1 ? maskMark(width: 1) : " " + maskMark(width: 2)
            return ANSI.style(m, ANSI.fg(ANSI.dimGrey), options.colored)
        }
        if options.colored {
            guard let c = colour(v) else { return String(repeating: " ", count: width) }
            return ANSI.bg(c) + String(repeating: " ", count: width) + ANSI.reset
        }
        if signed {
            // Sign and magnitude: the bar for |v| on the larger side's scale (two columns, see needsTwoColumns).
            let r = options.unicode ? Self.blocks : Self.asciiSignedRamp
            let m = max(abs(lo), abs(hi))
            let level = Self.level(abs(v) / m, steps: r.count - 1)
            return (level == 0 ? " " : (v < 0 ? "-" : "+")) + String(r[level])
        }
        let r = ramp
        let level = Self.level(position(v), steps: r.count - 1)
        return String(repeating: String(r[level]), count: width)
    }

    /// What the scale means, for the legend: `taller = more`, `brighter = more`, ...
    var reading: String {
        if options.colored { return diverging ? "blue < 0 < red" : (Self.dimToBright(options.theme) ? "brighter = more" : "darker = more") }
        let more = options.unicode ? "taller" : "denser"
        return signed ? "sign, then \(more) = larger |value|" : "\(more) = more"
    }

    /// `0.000 [  ░░▒▒▓▓██] 1.000` plus ` × masked (…)` when `maskNote` is given; one or two lines.
    func legend(cellWidth w: Int, maskNote: String?) -> [String] {
        let p = options.precision
        let lowValue = diverging ? -max(abs(lo), abs(hi)) : lo
        let highValue = diverging ? max(abs(lo), abs(hi)) : hi
        var samples: [Float] = []
        if options.colored && diverging {
            samples = (0..<11).map { lowValue + (highValue - lowValue) * Float($0) / 10 }
        } else if signed {
            let m = max(abs(lo), abs(hi))
            let n = (options.unicode ? Self.blocks : Self.asciiSignedRamp).count - 1
            samples = (1...n).reversed().map { -m * Float($0) / Float(n) } + [0] + (1...n).map { m * Float($0) / Float(n) }
        } else {
            // One sample per step: blank, then each step's top value.
            let n = options.colored ? Self.viridis.count : ramp.count - 1
            samples = [lo] + (1...n).map { lo + (hi - lo) * Float($0) / Float(n) }
        }
        let swatch = samples.map { cell($0, masked: false, width: w) }.joined()
        let blank = signed ? "" : ", blank < " + NumberFormat.format(lo + (hi - lo) * Self.blankBelow, p)
        var scale = "scale " + NumberFormat.format(lowValue, p) + " [" + swatch + "] " + NumberFormat.format(highValue, p)
        let room = options.width - TableView.margin.count
        var lines: [String] = []
        let note = "(" + reading + blank + ")"
        if TextWidth.of(scale) + 1 + TextWidth.of(note) <= room { scale += " " + note } else { lines.append(note) }
        guard let maskNote else { return [scale] + lines }
        let mark = ANSI.style(maskMark(width: w), ANSI.fg(ANSI.dimGrey), options.colored)
        if lines.isEmpty, TextWidth.of(scale) + 4 + 2 + TextWidth.of(maskNote) <= room {
            return [scale + "    " + mark + " " + maskNote]
        }
        let wrapped = TextWidth.wrap(maskNote, width: max(1, room - 2))
        return [scale] + lines + wrapped.enumerated().map { ($0 == 0 ? mark + " " : "  ") + $1 }
    }
}
