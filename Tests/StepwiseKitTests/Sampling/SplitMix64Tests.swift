import Testing
@testable import StepwiseKit

@Suite("SplitMix64")
struct SplitMix64Tests {
    // Computed independently in Python from the published algorithm (state += 0x9E3779B97F4A7C15,
    // then the two xor-shift-multiply rounds), with 64-bit wrap-around.
    static let seed42: [UInt64] = [
        13679457532755275413, 2949826092126892291, 5139283748462763858, 6349198060258255764,
        701532786141963250, 16015981125662989062, 4028864712777624925, 14769051326987775908,
        6270620877612482005, 11408980392250668974,
    ]
    // (next() >> 11) / 2^53 for the same ten values: exact in Double.
    static let seed42Doubles: [Double] = [
        0.7415648787718233, 0.1599103928769201, 0.27860113025513866, 0.34419071652363753,
        0.03803016854024621, 0.8682280765465323, 0.21840519371218436, 0.8006318767135033,
        0.3399310389170206, 0.6184820663561348,
    ]

    @Test("seed 42 gives the recorded first ten values")
    func firstTen() {
        var rng = SplitMix64(seed: 42)
        #expect((0..<10).map { _ in rng.next() } == Self.seed42)
    }

    @Test("nextDouble is the top 53 bits over 2^53, exactly")
    func doubles() {
        var rng = SplitMix64(seed: 42)
        #expect((0..<10).map { _ in rng.nextDouble() } == Self.seed42Doubles)
    }
}
