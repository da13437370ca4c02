// swift-tools-version: 5.4
import PackageDescription

/// libFuzzer targets for every parser that reads bytes from outside (docs/security.md, "Fuzzing").
/// Built only by scripts/fuzz.sh with `-sanitize=fuzzer,address` into `.build-fuzz`; the main package's
/// `swift build` and `swift test` never see this package. Each target defines `LLVMFuzzerTestOneInput`
/// and gets libFuzzer's `main` from the sanitizer runtime, so the sources are parsed as a library.
let harness: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

/// One executable per parser family: (target name, the main package's products it uses).
let targets: [(String, [String])] = [
    ("FuzzSafetensors", ["DSMFormats"]),
    ("FuzzGGUF", ["DSMFormats"]),
    ("FuzzTar", ["DSMBundle"]),
    ("FuzzBundleTOC", ["DSMBundle"]),
    ("FuzzState", ["DSMStore", "DSMRegistry", "DSMServeCore"]),
    ("FuzzHub", ["DSMHub"]),
    ("FuzzReferences", ["DSMHub", "DSMStore", "DSMRegistry"]),
    ("FuzzRequestFields", ["DSMServeCore"]),
    ("FuzzAPIKeys", ["DSMServeCore"]),
]

let package = Package(
    name: "dsm-fuzz",
    platforms: [.macOS("14.0")],
    dependencies: [.package(name: "dsm", path: "..")],
    targets: targets.map { name, products in
        .executableTarget(name: name, dependencies: products.map { .product(name: $0, package: "dsm") },
                          path: "Sources/\(name)", swiftSettings: harness)
    }
)
