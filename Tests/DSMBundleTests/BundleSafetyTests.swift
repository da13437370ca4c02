import DSMBundle
import DSMRegistry
import DSMSystem
import Testing

/// Hostile headers and tables of contents: refused with a message, never a trap.
@Suite struct BundleSafetyTests {
    static let hex = String(repeating: "ab", count: 32)

    /// A header for `size`, then its size field (12 bytes at 124) replaced by `field` and the checksum fixed.
    static func header(sizeField field: [UInt8]) -> [UInt8] {
        var h = TarFormat.header(name: "blobs/sha256-\(hex)", size: 0, mtime: 0)
        h.replaceSubrange(124..<136, with: field)
        for i in 148..<156 { h[i] = 0x20 }
        let sum = String(h.reduce(0) { $0 + Int($1) }, radix: 8)
        for (i, c) in (String(repeating: "0", count: 6 - sum.count) + sum).utf8.enumerated() { h[148 + i] = c }
        h[154] = 0
        return h
    }

    static let badSizeFields: [(field: [UInt8], message: String)] = [
        ([0xFF] + [UInt8](repeating: 0xFF, count: 11), "negative size"),            // base-256 -1
        ([0xFF] + [UInt8](repeating: 0, count: 10) + [1], "negative size"),         // base-256, sign set
        ([0x80] + [UInt8](repeating: 0xFF, count: 11), "too large"),                // beyond Int64
        ([0x80, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0], "larger than the 16 TiB"),    // 2^45 bytes
        (Array("         -1\0".utf8), "not a number"),                             // octal with a sign
        (Array("0000000001x\0".utf8), "not a number"),
        ([0xC0] + [UInt8](repeating: 0, count: 11), "not a number"),
    ]

    @Test(arguments: badSizeFields)
    func badSizeFieldsAreRefused(field: [UInt8], message: String) {
        let h = Self.header(sizeField: field)
        do {
            let parsed = try h.withUnsafeBytes { try TarFormat.parse($0) }
            Issue.record("parsed as \(parsed)")
        } catch { #expect("\(error)".contains(message), "\(error)") }
        // Through the reader too: an error, not a trap, with or without data after the header.
        let r = TarReader()
        #expect(throws: TarFormat.Invalid.self) { try (h + [UInt8](repeating: 1, count: 600)).withUnsafeBytes { try r.feed($0) } }
    }

    @Test func shortHeadersAreRefusedNotTrapped() {
        let h = TarFormat.header(name: "x", size: 1, mtime: 0)
        #expect(throws: TarFormat.Invalid.self) { try h.prefix(300).withUnsafeBytes { try TarFormat.parse($0) } }
        let r = TarReader()
        #expect(throws: Never.self) { try h.prefix(300).withUnsafeBytes { try r.feed($0) } }
        #expect(!r.finished)
    }

    static func toc(_ entries: [BundleTOC.Entry]) -> BundleTOC { BundleTOC(createdAt: "t", tool: "test", names: [], entries: entries) }
    static func manifest(_ i: Int, size: Int64) -> BundleTOC.Entry {
        let d = String(repeating: "0", count: 56) + String(format8(i))
        return .init(path: "manifests/sha256-\(d).json", size: size, sha256: d)
    }
    static func format8(_ i: Int) -> String { let s = String(i, radix: 16); return String(repeating: "0", count: 8 - s.count) + s }

    @Test func tableOfContentsLimits() throws {
        let blob = BundleTOC.Entry(path: "blobs/sha256-\(Self.hex)", size: 1, sha256: Self.hex)
        try Self.toc([blob, Self.manifest(1, size: BundleLimits.manifestBytes)]).validate()
        let cases: [(BundleTOC, String)] = [
            (Self.toc([Self.manifest(1, size: BundleLimits.manifestBytes + 1)]), "at most 8 MiB"),
            (Self.toc((0...BundleLimits.manifests).map { Self.manifest($0, size: 10) }), "1001 manifests; it may hold at most 1000"),
            (Self.toc((0..<9).map { Self.manifest($0, size: 8 << 20) }), "at most 64 MiB"),
            (Self.toc([BundleTOC.Entry](repeating: blob, count: BundleLimits.tocEntries + 1)), "100001 entries"),
            (Self.toc([.init(path: blob.path, size: -1, sha256: Self.hex)]), "negative size"),
            (Self.toc([.init(path: blob.path, size: Int64.max, sha256: Self.hex)]), "larger than the 16 TiB"),
            (Self.toc([.init(path: blob.path, size: 1, sha256: String(repeating: "c", count: 64))]), "another digest"),
            (Self.toc([.init(path: "../x", size: 1, sha256: Self.hex)]), "could escape the store"),
        ]
        for (toc, message) in cases {
            do {
                try toc.validate()
                Issue.record("accepted: \(message)")
            } catch { #expect(error.description.contains(message), "\(error)") }
        }
        // Sizes that pass can be summed: the largest table of contents cannot overflow.
        let big = Self.toc([BundleTOC.Entry](repeating: .init(path: blob.path, size: TarFormat.maxEntrySize, sha256: Self.hex), count: BundleLimits.tocEntries))
        try big.validate()
        #expect(big.totalBytes == TarFormat.maxEntrySize * Int64(BundleLimits.tocEntries))
    }

    static func name(stable: Int? = 1, canary: Int? = nil, weight: Int = 0, tags: [String: Int] = [:]) -> BundleTOC.Name {
        .init(name: "x:latest", versions: [.init(number: 1, manifest: "m1", createdAt: "t"), .init(number: 2, manifest: "m2", createdAt: "t")],
              stable: stable, canary: canary, weight: weight, tags: tags)
    }

    @Test func channelsBecomeOneListOfCommandsOrAreRefused() throws {
        var state = ReleaseState(name: "x:latest")
        for i in 1...3 { state = try state.apply(.addVersion(manifest: "m\(i)", contentKey: "k\(i)", createdAt: "t")) }
        let numbers = [1: 2, 2: 3]
        let good = try BundleChannels.commands(Self.name(stable: 2, canary: 1, weight: 20, tags: ["b": 1, "a": 2]), numbers: numbers, state: state)
        #expect(good == [.rollback(to: 3), .release(canary: 2, weight: 20), .tag("a", version: 3), .tag("b", version: 2)])
        let final = try #require(try state.applying(good).last?.after)
        #expect(final.routing == Routing(stable: 3, canary: 2, weight: 20) && final.tags == ["a": 3, "b": 2])

        #expect(throws: ReleaseError.self) { try BundleChannels.commands(Self.name(tags: ["ghost": 9]), numbers: numbers, state: state) }
        #expect(throws: ReleaseError.self) { try BundleChannels.commands(Self.name(canary: 2, weight: 150), numbers: numbers, state: state) }
        #expect(throws: ReleaseError.self) { try BundleChannels.commands(Self.name(stable: 7), numbers: numbers, state: state) }
        // An invalid tag is refused by the state machine: the whole list is, and the state stays as it was.
        let bad = try BundleChannels.commands(Self.name(stable: 2, tags: ["good": 2, "v7": 1]), numbers: numbers, state: state)
        #expect(throws: ReleaseError.self) { try state.applying(bad) }
    }
}
