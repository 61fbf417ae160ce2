import Foundation

/// A picture's pixels as DEC sixel data: at most 256 colour registers (exact when the picture has no
/// more colours, else a median cut of them), six rows a band, runs of a character compressed (`!n`).
///
/// ```
/// ESC P 0;1;0 q  "1;1;W;H  #0;2;R;G;B …  #c <sixels> $ #c' <sixels> - …  ESC \
/// ```
/// Register colours are percentages (0–100), as sixel defines them.
struct SixelImage {
    var width: Int
    var height: Int
    /// RGB, 3 bytes a pixel, row-major.
    var rgb: [UInt8]

    /// The most colour registers used (xterm's and most terminals' default).
    static let registers = 256

    init(width: Int, height: Int, rgb: [UInt8]) {
        precondition(width > 0 && height > 0 && rgb.count == width * height * 3, "SixelImage: \(rgb.count) bytes for \(width)×\(height)")
        self.width = width
        self.height = height
        self.rgb = rgb
    }

    /// The pixels ``PNGWriter`` would write for `picture`.
    init(_ picture: Picture) {
        var canvas = Canvas(width: max(1, picture.width), height: max(1, picture.height), background: picture.background)
        canvas.draw(picture)
        self.init(width: canvas.width, height: canvas.height, rgb: canvas.pixels)
    }

    /// The image scaled down (each new pixel the mean of the ones it covers) to fit `w × h`; itself
    /// when it fits already. Sixel pixels are the terminal's pixels, so nothing is ever enlarged.
    func shrunk(toFit w: Int, _ h: Int) -> SixelImage {
        let s = min(1, Double(max(1, w)) / Double(width), Double(max(1, h)) / Double(height))
        guard s < 1 else { return self }
        let nw = max(1, Int(Double(width) * s)), nh = max(1, Int(Double(height) * s))
        var out = [UInt8](repeating: 0, count: nw * nh * 3)
        for y in 0..<nh {
            let y0 = y * height / nh, y1 = max(y0 + 1, (y + 1) * height / nh)
            for x in 0..<nw {
                let x0 = x * width / nw, x1 = max(x0 + 1, (x + 1) * width / nw)
                var sum = (0, 0, 0)
                for yy in y0..<y1 {
                    var i = 3 * (yy * width + x0)
                    for _ in x0..<x1 {
                        sum.0 += Int(rgb[i]); sum.1 += Int(rgb[i + 1]); sum.2 += Int(rgb[i + 2])
                        i += 3
                    }
                }
                let n = (y1 - y0) * (x1 - x0)
                let o = 3 * (y * nw + x)
                out[o] = UInt8((sum.0 + n / 2) / n)
                out[o + 1] = UInt8((sum.1 + n / 2) / n)
                out[o + 2] = UInt8((sum.2 + n / 2) / n)
            }
        }
        return SixelImage(width: nw, height: nh, rgb: out)
    }

    // MARK: - Colours

    /// The palette (at most ``registers`` colours) and each pixel's entry in it.
    func quantized() -> (palette: [RGB], index: [UInt8]) {
        var counts: [UInt32: Int] = [:]
        for i in 0..<(width * height) { counts[key(i), default: 0] += 1 }
        let colours = counts.keys.sorted()
        var entry: [UInt32: UInt8] = [:]
        var palette: [RGB] = []
        if colours.count <= Self.registers {
            for (n, c) in colours.enumerated() { entry[c] = UInt8(n); palette.append(RGB(hex: c)) }
        } else {
            for (n, box) in Self.medianCut(colours.map { ($0, counts[$0]!) }, into: Self.registers).enumerated() {
                var sum = (0, 0, 0), total = 0
                for (c, k) in box {
                    entry[c] = UInt8(n)
                    sum.0 += Int(c >> 16) * k; sum.1 += Int((c >> 8) & 0xFF) * k; sum.2 += Int(c & 0xFF) * k
                    total += k
                }
                palette.append(RGB(UInt8((sum.0 + total / 2) / total), UInt8((sum.1 + total / 2) / total), UInt8((sum.2 + total / 2) / total)))
            }
        }
        return (palette, (0..<(width * height)).map { entry[key($0)]! })
    }

    func key(_ i: Int) -> UInt32 {
        UInt32(rgb[3 * i]) << 16 | UInt32(rgb[3 * i + 1]) << 8 | UInt32(rgb[3 * i + 2])
    }

    /// Splits the colours (with their pixel counts) into at most `n` boxes: each time the box whose widest
    /// channel spans most is cut at its pixel-weighted median along that channel.
    static func medianCut(_ colours: [(UInt32, Int)], into n: Int) -> [[(UInt32, Int)]] {
        func channel(_ c: UInt32, _ ch: Int) -> Int { Int((c >> (16 - 8 * UInt32(ch))) & 0xFF) }
        func widest(_ box: [(UInt32, Int)]) -> (channel: Int, span: Int) {
            (0..<3).map { ch -> (Int, Int) in
                let v = box.map { channel($0.0, ch) }
                return (ch, v.max()! - v.min()!)
            }.max { $0.1 < $1.1 }!
        }
        var boxes = [colours]
        while boxes.count < n {
            guard let (i, w) = boxes.indices.filter({ boxes[$0].count > 1 }).map({ ($0, widest(boxes[$0])) })
                .max(by: { $0.1.span < $1.1.span }), w.span > 0 else { break }
            let sorted = boxes[i].sorted { (channel($0.0, w.channel), $0.0) < (channel($1.0, w.channel), $1.0) }
            let half = sorted.reduce(0) { $0 + $1.1 } / 2
            var acc = 0, cut = 1
            for (j, e) in sorted.enumerated() {
                acc += e.1
                if acc >= half { cut = j + 1; break }
            }
            cut = min(max(1, cut), sorted.count - 1)
            boxes[i] = Array(sorted[..<cut])
            boxes.append(Array(sorted[cut...]))
        }
        return boxes
    }

    // MARK: - Encoding

    /// The whole DCS sequence.
    func encoded() -> String {
        let (palette, index) = quantized()
        var s = "\u{1B}P0;1;0q\"1;1;\(width);\(height)"
        func percent(_ v: UInt8) -> Int { Int((Double(v) * 100 / 255).rounded()) }
        for (n, c) in palette.enumerated() { s += "#\(n);2;\(percent(c.r));\(percent(c.g));\(percent(c.b))" }
        var slot = [Int](repeating: -1, count: palette.count)
        var bands: [String] = []
        for top in stride(from: 0, to: height, by: 6) {
            let rows = min(6, height - top)
            var used: [Int] = []
            var bits: [[UInt8]] = []
            for k in 0..<rows {
                for x in 0..<width {
                    let c = Int(index[(top + k) * width + x])
                    if slot[c] < 0 {
                        slot[c] = used.count
                        used.append(c)
                        bits.append([UInt8](repeating: 0, count: width))
                    }
                    bits[slot[c]][x] |= 1 << UInt8(k)
                }
            }
            var band: [String] = []
            for (u, c) in used.enumerated() {
                band.append("#\(c)" + Self.runs(bits[u]))
                slot[c] = -1
            }
            bands.append(band.joined(separator: "$"))
        }
        return s + bands.joined(separator: "-") + "\u{1B}\\"
    }

    /// One colour's sixel characters across a band (`?` + its six bits), runs of four or more as `!n`,
    /// the empty tail dropped.
    static func runs(_ bits: [UInt8]) -> String {
        var end = bits.count
        while end > 0 && bits[end - 1] == 0 { end -= 1 }
        var s = ""
        var i = 0
        while i < end {
            var j = i + 1
            while j < end && bits[j] == bits[i] { j += 1 }
            let ch = String(UnicodeScalar(63 + bits[i]))
            s += j - i >= 4 ? "!\(j - i)" + ch : String(repeating: ch, count: j - i)
            i = j
        }
        return s
    }
}
