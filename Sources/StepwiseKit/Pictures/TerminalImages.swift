import Foundation

/// How a terminal is asked to draw a picture inline, below the text.
public enum ImageProtocol: String, CaseIterable, Sendable {
    /// The kitty graphics protocol (kitty, Ghostty): a PNG in APC chunks.
    case kitty
    /// iTerm2's inline images (iTerm2, WezTerm): a PNG in one OSC 1337.
    case iterm
    /// DEC sixel (xterm `-ti vt340`, foot, mlterm, Windows Terminal, tmux 3.4): up to 256 colours.
    case sixel

    /// The protocol `set images on` uses when nothing was detected: sixel, which most terminals that draw
    /// pictures at all understand (tmux 3.4 among them, without a passthrough).
    public static let fallback = ImageProtocol.sixel

    /// How the `set` listing names it.
    public var title: String {
        switch self {
        case .kitty: return "kitty graphics"
        case .iterm: return "iTerm2 inline images"
        case .sixel: return "sixel"
        }
    }
}

/// `set images`: when `show` and `heads` also draw their heatmap as a picture in the terminal.
public enum ImageMode: String, CaseIterable, Sendable {
    /// Only where a terminal known to draw pictures was detected (the default).
    case auto
    /// Always: the detected protocol, else ``ImageProtocol/fallback``.
    case on
    /// Never: text only.
    case off
    /// This protocol, whatever was detected (inside tmux too).
    case kitty, iterm, sixel

    /// The protocol pictures are drawn with under this mode, or nil for text only.
    public func resolve(_ detection: ImageDetection) -> ImageProtocol? {
        switch self {
        case .off: return nil
        case .auto: return detection.found
        case .on: return detection.found ?? ImageProtocol.fallback
        case .kitty: return .kitty
        case .iterm: return .iterm
        case .sixel: return .sixel
        }
    }
}

/// What the environment says about the terminal's pictures, read conservatively: a protocol only for
/// terminals that name themselves, never inside tmux or screen (they would drop or garble the
/// sequence), and no question asked of the terminal (a reply could land in the line editor's input).
public struct ImageDetection: Sendable, Equatable {
    /// The protocol found, or nil.
    public var found: ImageProtocol?
    /// Why, naming the variable that decided: `TERM=xterm-kitty`, `TMUX is set, inside tmux`.
    public var reason: String
    /// Inside tmux: kitty and iTerm2 sequences need tmux's passthrough (`set -g allow-passthrough on`).
    public var tmux: Bool = false

    public init(found: ImageProtocol?, reason: String, tmux: Bool = false) {
        self.found = found
        self.reason = reason
        self.tmux = tmux
    }

    /// Detection from environment variables (empty values count as unset).
    public static func detect(_ environment: [String: String]) -> ImageDetection {
        func value(_ key: String) -> String? {
            guard let v = environment[key], !v.isEmpty else { return nil }
            return v
        }
        let term = value("TERM") ?? ""
        if value("TMUX") != nil || term.hasPrefix("tmux") {
            return ImageDetection(found: nil, reason: (value("TMUX") != nil ? "TMUX is set" : "TERM=" + term) + ", inside tmux", tmux: true)
        }
        if term.hasPrefix("screen") || value("STY") != nil {
            return ImageDetection(found: nil, reason: (term.hasPrefix("screen") ? "TERM=" + term : "STY is set") + ", inside screen")
        }
        if term == "dumb" { return ImageDetection(found: nil, reason: "TERM=dumb") }
        // TERM is set by the terminal itself (a terminal started inside another sets its own).
        if term == "xterm-kitty" { return ImageDetection(found: .kitty, reason: "TERM=xterm-kitty") }
        if term == "xterm-ghostty" { return ImageDetection(found: .kitty, reason: "TERM=xterm-ghostty") }
        if let program = value("TERM_PROGRAM") {
            switch program {
            case "iTerm.app", "WezTerm": return ImageDetection(found: .iterm, reason: "TERM_PROGRAM=" + program)
            case "ghostty": return ImageDetection(found: .kitty, reason: "TERM_PROGRAM=ghostty")
            default:
                // Another terminal that names itself (vscode, Apple_Terminal): variables inherited from
                // the terminal it was started from say nothing about it.
                return ImageDetection(found: nil, reason: "TERM_PROGRAM=" + TerminalText.visible(program))
            }
        }
        // iTerm2 sets LC_TERMINAL, which ssh passes on; kitty's ssh kitten keeps KITTY_WINDOW_ID.
        if value("LC_TERMINAL") == "iTerm2" { return ImageDetection(found: .iterm, reason: "LC_TERMINAL=iTerm2") }
        if value("KITTY_WINDOW_ID") != nil { return ImageDetection(found: .kitty, reason: "KITTY_WINDOW_ID is set") }
        return ImageDetection(found: nil, reason: term.isEmpty ? "TERM is not set" : "TERM=" + TerminalText.visible(term))
    }

    /// What `set images` and the `set` listing say: the protocol `mode` draws with here (or text only),
    /// and what was detected when that is not the same: `drawn with kitty graphics (TERM=xterm-kitty)`,
    /// `text only (detected none: TMUX is set, inside tmux)`.
    public func describe(_ mode: ImageMode) -> String {
        let kind = mode.resolve(self)
        let now = kind.map { "drawn with " + $0.title } ?? "text only"
        if let kind, kind == found { return now + " (" + reason + ")" }
        return now + " (detected " + (found?.title ?? "none") + ": " + reason + ")"
    }
}

/// Where pictures go when the terminal can draw them: given to commands only by the interactive REPL at
/// a terminal, so batch mode, pipes, lessons, `stepwise check` and `record` never see it.
///
/// A picture travels as a ``Picture`` value, never as text: no line a command prints (which may hold
/// text from a model, a lesson or a file) can become an image sequence, because ``TerminalText`` escapes
/// every control character in lines, and only the executable turns a ``Picture`` into escape bytes.
public struct InlineImages: Sendable {
    /// What the environment said, for the `set` listing.
    public var detection: ImageDetection
    /// Draws a picture after the command's text (the executable queues it until the text is printed).
    public var draw: @Sendable (Picture, ImageProtocol) -> Void

    public init(detection: ImageDetection, draw: @escaping @Sendable (Picture, ImageProtocol) -> Void) {
        self.detection = detection
        self.draw = draw
    }

    /// Whether pictures are drawn here under the session's `images` setting.
    public func wanted(_ mode: ImageMode) -> Bool {
        mode.resolve(detection) != nil
    }

    /// Draws `picture()` when the session's `images` setting asks for it here; builds nothing otherwise.
    public func show(_ picture: () throws -> Picture, mode: ImageMode) rethrows {
        guard let kind = mode.resolve(detection) else { return }
        draw(try picture(), kind)
    }
}
