import Foundation

/// The terminal's size in cells and, when it says, in pixels (`TIOCGWINSZ`).
public struct TerminalGeometry: Sendable, Equatable {
    public var columns: Int
    public var rows: Int
    /// Pixels of one cell; 0 when the terminal does not say (then 9×18 is assumed).
    public var cellWidth: Int
    public var cellHeight: Int

    public init(columns: Int, rows: Int, cellWidth: Int = 0, cellHeight: Int = 0) {
        self.columns = max(2, columns)
        self.rows = max(2, rows)
        self.cellWidth = cellWidth
        self.cellHeight = cellHeight
    }

    /// From a window size in cells and (possibly zero) pixels.
    public init(columns: Int, rows: Int, pixelWidth: Int, pixelHeight: Int) {
        let cw = columns > 0 && pixelWidth > 0 ? pixelWidth / columns : 0
        let ch = rows > 0 && pixelHeight > 0 ? pixelHeight / rows : 0
        self.init(columns: columns, rows: rows, cellWidth: cw, cellHeight: ch)
    }

    var cell: (w: Int, h: Int) {
        cellWidth > 0 && cellHeight > 0 ? (cellWidth, cellHeight) : (9, 18)
    }
}

/// The bytes that make a terminal draw a picture, for each ``ImageProtocol``.
///
/// Every sequence is built here from the picture's pixels and fixed keys: base64 (`A–Z a–z 0–9 + / =`)
/// for kitty and iTerm2, sixel data characters (`?`…`~`, `#`, `!`, `$`, `-`, digits, `;`) for sixel.
/// No text of the picture (its labels are drawn into pixels) and no text from the session is copied
/// into a sequence.
public enum ImageEscape {
    /// The most base64 bytes in one kitty chunk (the protocol's limit).
    public static let kittyChunk = 4096

    /// The cells a `width × height`-pixel picture takes: as many columns as its pixels need at the cell
    /// size (never upscaled past it, never wider than the terminal less one column) and no more rows than
    /// the screen less three (the prompt and a line of text stay in view).
    public static func cells(width: Int, height: Int, in g: TerminalGeometry) -> (columns: Int, rows: Int) {
        let (cw, ch) = g.cell
        let aspect = Double(height) / Double(max(1, width))
        var columns = max(1, min(g.columns - 1, (width + cw - 1) / cw))
        var rows = max(1, Int((Double(columns * cw) * aspect / Double(ch)).rounded(.up)))
        let most = max(4, g.rows - 3)
        if rows > most {
            rows = most
            columns = max(1, min(columns, Int(Double(rows * ch) / aspect / Double(cw))))
        }
        return (columns, rows)
    }

    /// A PNG for the kitty graphics protocol: transmitted and placed at the cursor over `columns × rows`
    /// cells (`a=T,f=100,c=,r=`), the terminal's replies suppressed (`q=2`: an answer would arrive as
    /// typed keys), the cursor left where it was (`C=1`); the base64 in chunks of at most
    /// ``kittyChunk`` bytes, `m=1` on all but the last.
    public static func kitty(png: Data, columns: Int, rows: Int) -> String {
        let payload = Array(png.base64EncodedString().utf8)
        var out = ""
        var start = 0
        repeat {
            let end = min(payload.count, start + kittyChunk)
            let more = end < payload.count ? 1 : 0
            let keys = start == 0 ? "a=T,f=100,q=2,c=\(columns),r=\(rows),C=1,m=\(more)" : "m=\(more)"
            out += "\u{1B}_G" + keys + ";" + String(decoding: payload[start..<end], as: UTF8.self) + "\u{1B}\\"
            start = end
        } while start < payload.count
        return out
    }

    /// A PNG as an iTerm2 inline image (`OSC 1337 ; File=inline=1;…: base64 BEL`), fitted into
    /// `columns × rows` cells with its aspect ratio kept.
    public static func iterm(png: Data, columns: Int, rows: Int) -> String {
        "\u{1B}]1337;File=inline=1;size=\(png.count);width=\(columns);height=\(rows);preserveAspectRatio=1:"
            + png.base64EncodedString() + "\u{07}"
    }

    /// A sequence wrapped for tmux's passthrough (`DCS tmux; … ST`, every ESC doubled), which tmux hands
    /// to the terminal outside it when `allow-passthrough` is on.
    public static func tmuxPassthrough(_ sequence: String) -> String {
        "\u{1B}Ptmux;" + sequence.replacingOccurrences(of: "\u{1B}", with: "\u{1B}\u{1B}") + "\u{1B}\\"
    }

    /// Everything to write after a command's text to draw `picture` with `kind`: the sequence, then the
    /// newlines that leave the cursor on the line below the picture.
    /// - Parameter tmux: wrap kitty and iTerm2 sequences for tmux's passthrough (sixel goes as it is:
    ///   tmux 3.4 draws sixel itself).
    public static func sequence(for picture: Picture, as kind: ImageProtocol, in geometry: TerminalGeometry,
                                tmux: Bool = false) -> String {
        let (columns, rows) = cells(width: picture.width, height: picture.height, in: geometry)
        switch kind {
        case .kitty:
            // The cursor stays (C=1); the newlines move it under the picture, scrolling as text does.
            let s = kitty(png: PNGWriter.render(picture), columns: columns, rows: rows)
            return (tmux ? tmuxPassthrough(s) : s) + String(repeating: "\n", count: rows)
        case .iterm:
            let s = iterm(png: PNGWriter.render(picture), columns: columns, rows: rows)
            return (tmux ? tmuxPassthrough(s) : s) + "\n"
        case .sixel:
            // Sixel has no cell size: the pixels are shrunk (never enlarged) to the cells' pixels.
            let (cw, ch) = geometry.cell
            var image = SixelImage(picture)
            image = image.shrunk(toFit: columns * cw, rows * ch)
            return image.encoded() + "\n"
        }
    }
}
