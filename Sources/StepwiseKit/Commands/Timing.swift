import Foundation

/// How long something took, shown only where a person watches (``CommandContext/interactive``), in
/// one format that ``plain(_:)`` can take out again: `record` writes what a script would print.
public enum Timing {
    /// ` in 4.1 ms`.
    public static func suffix(milliseconds ms: Double) -> String {
        " in " + String(format: "%.1f", ms) + " ms"
    }

    /// A printed line as plain text: Stepwise's colour codes and a trailing ``suffix(milliseconds:)`` removed.
    public static func plain(_ line: String) -> String {
        var s = line
        if s.contains("\u{1B}") {
            s = s.replacingOccurrences(of: "\u{1B}\\[(0|1|38;5;[0-9]{1,3}|48;5;[0-9]{1,3})m", with: "", options: .regularExpression)
        }
        if s.hasSuffix(" ms"), let r = s.range(of: " in [0-9]+\\.[0-9] ms$", options: .regularExpression) {
            s.removeSubrange(r)
        }
        return s
    }
}
