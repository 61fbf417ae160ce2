import CZlib
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import StepwiseKit

/// A PNG read back chunk by chunk, as a viewer would: every CRC checked (with a CRC-32 computed here,
/// not zlib's), IDAT inflated with zlib, every row's filter undone.
struct DecodedPNG {
    var width = 0
    var height = 0
    var colorType: UInt8 = 0
    var chunkTypes: [String] = []
    /// 3 (RGB) or 4 (RGBA) bytes a pixel.
    var channels = 3
    var pixels: [UInt8] = []

    struct Failure: Error, CustomStringConvertible { var description: String }

    init(_ data: Data) throws {
        let b = [UInt8](data)
        guard b.count > 8, Array(b[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw Failure(description: "no PNG signature")
        }
        func be32(_ i: Int) -> UInt32 { UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3]) }
        var i = 8
        var idat: [UInt8] = []
        var bitDepth: UInt8 = 0
        while i + 12 <= b.count {
            let n = Int(be32(i))
            guard i + 12 + n <= b.count else { throw Failure(description: "chunk overruns the file") }
            let type = String(decoding: b[(i + 4)..<(i + 8)], as: UTF8.self)
            let body = Array(b[(i + 4)..<(i + 8 + n)])
            guard Self.crc32(body) == be32(i + 8 + n) else { throw Failure(description: "bad CRC in \(type)") }
            chunkTypes.append(type)
            let payload = Array(body.dropFirst(4))
            switch type {
            case "IHDR":
                width = Int(be32(i + 8)); height = Int(be32(i + 12))
                bitDepth = payload[8]; colorType = payload[9]
                guard payload[12] == 0 else { throw Failure(description: "interlaced") }
            case "IDAT": idat += payload
            default: break
            }
            i += 12 + n
            if type == "IEND" { break }
        }
        guard bitDepth == 8, colorType == 2 || colorType == 6 else {
            throw Failure(description: "unsupported bit depth \(bitDepth) / colour type \(colorType)")
        }
        channels = colorType == 2 ? 3 : 4
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var size = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { dst in
            idat.withUnsafeBufferPointer { src in uncompress(dst.baseAddress, &size, src.baseAddress, uLong(idat.count)) }
        }
        guard status == Z_OK, Int(size) == raw.count else { throw Failure(description: "zlib uncompress: \(status), \(size) bytes") }
        pixels = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let f = raw[y * (stride + 1)]
            for x in 0..<stride {
                let v = raw[y * (stride + 1) + 1 + x]
                let a = x >= channels ? Int(pixels[y * stride + x - channels]) : 0
                let up = y > 0 ? Int(pixels[(y - 1) * stride + x]) : 0
                let c = (x >= channels && y > 0) ? Int(pixels[(y - 1) * stride + x - channels]) : 0
                let pred: Int
                switch f {
                case 0: pred = 0
                case 1: pred = a
                case 2: pred = up
                case 3: pred = (a + up) / 2
                case 4:
                    let p = a + up - c, pa = abs(p - a), pb = abs(p - up), pc = abs(p - c)
                    pred = pa <= pb && pa <= pc ? a : (pb <= pc ? up : c)
                default: throw Failure(description: "bad filter \(f)")
                }
                pixels[y * stride + x] = UInt8((Int(v) + pred) & 0xFF)
            }
        }
    }

    func pixel(_ x: Int, _ y: Int) -> RGB {
        let i = (y * width + x) * channels
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// An SVG read back with Foundation's XML parser: its rectangles by class, its text, its titles.
final class ParsedSVG: NSObject, XMLParserDelegate {
    struct Rect { var cls: String; var x: Int; var y: Int; var w: Int; var h: Int; var fill: String; var row: Int?; var col: Int?; var title = "" }
    var rects: [Rect] = []
    var texts: [String] = []
    var elements: [String] = []
    private var inText = false, inTitle = false, current = ""
    var rootAttributes: [String: String] = [:]

    init(_ xml: String) throws {
        super.init()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw DecodedPNG.Failure(description: "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
        }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes a: [String: String] = [:]) {
        elements.append(name)
        switch name {
        case "svg": if rootAttributes.isEmpty { rootAttributes = a }
        case "rect":
            rects.append(Rect(cls: a["class"] ?? "", x: Int(a["x"] ?? "") ?? 0, y: Int(a["y"] ?? "") ?? 0,
                              w: Int(a["width"] ?? "") ?? 0, h: Int(a["height"] ?? "") ?? 0, fill: a["fill"] ?? "",
                              row: a["data-row"].flatMap { Int($0) }, col: a["data-col"].flatMap { Int($0) }))
        case "text": inText = true; current = ""
        case "title": inTitle = true; current = ""
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText || inTitle { current += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.append(current); inText = false }
        if name == "title" { if !rects.isEmpty { rects[rects.count - 1].title = current }; inTitle = false }
    }

    func cells(_ cls: String) -> [Rect] { rects.filter { $0.cls == cls } }
}

/// A session on the built-in model with a prompt run, and a temporary folder to export into.
struct PictureFixture {
    let interp = StandardCommands.interpreter()
    var session = Session()
    let folder: URL
    var context: CommandContext { CommandContext(width: 80, baseDirectory: folder.path) }

    init(prompt: String = "It is a truth universally acknowledged, that a single man") throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-pictures-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try session.load(path: nil)
        try run("prompt " + prompt)
    }

    /// Runs a command; fails the test with its error line if it fails.
    @discardableResult
    mutating func run(_ line: String) throws -> [String] {
        switch interp.execute(line, in: &session, context: context) {
        case .output(let out): return out
        case .failure(let msg): throw DecodedPNG.Failure(description: "'\(line)' failed: \(msg)")
        case .quit: return []
        }
    }

    /// The outcome's error line, or nil when the command succeeded.
    mutating func failure(_ line: String) -> String? {
        if case .failure(let msg) = interp.execute(line, in: &session, context: context) { return msg }
        return nil
    }

    func read(_ name: String) throws -> Data { try Data(contentsOf: folder.appendingPathComponent(name)) }
    func text(_ name: String) throws -> String { String(decoding: try read(name), as: UTF8.self) }
    func remove() { try? FileManager.default.removeItem(at: folder) }
}
