import CKernels
import Foundation

/// The instruction sets the C kernels (`CKernels`) are compiled for, and the one this process uses.
///
/// Each hot kernel exists once per case, compiled with that target's instructions; the rest of the
/// binary is baseline code for its architecture, so it starts on any x86-64 and picks the widest
/// variant the CPU runs at start-up (`__builtin_cpu_supports`). `STEPWISE_ISA=portable|avx2|avx512`
/// asks for a narrower one (to compare them); an ISA the CPU lacks is never used.
public enum KernelISA: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The architecture's baseline vectors (SSE2 on x86-64, NEON on arm64); runs anywhere.
    case portable
    /// AVX2, FMA and F16C (x86-64-v3: Intel Haswell, AMD Excavator and later).
    case avx2
    /// AVX-512 F, BW, DQ and VL besides those (x86-64-v4: Intel Skylake-SP, AMD Zen 4 and later).
    case avx512

    public var description: String { rawValue }

    /// The code of `CKernels`' `STEPWISE_ISA_*`.
    var code: Int32 {
        switch self {
        case .portable: Int32(STEPWISE_ISA_PORTABLE)
        case .avx2: Int32(STEPWISE_ISA_AVX2)
        case .avx512: Int32(STEPWISE_ISA_AVX512)
        }
    }

    /// Rows of A in one register tile of this variant's float32 kernel (the packed A layout's tile).
    var tileRows: Int { Int(stepwise_sgemm_tile_rows(code)) }

    /// True when this CPU (and its operating system) runs this variant.
    public var isSupported: Bool { stepwise_isa_supported(code) != 0 }

    /// Every variant this CPU runs, narrowest first.
    public static var supported: [KernelISA] { allCases.filter(\.isSupported) }

    /// The widest variant this CPU runs.
    public static let best: KernelISA = allCases.last(where: \.isSupported) ?? .portable

    /// What the kernels use when not told otherwise, and why (for `stepwise bench`).
    public static let selection: (isa: KernelISA, reason: String) = choose(ProcessInfo.processInfo.environment["STEPWISE_ISA"])

    /// The variant every product uses unless a caller names one: ``best``, or `STEPWISE_ISA`'s when
    /// this CPU runs it.
    public static var selected: KernelISA { selection.isa }

    /// The choice for a value of `STEPWISE_ISA` (nil: not set).
    static func choose(_ request: String?) -> (isa: KernelISA, reason: String) {
        guard let request, !request.isEmpty else { return (best, "the widest this CPU runs") }
        guard let asked = KernelISA(rawValue: request.lowercased()) else {
            let names = allCases.map(\.rawValue).joined(separator: ", ")
            return (best, "STEPWISE_ISA=\(request) is not one of \(names); using the widest this CPU runs")
        }
        guard asked.isSupported else {
            return (best, "STEPWISE_ISA=\(request), but this CPU lacks it; using the widest it runs")
        }
        return (asked, "STEPWISE_ISA=\(request)")
    }
}
