// swift-tools-version: 6.1
import PackageDescription

/// Settings shared by every Swift target: strict Swift 6 plus the upcoming features
/// hummingbird turns on (explicit `any`, imports visible only where declared).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "dsm",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dsm", targets: ["dsm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries (pkg-config); only Sources/DSMSystem/{Curl,OpenSSL,Zstd} import them.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),

        // Thin Swift owners of the C handles, plus file and process helpers.
        .target(name: "DSMSystem", dependencies: ["CCurl", "COpenSSL", "CZstd"], swiftSettings: strict),
        // Hugging Face protocol facts: references, URLs, headers, errors. Pure.
        .target(name: "DSMHub", swiftSettings: strict),
        // Range planning and retry policy (pure) plus the libcurl download engine.
        .target(name: "DSMTransfer", dependencies: ["DSMSystem", "DSMHub"], swiftSettings: strict),
        // File formats: safetensors (mapped, validated), GGUF (reader, streaming writer), number formats.
        .target(name: "DSMFormats", dependencies: ["DSMSystem"], swiftSettings: strict),
        // `dsm convert`: safetensors checkpoints to GGUF, one file per architecture, tokenizer conversion.
        .target(name: "DSMConvert", dependencies: ["DSMFormats", "DSMSystem"], swiftSettings: strict),
        // `dsm quantize` (in progress): ggml block formats, reference quantizers first.
        .target(name: "DSMQuant", dependencies: ["DSMFormats"], swiftSettings: strict),
        // Content-addressed blobs, manifests, locks, atomic writes.
        .target(name: "DSMStore", dependencies: ["DSMSystem"], swiftSettings: strict),
        // The model catalog (registry/*.json, compiled in).
        .target(name: "DSMCatalog", swiftSettings: strict),
        // `dsm pull` end to end: resolve, list, plan, download, verify, store.
        .target(name: "DSMPull", dependencies: ["DSMHub", "DSMTransfer", "DSMStore", "DSMCatalog", "DSMSystem"],
                swiftSettings: strict),
        .target(name: "DSMCommands", dependencies: [
            "DSMPull", "DSMStore", "DSMCatalog", "DSMSystem", "DSMHub", "DSMConvert", "DSMFormats",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        .executableTarget(name: "dsm", dependencies: ["DSMCommands"], swiftSettings: strict),

        .testTarget(name: "DSMHubTests", dependencies: ["DSMHub"], swiftSettings: strict),
        .testTarget(name: "DSMTransferTests", dependencies: ["DSMTransfer", "DSMHub"], swiftSettings: strict),
        .testTarget(name: "DSMSystemTests", dependencies: ["DSMSystem"], swiftSettings: strict),
        .testTarget(name: "DSMStoreTests", dependencies: ["DSMStore", "DSMSystem"], swiftSettings: strict),
        .testTarget(name: "DSMCatalogTests", dependencies: ["DSMCatalog"], swiftSettings: strict),
        .testTarget(name: "DSMFormatsTests", dependencies: ["DSMFormats", "DSMSystem"], swiftSettings: strict),
        .testTarget(name: "DSMConvertTests", dependencies: ["DSMConvert", "DSMFormats"], swiftSettings: strict),
        .testTarget(name: "DSMQuantTests", dependencies: ["DSMQuant"], resources: [.copy("Vectors")], swiftSettings: strict),
    ]
)
