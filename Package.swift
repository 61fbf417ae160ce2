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
        // The system zlib: PNG export compresses its pixels with it.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // C: the matrix kernels (compiled for portable, AVX2 and AVX-512 code, chosen at run time), the
        // worker pool and allocator settings. The rest of the package is compiled for the architecture's
        // baseline, so the binary runs on any x86-64.
        .target(name: "CKernels"),
        .target(
            name: "StepwiseKit",
            dependencies: ["CKernels", "CZlib"],
            resources: [.copy("Resources/builtin"), .copy("Resources/translate")]
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
            dependencies: ["StepwiseKit", "CZlib"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
