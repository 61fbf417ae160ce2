import CZlib
import Foundation

/// Draws a ``Picture`` into pixels and writes them as a PNG: 8-bit RGB, no interlace, one IDAT chunk
/// compressed by the system zlib (`compress2`), every chunk's CRC-32 from zlib's `crc32`.
///
/// Rectangles and lines are drawn without anti-aliasing, so a cell's pixels are exactly its colour;
/// text uses ``BitmapFont`` at 2× (body) or 3× (titles).
public enum PNGWriter {
    /// The PNG file of a picture.
    public static func render(_ p: Picture) -> Data {
        var canvas = Canvas(width: p.width, height: p.height, background: p.background)
        canvas.draw(p)
        return encode(width: p.width, height: p.height, rgb: canvas.pixels)
    }

    /// A PNG of `width × height` RGB pixels, row-major, 3 bytes each.
    /// - Precondition: `rgb.count == width * height * 3`, both sides positive.
    public static func encode(width: Int, height: Int, rgb: [UInt8]) -> Data {
        precondition(width > 0 && height > 0 && rgb.count == width * height * 3,
                     "PNGWriter: \(rgb.count) bytes for \(width)×\(height) RGB")
        // Each row is preceded by its filter type, 0 (None).
        var raw = [UInt8]()
        raw.reserveCapacity(height * (width * 3 + 1))
        for y in 0..<height {
            raw.append(0)
            raw.append(contentsOf: rgb[(y * width * 3)..<((y + 1) * width * 3)])
        }
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var ihdr = Data()
        ihdr.append(bigEndian: UInt32(width))
        ihdr.append(bigEndian: UInt32(height))
        ihdr.append(contentsOf: [8, 2, 0, 0, 0])  // bit depth 8, colour type 2 (RGB), deflate, filter 0, no interlace
        chunk("IHDR", ihdr, into: &png)
        chunk("IDAT", deflate(raw), into: &png)
        chunk("IEND", Data(), into: &png)
        return png
    }

    /// A zlib stream (RFC 1950) of `bytes`, from zlib's `compress2` at level 9.
    static func deflate(_ bytes: [UInt8]) -> Data {
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                compress2(dst.baseAddress, &size, src.baseAddress, uLong(bytes.count), 9)
            }
        }
        precondition(status == Z_OK, "PNGWriter: zlib compress2 failed with status \(status)")
        return Data(out[0..<Int(size)])
    }

    static func chunk(_ type: String, _ data: Data, into png: inout Data) {
        png.append(bigEndian: UInt32(data.count))
        var body = Data(type.utf8)
        body.append(data)
        png.append(body)
        let crc = body.withUnsafeBytes { raw in
            crc32(0, raw.bindMemory(to: Bytef.self).baseAddress, uInt(body.count))
        }
        png.append(bigEndian: UInt32(crc))
    }
}

extension Data {
    mutating func append(bigEndian v: UInt32) {
        append(contentsOf: [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }
}

/// An RGB pixel buffer that draws ``Picture`` items.
struct Canvas {
    let width: Int
    let height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int, background: RGB) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = background.r
            pixels[3 * i + 1] = background.g
            pixels[3 * i + 2] = background.b
        }
    }

    mutating func draw(_ p: Picture) {
        for item in p.items {
            switch item {
            case .rect(let r):
                fill(r.x, r.y, r.w, r.h, r.fill)
                if let s = r.stroke {
                    fill(r.x, r.y, r.w, 1, s)
                    fill(r.x, r.y + r.h - 1, r.w, 1, s)
                    fill(r.x, r.y, 1, r.h, s)
                    fill(r.x + r.w - 1, r.y, 1, r.h, s)
                }
            case .line(let l): line(l)
            case .text(let t): text(t)
            }
        }
    }

    /// The colour at a pixel (for tests).
    func pixel(_ x: Int, _ y: Int) -> RGB {
        let i = 3 * (y * width + x)
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    mutating func fill(_ x: Int, _ y: Int, _ w: Int, _ h: Int, _ c: RGB) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for yy in y0..<y1 {
            var i = 3 * (yy * width + x0)
            for _ in x0..<x1 {
                pixels[i] = c.r
                pixels[i + 1] = c.g
                pixels[i + 2] = c.b
                i += 3
            }
        }
    }

    /// A line `width` pixels thick: squares stamped along it (Bresenham).
    mutating func line(_ l: Picture.Line) {
        var x = l.x1, y = l.y1
        let dx = abs(l.x2 - l.x1), dy = -abs(l.y2 - l.y1)
        let sx = l.x1 < l.x2 ? 1 : -1, sy = l.y1 < l.y2 ? 1 : -1
        var err = dx + dy
        let half = (l.width - 1) / 2
        while true {
            fill(x - half, y - half, l.width, l.width, l.color)
            if x == l.x2 && y == l.y2 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// Text in the bitmap font: each font pixel a `scale × scale` square, glyphs `advance` apart;
    /// a wide character (two terminal columns) is centred in two advances.
    mutating func text(_ t: Picture.Label) {
        let g = t.size.rawValue
        let total = Picture.width(t.text, t.size)
        var pen: Int
        switch t.anchor {
        case .start: pen = 0
        case .middle: pen = -total / 2
        case .end: pen = -total
        }
        for c in t.text {
            let cols = max(1, TextWidth.of(String(c)))
            let rows = BitmapFont.rows(for: c)
            let left = pen + (cols - 1) * t.size.advance / 2
            for (j, bits) in rows.enumerated() where bits != 0 {
                for i in 0..<BitmapFont.width where bits & (1 << (BitmapFont.width - 1 - i)) != 0 {
                    // Offset of the font pixel from the label's anchor point, before any rotation.
                    let dx = left + i * g
                    let dy = (j - BitmapFont.capHeight) * g
                    let w = t.bold ? g + 1 : g
                    if t.vertical {
                        fill(t.x + dy, t.y - dx - w, g, w, t.color)
                    } else {
                        fill(t.x + dx, t.y + dy, w, g, t.color)
                    }
                }
            }
            pen += cols * t.size.advance
        }
    }
}
