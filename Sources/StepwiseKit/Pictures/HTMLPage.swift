import Foundation

/// Self-contained HTML pages: one file with its style inline and its pictures as inline SVG, no
/// script, no font, nothing fetched (a Content-Security-Policy forbids every load, so even a page
/// opened online asks the network for nothing). Every piece of text is escaped with ``Markup``.
public enum HTMLPage {
    /// One command of a session or lesson, as the page shows it.
    public struct Entry {
        public var command: String
        public var output: [String]
        /// The error line when the command failed.
        public var error: String?
        public var pictures: [Picture]
        /// Why a picture is missing, when one would have been drawn.
        public var note: String?

        public init(command: String, output: [String], error: String? = nil, pictures: [Picture] = [], note: String? = nil) {
            self.command = command
            self.output = output
            self.error = error
            self.pictures = pictures
            self.note = note
        }
    }

    /// The page's colours for a theme: the light page of paper, or a dark one beside a dark terminal's
    /// pictures (printed as dark text on white: printers leave page backgrounds out).
    struct Colors {
        var scheme: String, background: String, text: String, muted: String, code: String
        var output: String, outputBorder: String, errorBackground: String, errorText: String, errorBorder: String
        var quizBorder: String, quizBackground: String, quote: String, quoteBorder: String

        static let light = Colors(
            scheme: "light", background: "#ffffff", text: "#1a1a1a", muted: "#5f5f5f", code: "#f1f1f1",
            output: "#f6f6f6", outputBorder: "#e2e2e2", errorBackground: "#fdecea", errorText: "#8a1c12", errorBorder: "#f5c6c0",
            quizBorder: "#3e4a89", quizBackground: "#f5f6fb", quote: "#444444", quoteBorder: "#d0d0d0")
        static let dark = Colors(
            scheme: "dark", background: "#181818", text: "#e6e6e6", muted: "#a3a3a3", code: "#2a2a2a",
            output: "#202020", outputBorder: "#333333", errorBackground: "#3b1714", errorText: "#ffb4a8", errorBorder: "#6b2a22",
            quizBorder: "#7f8fd8", quizBackground: "#1e2130", quote: "#c8c8c8", quoteBorder: "#4a4a4a")
    }

    static func style(_ theme: ViewOptions.Theme) -> String {
        let c = theme == .dark ? Colors.dark : Colors.light
        var css = """
            :root { color-scheme: \(c.scheme); }
            body { margin: 0; background: \(c.background); color: \(c.text); font: 17px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
            main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; }
            h1 { font-size: 30px; margin: 8px 0 4px; }
            h2 { font-size: 23px; margin: 28px 0 8px; }
            h3, h4 { font-size: 19px; margin: 22px 0 6px; }
            .meta { color: \(c.muted); margin: 0 0 20px; }
            code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace; }
            p code, li code, summary code { background: \(c.code); padding: 1px 4px; border-radius: 3px; font-size: 15px; }
            section.command { margin: 18px 0 26px; }
            pre { margin: 0; padding: 10px 14px; overflow-x: auto; font-size: 14px; line-height: 1.35; }
            pre.input { background: #263238; color: #eceff1; border-radius: 6px 6px 0 0; }
            pre.input .prompt { color: #80cbc4; user-select: none; }
            pre.output { background: \(c.output); border: 1px solid \(c.outputBorder); border-top: none; border-radius: 0 0 6px 6px; }
            pre.error { background: \(c.errorBackground); color: \(c.errorText); border: 1px solid \(c.errorBorder); border-top: none; border-radius: 0 0 6px 6px; }
            pre.narration { background: \(c.output); border-radius: 6px; }
            figure { margin: 14px 0 0; }
            figure svg { max-width: 100%; height: auto; display: block; }
            figcaption, .note { color: \(c.muted); font-size: 14px; margin-top: 4px; }
            details.quiz { margin: 20px 0; padding: 10px 16px; border: 2px solid \(c.quizBorder); border-radius: 8px; background: \(c.quizBackground); }
            details.quiz summary { cursor: pointer; font-weight: 600; }
            details.quiz .answer { margin: 10px 0 4px; }
            blockquote { margin: 10px 0; padding: 2px 16px; border-left: 4px solid \(c.quoteBorder); color: \(c.quote); }
            @media print { details.quiz { break-inside: avoid; } pre { white-space: pre-wrap; } }
            """
        if theme == .dark {
            let l = Colors.light
            css += """

                @media print {
                  :root { color-scheme: light; }
                  body { background: \(l.background); color: \(l.text); }
                  .meta, figcaption, .note { color: \(l.muted); }
                  pre.output, pre.narration { background: \(l.output); border-color: \(l.outputBorder); }
                  pre.error { background: \(l.errorBackground); color: \(l.errorText); }
                  details.quiz { background: \(l.quizBackground); }
                  blockquote { color: \(l.quote); }
                }
                """
        }
        return css
    }

    /// A whole page.
    /// - Parameters:
    ///   - title: the page's title, escaped here.
    ///   - body: already-escaped HTML for inside `<main>`.
    ///   - theme: the page's colours (the session's `set theme`, as its pictures have).
    public static func document(title: String, body: String, theme: ViewOptions.Theme) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="Stepwise">
        <title>\(Markup.escape(title))</title>
        <style>
        \(style(theme))
        </style>
        </head>
        <body>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    /// A page holding one picture (`export NAME FILE.html`).
    public static func single(_ p: Picture) -> String {
        document(title: p.label, body: figure(p), theme: p.colors.theme)
    }

    /// A picture as a figure with its SVG inline.
    static func figure(_ p: Picture) -> String {
        "<figure>\n" + SVGWriter.render(p, standalone: false) + "</figure>\n"
    }

    /// A command, its output as text, and its pictures.
    static func entry(_ e: Entry) -> String {
        var s = "<section class=\"command\">\n"
        s += "<pre class=\"input\"><span class=\"prompt\">stepwise&gt; </span>\(Markup.escape(e.command))</pre>\n"
        if let error = e.error {
            s += "<pre class=\"error\">\(Markup.escape(error))</pre>\n"
        } else {
            s += "<pre class=\"output\">" + text(e.output) + "</pre>\n"
        }
        for p in e.pictures { s += figure(p) }
        if let note = e.note { s += "<p class=\"note\">\(Markup.escape(note))</p>\n" }
        return s + "</section>\n"
    }

    /// Output lines as the inside of a `<pre>`: colour codes removed, every line escaped.
    static func text(_ lines: [String]) -> String {
        lines.map { Markup.escape(Markup.stripColor($0)) }.joined(separator: "\n")
    }
}
