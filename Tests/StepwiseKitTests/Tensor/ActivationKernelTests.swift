import Foundation
import Testing
@testable import StepwiseKit

@Suite("activation kernels")
struct ActivationKernelTests {
    /// The definitions in double precision.
    static func reference(_ act: Activation, _ x: Float) -> Double {
        let d = Double(x)
        switch act {
        case .geluTanh: return 0.5 * d * (1 + tanh(0.7978845608028654 * (d + 0.044715 * d * d * d)))
        case .silu: return d / (1 + exp(-d))
        default: return .nan
        }
    }

    /// −30 to 30 in steps of 2^-10 (61,441 values), plus values at and beyond the ends of `exp`'s range.
    static let inputs: [Float] = (-30_720...30_720).map { Float($0) / 1024 }
        + [0, -0, 1e-30, -1e-30, 88.7, 88.75, 89, 200, -87, -103.9, -104, -200, 1e30, -1e30, .greatestFiniteMagnitude]

    @Test("GELU-tanh and SiLU match their definitions, give the same bits under every ISA, and tails are exact",
          arguments: [Activation.geluTanh, .silu])
    func matchesDefinition(act: Activation) {
        let x = Tensor(shape: [Self.inputs.count], data: Self.inputs)
        let portable = act.map(x, times: nil, isa: .portable)
        var worst = 0.0
        for (i, v) in Self.inputs.enumerated() {
            let want = Self.reference(act, v), got = Double(portable.data[i])
            // float32 rounding of the input's cube and of u dominate; away from 0 the error is relative.
            worst = max(worst, abs(got - want) / max(abs(want), 1e-3))
        }
        #expect(worst < 4e-6, "worst relative error \(worst)")
        for isa in KernelISA.supported {
            #expect(act.map(x, times: nil, isa: isa).data == portable.data, "\(isa)")
        }
        // Each length 1...40 from an odd offset gives what the long run gave (the zero-padded tail).
        for n in 1...40 {
            let part = Tensor(shape: [n], data: Array(Self.inputs[1001..<(1001 + n)]))
            #expect(act.map(part, times: nil).data == Array(portable.data[1001..<(1001 + n)]), "length \(n)")
        }
        #expect(act(Self.inputs[7777]) == portable.data[7777])
    }

    @Test("gated is f(gate) times up, value by value, also across the parallel chunks")
    func gated() {
        var rng = SplitMix64(seed: 20)
        let n = 3 * 8192 + 13
        let g = Tensor(shape: [n], data: (0..<n).map { _ in 8 * (rng.nextFloat() - 0.5) })
        let u = Tensor(shape: [n], data: (0..<n).map { _ in rng.nextFloat() - 0.5 })
        for act in Activation.allCases {
            let f = act.gated(g, u).data
            #expect(f == zip(g.data, u.data).map { act($0) * $1 }, "\(act)")
            #expect(g.applying(act).data == g.data.map { act($0) }, "\(act)")
        }
    }

    @Test("infinities and NaN: what PyTorch's formulas give")
    func specialValues() {
        let x = Tensor(shape: [5], data: [.nan, .infinity, -.infinity, 0, -0.0])
        let gelu = Activation.geluTanh.map(x, times: nil).data, silu = Activation.silu.map(x, times: nil).data
        #expect(gelu[0].isNaN && gelu[1] == .infinity && gelu[2].isNaN && gelu[3] == 0 && gelu[4] == 0)
        #expect(silu[0].isNaN && silu[1] == .infinity && silu[2].isNaN && silu[3] == 0)
    }
}
