/// Locale-free number formatting shared by the views.
///
/// A tensor is printed in one style so its column lines up: fixed point (`-0.125`) normally,
/// scientific (`1.250e+07`) when the largest finite magnitude is at least a million or when every
/// value would round to zero at the chosen precision.
enum NumberFormat {
    enum Style: Equatable {
        case fixed
        case scientific
    }

    /// The style that keeps values of this magnitude readable at `precision` digits.
    static func style(maxAbs: Float, precision: Int) -> Style {
        guard maxAbs.isFinite else { return .fixed }
        if maxAbs >= 1e6 { return .scientific }
        if maxAbs > 0 && Double(maxAbs) < 0.5 * pow10(-precision) { return .scientific }
        return .fixed
    }

    /// One value in `style`; non-finite values print as `-inf`, `inf` and `nan`.
    static func format(_ x: Float, _ precision: Int, _ style: Style) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        switch style {
        case .fixed: return fixed(Double(x), precision)
        case .scientific: return scientific(Double(x), precision)
        }
    }

    /// One value in the style that suits it alone (for stats and legends).
    static func format(_ x: Float, _ precision: Int) -> String {
        format(x, precision, style(maxAbs: abs(x), precision: precision))
    }

    /// `x` with exactly `precision` digits after the point, rounded half away from zero.
    static func fixed(_ x: Double, _ precision: Int) -> String {
        let scale = pow10(precision)
        let scaled = (abs(x) * scale).rounded(.toNearestOrAwayFromZero)
        if scaled >= 9e18 { return scientific(x, precision) }
        let n = UInt64(scaled)
        let p = UInt64(scale)
        let sign = x < 0 ? "-" : ""
        let whole = String(n / p)
        guard precision > 0 else { return sign + whole }
        var frac = String(n % p)
        frac = String(repeating: "0", count: precision - frac.count) + frac
        return sign + whole + "." + frac
    }

    /// `x` as `d.ddde±XX` with `precision` digits after the point.
    static func scientific(_ x: Double, _ precision: Int) -> String {
        let a = abs(x)
        var exponent = 0
        var mantissa = a
        if a != 0 {
            while mantissa >= 10 { mantissa /= 10; exponent += 1 }
            while mantissa < 1 { mantissa *= 10; exponent -= 1 }
        }
        let scale = pow10(precision)
        mantissa = (mantissa * scale).rounded(.toNearestOrAwayFromZero) / scale
        if mantissa >= 10 { mantissa /= 10; exponent += 1 }
        let m = fixed(mantissa, precision)
        let e = String(abs(exponent))
        let sign = x < 0 ? "-" : ""
        return sign + m + "e" + (exponent < 0 ? "-" : "+") + (e.count < 2 ? "0" + e : e)
    }

    static func pow10(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<abs(n) { r *= 10 }
        return n < 0 ? 1 / r : r
    }
}

/// Finite min, max and mean of some values, and how many were `-inf`, `+inf` or NaN.
struct ValueSummary: Equatable {
    var min: Float = .infinity
    var max: Float = -.infinity
    var mean: Float = 0
    var finiteCount = 0
    var negInf = 0
    var posInf = 0
    var nan = 0

    init<S: Sequence>(_ values: S) where S.Element == Float {
        var sum = 0.0
        for v in values {
            if v.isNaN { nan += 1; continue }
            if v.isInfinite { if v < 0 { negInf += 1 } else { posInf += 1 }; continue }
            if v < min { min = v }
            if v > max { max = v }
            sum += Double(v)
            finiteCount += 1
        }
        mean = finiteCount > 0 ? Float(sum / Double(finiteCount)) : 0
    }

    var hasNonFinite: Bool { negInf + posInf + nan > 0 }
    var maxAbs: Float { finiteCount > 0 ? Swift.max(abs(min), abs(max)) : 0 }

    /// The widest a value of this set prints in `style` (extremes give the widest fixed form).
    func cellWidth(_ precision: Int, _ style: NumberFormat.Style) -> Int {
        var w = 1
        if finiteCount > 0 {
            w = Swift.max(NumberFormat.format(min, precision, style).count,
                          NumberFormat.format(max, precision, style).count)
        }
        if negInf > 0 { w = Swift.max(w, 4) }
        if posInf > 0 || nan > 0 { w = Swift.max(w, 3) }
        return w
    }
}
