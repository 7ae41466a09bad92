// swift-tools-version:6.0
// swift-rnn: recurrent neural networks in Swift.
//
// Module graph (each imports only downward):
//   rnn (CLI) -> RNNTasks -> RNNText, RNN -> RNNCore -> CBLAS (Linux: OpenBLAS via pkg-config) | Accelerate (macOS)
import PackageDescription

// Hot elementwise loops (gate arithmetic) need a CPU target to vectorize well: built for the
// baseline x86-64 target they run ~30x slower (see BENCHMARKS.md). Release builds of this package
// therefore target x86-64-v3 (AVX2 + FMA, every x86 server and desktop since 2013-2015). Set
// RNN_PORTABLE=1 when building to drop the flag (e.g. for very old CPUs). `unsafeFlags` are allowed
// for root packages; a package depending on swift-rnn by version must build with RNN_PORTABLE=1.
import Foundation
let portable = ProcessInfo.processInfo.environment["RNN_PORTABLE"] != nil
var optimizedSettings: [SwiftSetting] = []
#if arch(x86_64)
if !portable {
    optimizedSettings.append(.unsafeFlags(["-target-cpu", "haswell"],
                                          .when(platforms: [.linux, .macOS], configuration: .release)))
}
#endif
// The AVX-512 micro-kernel of the recurrent step (RNNKernelsAVX512) is built for an AVX-512 CPU
// and called only after a run-time check of the CPU (RNNCore/PackedGEMM.swift).
var avx512Settings: [SwiftSetting] = []
#if arch(x86_64)
if !portable {
    avx512Settings.append(.define("RNN_AVX512_KERNEL"))
    avx512Settings.append(.unsafeFlags(["-target-cpu", "skylake-avx512"],
                                       .when(platforms: [.linux, .macOS], configuration: .release)))
}
#endif

let package = Package(
    name: "swift-rnn",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "RNNCore", targets: ["RNNCore"]),
        .library(name: "RNN", targets: ["RNN"]),
        .library(name: "RNNText", targets: ["RNNText"]),
        .library(name: "RNNTasks", targets: ["RNNTasks"]),
        .executable(name: "rnn", targets: ["rnn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "RNNKernelsAVX512", swiftSettings: avx512Settings),
        .target(
            name: "RNNCore",
            dependencies: [.target(name: "CBLAS", condition: .when(platforms: [.linux])), "RNNKernelsAVX512"],
            swiftSettings: optimizedSettings,
            linkerSettings: [.linkedFramework("Accelerate", .when(platforms: [.macOS]))]
        ),
        .target(name: "RNN", dependencies: ["RNNCore"], swiftSettings: optimizedSettings),
        .target(name: "RNNText", dependencies: ["RNNCore"], swiftSettings: optimizedSettings),
        .target(name: "RNNTasks", dependencies: ["RNN", "RNNText"], swiftSettings: optimizedSettings),
        .target(name: "RNNServeAPI", dependencies: ["RNNTasks"], swiftSettings: optimizedSettings),
        .target(
            name: "RNNServe",
            dependencies: ["RNN", "RNNText", "RNNTasks", "RNNServeAPI", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: optimizedSettings
        ),
        .executableTarget(
            name: "rnn",
            dependencies: [
                "RNN", "RNNText", "RNNTasks", "RNNServe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: optimizedSettings
        ),
        .testTarget(name: "RNNCoreTests", dependencies: ["RNNCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "RNNTests", dependencies: ["RNN"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "RNNTextTests", dependencies: ["RNNText"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "RNNTasksTests", dependencies: ["RNNTasks"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "RNNServeTests",
                    dependencies: ["RNNServe", "RNNServeAPI", "RNNTasks", .product(name: "HummingbirdTesting", package: "hummingbird")],
                    resources: [.copy("Fixtures")]),
    ]
)
