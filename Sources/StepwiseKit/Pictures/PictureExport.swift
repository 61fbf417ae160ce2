import Foundation

/// `export WHAT FILE.svg|.png|.html`: what `show`, `heads`, `top` and `logits` print, as a picture.
///
/// - `export NAME[slices] FILE.svg` — a step as `show` draws it;
/// - `export heads L FILE.svg` — every head of layer L side by side (`heads L`; no L: the current step's layer;
///   `export heads cross L …` for an encoder-decoder model's cross-attention);
/// - `export top [K] FILE.svg` — the K most likely next tokens as bars (default 10);
/// - `export logits FILE.svg` — what the `logits` command shows: the top 10 as bars (a sliced
///   `logits[…]` is drawn as `show` draws it).
///
/// Colours follow the session's `set theme` and `set palette`; `--palette NAME` overrides the palette
/// for one picture.
public enum PictureExport {
    /// The picture `what` names, and a short description for the confirmation line.
    /// - Parameter palette: instead of the session's (`--palette`).
    /// - Throws: ``StepwiseError`` naming what is wrong (no trace, a bad layer, an unknown step).
    public static func picture(_ what: String, session: Session, palette: ColorScale.Palette? = nil) throws -> (Picture, String) {
        let words = try Arguments.split(what)
        switch words.first {
        case "heads":
            _ = try session.requireTrace()
            var rest = Array(words.dropFirst())
            let place = try AttentionPlace.take(&rest, session)
            guard rest.count <= 1 else { throw StepwiseError.usage("usage: export heads [encoder|decoder|cross] [LAYER] FILE") }
            let L = rest.count == 1 ? try Arguments.int(rest[0], "layer", range: 0...(place.layers - 1))
                : session.currentStep?.layer ?? 0
            return (try StepPictures.heads(layer: L, place: place, session: session, palette: palette),
                    "the \(place.typed)heads of layer \(L)")
        case "top":
            guard words.count <= 2 else { throw StepwiseError.usage("usage: export top [K] FILE") }
            let k = words.count == 2 ? try Arguments.int(words[1], "K", range: 1...1000) : 10
            return (try StepPictures.top(k, session: session, palette: palette), "the top \(k) next tokens")
        case "logits" where words.count == 1:
            return (try StepPictures.top(10, session: session, palette: palette), "the top 10 next tokens")
        case "tokens" where words.count == 1:
            throw StepwiseError.usage("'tokens' exports to .json, .npy or .csv; a picture is of a step, 'heads L' or 'top K'")
        default:
            let trace = try session.requireTrace()
            let q = try StepQuery.parse(what, in: trace)
            let step = trace[q.name]!
            let (t, _) = StepRenderer.slice(step, q.selections)
            return (StepPictures.step(step, selections: q.selections, typed: what, session: session, palette: palette),
                    "\(q.name) \(t.shape)")
        }
    }

    /// Removes `--palette NAME` from the words and returns the palette, nil when absent.
    /// - Throws: when the name is missing or unknown.
    public static func takePalette(_ words: inout [String]) throws -> ColorScale.Palette? {
        guard let i = words.firstIndex(of: "--palette") else { return nil }
        let names = ColorScale.Palette.allCases.map(\.rawValue).joined(separator: ", ")
        guard i + 1 < words.count, let p = ColorScale.Palette(rawValue: words[i + 1].lowercased()) else {
            throw StepwiseError.usage("--palette takes one of \(names)")
        }
        words.removeSubrange(i...(i + 1))
        return p
    }

    /// The bytes of a picture in a picture format.
    public static func encode(_ picture: Picture, format: Exporter.Format) -> Data {
        switch format {
        case .png: return PNGWriter.render(picture)
        case .html: return Data(HTMLPage.single(picture).utf8)
        default: return Data(SVGWriter.render(picture).utf8)
        }
    }
}
