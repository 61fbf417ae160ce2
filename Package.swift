// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Stepwise",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "StepwiseKit", targets: ["StepwiseKit"]),
        .executable(name: "stepwise", targets: ["stepwise"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CEditline",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // C: the block-format matrix-vector kernels (x86 intrinsics, chosen at run time) and allocator settings.
        .target(name: "CKernels"),
        .target(
            name: "StepwiseKit",
            dependencies: ["CKernels"],
            resources: [.copy("Resources/builtin")],
            // AVX2 + FMA code for the SIMD kernels in release builds (Haswell and later).
            swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"], .when(platforms: [.linux], configuration: .release))]
        ),
        .executableTarget(
            name: "stepwise",
            dependencies: [
                "StepwiseKit",
                "CEditline",
                "CKernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "StepwiseKitTests",
            dependencies: ["StepwiseKit"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
