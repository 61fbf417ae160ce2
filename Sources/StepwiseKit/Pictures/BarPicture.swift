/// Horizontal bars on an absolute `0…100%` axis, one per item, with the percentage after each bar and
/// a note beside it: the next-token predictions of `top K` and `logits`.
struct BarPicture {
    struct Item {
        var label: String
        var value: Float
        var note: String
        /// Hover text of the bar.
        var hover: String
    }

    var title: String
    var subtitle: [String] = []
    var items: [Item]
    /// Pixels a value of 1 (100%) spans.
    var barSpan = 480
    /// Background and text colours, and the bars' colour (``PictureStyle/bar``).
    var colors: PictureColors = .light
    var color = RGB(hex: 0x31688E)

    func draw() -> Picture {
        let m = MatrixPicture.margin, body = Picture.FontSize.body
        var p = Picture(width: 0, height: 0, colors: colors)
        p.label = ([title] + subtitle).joined(separator: " — ")
        var (y, widest) = p.header(title, subtitle, margin: m)
        y += 24
        let labels = items.map { TextWidth.truncate($0.label, to: 24) }
        let labelW = labels.map { Picture.width($0) }.max() ?? 0
        let x0 = m + labelW + 12
        let rowH = 30, barH = 22
        let top = y
        // Light grid lines at every quarter, under the bars.
        let gridBottom = top + items.count * rowH
        for q in 0...4 {
            let gx = x0 + barSpan * q / 4
            p.line(gx, top - 4, gx, gridBottom, color: q == 0 ? .rule : .grid)
            p.text("\(q * 25)%", x: gx, y: gridBottom + 8 + body.capHeight, anchor: .middle, color: .muted)
        }
        for (item, label) in zip(items, labels) {
            p.text(label, x: x0 - 12, y: y + (barH + body.capHeight) / 2, anchor: .end)
            let v = item.value.isFinite ? max(0, min(1, item.value)) : 0
            let w = Int((Double(v) * Double(barSpan)).rounded())
            p.rect(x0, y, max(w, 1), barH, fill: color, hover: item.hover, role: .bar)
            let pct = BarView.percent(item.value, 1)
            let tx = x0 + max(w, 1) + 8
            p.text(pct, x: tx, y: y + (barH + body.capHeight) / 2)
            let nx = max(tx + Picture.width(pct) + 16, x0 + barSpan + 24)
            p.text(item.note, x: nx, y: y + (barH + body.capHeight) / 2, color: .muted)
            widest = max(widest, nx + Picture.width(item.note), tx + Picture.width(pct))
            y += rowH
        }
        p.width = max(widest, x0 + barSpan + 20) + m
        p.height = gridBottom + 8 + body.capHeight + m
        return p
    }
}

extension StepPictures {
    /// The `top K` bar chart: the K most likely next tokens after the last position.
    /// - Throws: when there is no trace or the model computes no logits.
    /// - Parameter palette: instead of the session's (`set palette`), for the bars' colour.
    public static func top(_ k: Int, session: Session, palette: ColorScale.Palette? = nil) throws -> Picture {
        let trace = try session.requireTrace()
        guard trace.hasLogits, let tok = session.tokenizer else {
            throw StepwiseError(.model, "this model computes no logits (an encoder): see 'steps'")
        }
        let preds = Predictions.top(trace, tokenizer: tok, k: k)
        let style = PictureStyle(session.settings, palette: palette)
        let last = trace.positionLabels.last ?? ""
        let pos = trace.positionLabels.count - 1
        let items = preds.map { pr in
            BarPicture.Item(label: pr.label, value: pr.probability, note: "logit " + NumberFormat.fixed(Double(pr.logit), 3),
                            hover: "\(pr.label) (id \(pr.id)): p = \(exact(pr.probability)), logit \(exact(pr.logit))")
        }
        return BarPicture(title: "Next token after \(last) (position \(pos))",
                          subtitle: ["the \(preds.count) most likely of \(trace["logits"]!.shape[1]) tokens"] + context(session),
                          items: items, colors: style.colors, color: style.bar).draw()
    }
}
