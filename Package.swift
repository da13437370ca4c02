// swift-tools-version: 6.1
import PackageDescription

/// Settings shared by every Swift target: strict Swift 6 plus the upcoming features
/// hummingbird turns on (explicit `any`, imports visible only where declared).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The quantization kernels are compiled twice from the same files: for the baseline CPU (runs everywhere) and,
/// on x86-64, for Haswell-class CPUs (AVX2), chosen at run time. Swift never fuses a*b+c into an FMA, so both
/// builds give ggml's reference bytes (tested); `make bench-quantize` measures both.
#if arch(x86_64)
let avx2Flags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let avx2Flags: [SwiftSetting] = []
#endif
/// Kernels are optimized in debug builds too: unoptimized, a Q4_K_M of the Qwen2 test fixture took 174 s instead of
/// 0.8 s, which would make the integration tests (which run the debug binary on real model files) crawl.
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "dsm",
    products: [
        .executable(name: "dsm", targets: ["dsm"]),
        // The parser modules, as libraries for the fuzz package (Fuzz/Package.swift), which depends on this one by
        // path. They depend only on DSMSystem and the C system libraries, so the fuzz build never compiles NIO.
        .library(name: "DSMHub", targets: ["DSMHub"]),
        .library(name: "DSMFormats", targets: ["DSMFormats"]),
        .library(name: "DSMStore", targets: ["DSMStore"]),
        .library(name: "DSMRegistry", targets: ["DSMRegistry"]),
        .library(name: "DSMBundle", targets: ["DSMBundle"]),
        .library(name: "DSMServeCore", targets: ["DSMServeCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
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
        // Row sources, planned tensors and the multi-threaded tensor writer: what convert and quantize share.
        .target(name: "DSMTensors", dependencies: ["DSMFormats", "DSMSystem"], swiftSettings: strict),
        // `dsm convert`: safetensors checkpoints to GGUF, one file per architecture, tokenizer conversion.
        .target(name: "DSMConvert", dependencies: ["DSMTensors", "DSMFormats", "DSMSystem"], swiftSettings: strict),
        // ggml's block quantizers: scalar references and lane-parallel SIMD kernels, byte-identical to ggml.
        .target(name: "DSMQuantKernels", dependencies: ["DSMFormats"], swiftSettings: strict + optimizedInDebug),
        // The same kernel sources (symlinks) built for AVX2; DSMQuant picks one at run time.
        .target(name: "DSMQuantKernelsAVX2", dependencies: ["DSMFormats"], swiftSettings: strict + avx2Flags + optimizedInDebug),
        .target(name: "CCPUFeatures"),
        // `dsm quantize`: llama-quantize's type selection and file layout, streaming GGUF or safetensors input.
        .target(name: "DSMQuant", dependencies: ["DSMQuantKernels", "DSMQuantKernelsAVX2", "CCPUFeatures", "DSMTensors", "DSMFormats", "DSMSystem"],
                swiftSettings: strict),
        // Versions, channels (stable, canary + weight), tags: the release-state machine and its on-disk registry.
        .target(name: "DSMRegistry", dependencies: ["DSMStore", "DSMSystem"], swiftSettings: strict),
        // The artifact layer: what a SOURCE argument means (resolve) and the one transaction every command that adds
        // a version goes through (ingest: gc lock, staging in partials/, adopt, sync, publish).
        .target(name: "DSMArtifacts", dependencies: ["DSMRegistry", "DSMStore", "DSMSystem"], swiftSettings: strict),
        // Content-addressed blobs, manifests, locks, atomic writes.
        .target(name: "DSMStore", dependencies: ["DSMFormats", "DSMSystem"], swiftSettings: strict),
        // The model catalog (registry/*.json, compiled in).
        .target(name: "DSMCatalog", swiftSettings: strict),
        // `dsm pull` end to end: resolve, list, plan, download, verify, store.
        .target(name: "DSMPull", dependencies: ["DSMFormats", "DSMHub", "DSMTransfer", "DSMStore", "DSMRegistry", "DSMArtifacts", "DSMCatalog", "DSMSystem"],
                swiftSettings: strict),
        // `dsm export` / `dsm import`: zstd-compressed tar bundles of manifests and blobs, verified as they are read.
        .target(name: "DSMBundle", dependencies: ["DSMArtifacts", "DSMRegistry", "DSMStore", "DSMSystem"], swiftSettings: strict),
        // `dsm fit`: memory requirements and verdicts (pure) and this machine's detection.
        .target(name: "DSMFit", swiftSettings: strict),
        // Starting child processes that die with dsm (fork + prctl(PR_SET_PDEATHSIG) + exec).
        .target(name: "CProcess"),
        // `dsm serve`, pure parts: traffic split, API keys, rate limits, restart backoff, runtime command lines,
        // metrics text, OpenAI error bodies. No sockets, no processes.
        .target(name: "DSMServeCore", dependencies: ["DSMRegistry", "DSMStore", "DSMSystem"], swiftSettings: strict),
        // `dsm serve`, I/O: runtime processes, the fleet that starts/drains them by channel, the HTTP gateway.
        .target(name: "DSMServe", dependencies: [
            "DSMServeCore", "DSMRegistry", "DSMStore", "DSMSystem", "CProcess",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .target(name: "DSMCommands", dependencies: [
            "DSMServe", "DSMServeCore", "DSMFit", "DSMBundle", "DSMPull", "DSMArtifacts", "DSMStore", "DSMCatalog", "DSMSystem", "DSMHub", "DSMConvert", "DSMFormats", "DSMQuant", "DSMRegistry",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        .executableTarget(name: "dsm", dependencies: ["DSMCommands"], swiftSettings: strict),

        .testTarget(name: "DSMHubTests", dependencies: ["DSMHub"], swiftSettings: strict),
        .testTarget(name: "DSMPullTests", dependencies: ["DSMPull", "DSMFormats", "DSMStore", "DSMTransfer"], swiftSettings: strict),
        .testTarget(name: "DSMTransferTests", dependencies: ["DSMTransfer", "DSMHub"], swiftSettings: strict),
        .testTarget(name: "DSMSystemTests", dependencies: ["DSMSystem"], swiftSettings: strict),
        .testTarget(name: "DSMStoreTests", dependencies: ["DSMStore", "DSMSystem"], swiftSettings: strict),
        .testTarget(name: "DSMCatalogTests", dependencies: ["DSMCatalog"], swiftSettings: strict),
        .testTarget(name: "DSMFormatsTests", dependencies: ["DSMFormats", "DSMSystem"], swiftSettings: strict),
        .testTarget(name: "DSMConvertTests", dependencies: ["DSMConvert", "DSMFormats"], swiftSettings: strict),
        .testTarget(name: "DSMQuantKernelsTests", dependencies: ["DSMQuantKernels", "DSMQuantKernelsAVX2", "CCPUFeatures", "DSMFormats"],
                    resources: [.copy("Vectors")], swiftSettings: strict),
        .testTarget(name: "DSMRegistryTests", dependencies: ["DSMRegistry", "DSMStore", "DSMSystem"], swiftSettings: strict),
        .testTarget(name: "DSMArtifactsTests", dependencies: ["DSMArtifacts", "DSMRegistry", "DSMStore", "DSMSystem"], swiftSettings: strict),
        .testTarget(name: "DSMBundleTests", dependencies: ["DSMBundle", "DSMSystem"], swiftSettings: strict),
        .testTarget(name: "DSMFitTests", dependencies: ["DSMFit"], swiftSettings: strict),
        .testTarget(name: "DSMServeCoreTests", dependencies: ["DSMServeCore", "DSMRegistry", "DSMStore"], swiftSettings: strict),
        // Real files and processes (no sockets): the runtime key file, process groups.
        .testTarget(name: "DSMServeTests", dependencies: ["DSMServe", "DSMServeCore"], swiftSettings: strict),
        .testTarget(name: "DSMQuantTests", dependencies: ["DSMQuant", "DSMFormats"], swiftSettings: strict),
    ]
)
