import Foundation

/// Text made safe for XML and HTML: markup characters escaped, and every character a file should not
/// hold raw (controls, bidirectional overrides: ``TerminalText``; XML's forbidden U+FFFE and U+FFFF)
/// shown as a visible escape instead.
public enum Markup {
    /// Escaped for element content and double- or single-quoted attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in TerminalText.visible(s).unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{FFFE}", "\u{FFFF}": out += "\\u{" + String(u.value, radix: 16) + "}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Removes the SGR colour sequences Stepwise's own views print (`ESC[…m`), for text leaving the terminal.
    public static func stripColor(_ s: String) -> String {
        guard s.contains("\u{1B}") else { return s }
        var out = String.UnicodeScalarView()
        let scalars = Array(s.unicodeScalars)
        var i = 0
        while i < scalars.count {
            if scalars[i] == "\u{1B}", let n = TerminalText.ownSGRLength(scalars, at: i) {
                i += n
                continue
            }
            out.append(scalars[i])
            i += 1
        }
        return String(out)
    }
}

/// Writes a ``Picture`` as SVG: every cell a `<rect>` with a `<title>` (shown on hover: the exact value
/// and its labels), every label a `<text>` element (selectable, searchable), nothing external.
public enum SVGWriter {
    /// The monospace fonts text is laid out for (0.6 em advance); the first one installed is used.
    static let fontFamily = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"

    /// An SVG document.
    /// - Parameter standalone: true for a `.svg` file (XML declaration and the SVG namespace); false for
    ///   an `<svg>` element inside an HTML page, which needs neither (and then holds no URL at all).
    public static func render(_ p: Picture, standalone: Bool = true) -> String {
        var s = ""
        if standalone { s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" }
        s += "<svg"
        if standalone { s += " xmlns=\"http://www.w3.org/2000/svg\"" }
        s += " width=\"\(p.width)\" height=\"\(p.height)\" viewBox=\"0 0 \(p.width) \(p.height)\""
        s += " role=\"img\" aria-label=\"\(Markup.escape(p.label))\" xml:space=\"preserve\""
        s += " font-family=\"\(fontFamily)\" style=\"white-space:pre\">\n"
        s += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(p.width)\" height=\"\(p.height)\" fill=\"\(p.background)\"/>\n"
        for item in p.items {
            switch item {
            case .rect(let r): s += rect(r)
            case .text(let t): s += text(t)
            case .line(let l):
                s += "<line x1=\"\(l.x1)\" y1=\"\(l.y1)\" x2=\"\(l.x2)\" y2=\"\(l.y2)\" stroke=\"\(l.color)\" stroke-width=\"\(l.width)\"/>\n"
            }
        }
        s += "</svg>\n"
        return s
    }

    static func rect(_ r: Picture.Rect) -> String {
        var s = "<rect"
        if r.role != .plain { s += " class=\"\(r.role.rawValue)\"" }
        if let c = r.cell { s += " data-row=\"\(c.row)\" data-col=\"\(c.col)\"" }
        s += " x=\"\(r.x)\" y=\"\(r.y)\" width=\"\(r.w)\" height=\"\(r.h)\" fill=\"\(r.fill)\""
        if let stroke = r.stroke { s += " stroke=\"\(stroke)\" stroke-width=\"1\"" }
        guard let hover = r.hover else { return s + "/>\n" }
        return s + "><title>\(Markup.escape(hover))</title></rect>\n"
    }

    static func text(_ t: Picture.Label) -> String {
        var s = "<text x=\"\(t.x)\" y=\"\(t.y)\" font-size=\"\(format(t.size.svgSize))\" fill=\"\(t.color)\""
        if t.anchor != .start { s += " text-anchor=\"\(t.anchor.rawValue)\"" }
        if t.bold { s += " font-weight=\"bold\"" }
        if t.vertical { s += " transform=\"rotate(-90 \(t.x) \(t.y))\"" }
        return s + ">\(Markup.escape(t.text))</text>\n"
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(format: "%.2f", v)
    }
}
