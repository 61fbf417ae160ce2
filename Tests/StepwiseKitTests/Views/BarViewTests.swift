import Testing
@testable import StepwiseKit

@Suite("BarView")
struct BarViewTests {
    let items: [(label: String, value: Float)] = [
        ("' mat'", 0.615), ("' rug'", 0.187), ("' floor'", 0.0931), ("' bed'", 0.052), ("' sofa'", 0.0004),
    ]

    @Test("probabilities as bars with eighth blocks, scaled to the top item")
    func bars() {
        let lines = BarView.render(items: items)
        Snapshot.check(lines, "bars_top5")
        #expect(lines[0].hasSuffix("61.5%"))
        #expect(lines.allSatisfy { TextWidth.of($0) <= 80 })
        // The top item fills the whole bar: no eighth block, just full cells.
        #expect(lines[0].contains(String(repeating: "█", count: 40)))
    }

    @Test("an absolute scale, ASCII and colour")
    func variants() {
        Snapshot.check(BarView.render(items: items, options: ViewOptions(width: 60), maxValue: 1), "bars_top5_abs_w60")
        let ascii = BarView.render(items: items, options: ViewOptions(width: 60, unicode: false), maxValue: 1)
        Snapshot.check(ascii, "bars_top5_ascii")
        #expect(ascii.allSatisfy { $0.unicodeScalars.allSatisfy(\.isASCII) })
        Snapshot.check(BarView.render(items: items, options: ViewOptions(color: .ansi256)), "bars_top5_colour")
    }

    @Test("bar lengths in eighths", arguments: [(0.0, ""), (1.0 / 8, "▏"), (1.5, "█▌"), (2.99, "███"), (3.0, "███")] as [(Double, String)])
    func eighths(units: Double, want: String) {
        #expect(BarView.bar(Float(units), unicode: true) == want)
    }
}
