/// Maps values to heatmap cells: a shade character ramp, a 256-colour grey ramp, or (for signed data
/// in colour) a blue–white–red diverging ramp; masked cells get a mark that never looks like zero.
struct HeatScale {
    var lo: Float
    var hi: Float
    var options: ViewOptions
    /// Colour mode with values on both sides of zero: blue below, red above, white at zero.
    var diverging: Bool

    static let blocks: [Character] = [" ", "░", "▒", "▓", "█"]
    static let asciiRamp: [Character] = Array(" .:-=+*#%@")

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

    /// The 256-colour palette entry for a value.
    func colour(_ v: Float) -> Int {
        let t = position(v)
        if diverging {
            let k = Int((abs(t) * 5).rounded())
            return t < 0 ? 16 + 36 * (5 - k) + 6 * (5 - k) + 5 : 16 + 36 * 5 + 6 * (5 - k) + (5 - k)
        }
        return 232 + Int((t * 23).rounded())
    }

    /// One cell, `width` columns (1 or 2).
    func cell(_ v: Float, masked: Bool, width: Int) -> String {
        if masked || v == -.infinity || v.isNaN {
            let m = width == 1 ? maskMark(width: 1) : " " + maskMark(width: 2)
            return ANSI.style(m, ANSI.fg(ANSI.dimGrey), options.colored)
        }
        if options.colored {
            return ANSI.bg(colour(v)) + String(repeating: " ", count: width) + ANSI.reset
        }
        let r = ramp
        let level = Int((position(v) * Float(r.count - 1)).rounded())
        return String(repeating: String(r[level]), count: width)
    }

    /// `0.000 [  ░░▒▒▓▓██] 1.000` plus ` × masked (…)` when `maskNote` is given; one or two lines.
    func legend(cellWidth w: Int, maskNote: String?) -> [String] {
        let p = options.precision
        let lowValue = diverging ? -max(abs(lo), abs(hi)) : lo
        let highValue = diverging ? max(abs(lo), abs(hi)) : hi
        var samples: [Float] = []
        if options.colored {
            let n = diverging ? 11 : 8
            samples = (0..<n).map { lowValue + (highValue - lowValue) * Float($0) / Float(n - 1) }
        } else {
            let n = ramp.count
            samples = (0..<n).map { lo + (hi - lo) * Float($0) / Float(n - 1) }
        }
        let swatch = samples.map { cell($0, masked: false, width: w) }.joined()
        let scale = "scale " + NumberFormat.format(lowValue, p) + " [" + swatch + "] " + NumberFormat.format(highValue, p)
        guard let maskNote else { return [scale] }
        let mark = ANSI.style(maskMark(width: w), ANSI.fg(ANSI.dimGrey), options.colored)
        let room = options.width - TableView.margin.count
        if TextWidth.of(scale) + 4 + 2 + TextWidth.of(maskNote) <= room {
            return [scale + "    " + mark + " " + maskNote]
        }
        let note = TextWidth.wrap(maskNote, width: max(1, room - 2))
        return [scale] + note.enumerated().map { ($0 == 0 ? mark + " " : "  ") + $1 }
    }
}
