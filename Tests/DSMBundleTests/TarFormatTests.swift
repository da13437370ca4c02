import Testing
import DSMBundle
import DSMSystem

@Suite struct TarFormatTests {
    @Test func headerRoundTripsIncludingSizesAbove8GiB() throws {
        for size: Int64 in [0, 1, 511, 512, 513, 0o777_7777_7776, 0o777_7777_7777, 400 << 30] {
            let h = TarFormat.header(name: "blobs/sha256-" + String(repeating: "a", count: 64), size: size, mtime: 1_700_000_000)
            #expect(h.count == 512)
            let (name, parsed) = try h.withUnsafeBytes { try TarFormat.parse($0) }
            #expect(name.hasPrefix("blobs/sha256-") && parsed == size, "\(size)")
        }
        #expect(TarFormat.padding(0) == 0 && TarFormat.padding(1) == 511 && TarFormat.padding(512) == 0)
    }

    @Test func corruptedOrForeignHeadersAreRefused() {
        var h = TarFormat.header(name: "dsm-bundle.json", size: 10, mtime: 0)
        h[0] ^= 1
        #expect(throws: TarFormat.Invalid.self) { try h.withUnsafeBytes { try TarFormat.parse($0) } }
        var link = TarFormat.header(name: "x", size: 0, mtime: 0)
        link[156] = UInt8(ascii: "2")  // a symlink: fix the checksum so only the type is wrong
        for i in 148..<156 { link[i] = 0x20 }
        let sum = String(link.reduce(0) { $0 + Int($1) }, radix: 8)
        for (i, c) in (String(repeating: "0", count: 6 - sum.count) + sum).utf8.enumerated() { link[148 + i] = c }
        link[154] = 0
        #expect(throws: TarFormat.Invalid.self) { try link.withUnsafeBytes { try TarFormat.parse($0) } }
    }

    @Test func onlyContentNamedPathsAreAccepted() throws {
        let hex = String(repeating: "0123456789abcdef", count: 4)
        #expect(try BundlePath("dsm-bundle.json") == .toc)
        #expect(try BundlePath("blobs/sha256-\(hex)") == .blob(sha256: hex))
        #expect(try BundlePath("manifests/sha256-\(hex).json") == .manifest(digest: hex))
        for bad in ["../etc/passwd", "/etc/passwd", "blobs/../../x", "blobs/sha256-\(hex)/x", "blobs/sha256-\(hex.uppercased())",
                    "blobs/sha256-abc", "registry/x/state.json", "manifests/sha256-\(hex)", "./dsm-bundle.json", ""] {
            #expect(throws: TarFormat.Invalid.self, "\(bad)") { try BundlePath(bad) }
        }
    }

    @Test func readerHandlesAnyChunkingAndNeedsTheEnd() throws {
        var archive: [UInt8] = []
        let files: [(String, [UInt8])] = [("a", Array("hello".utf8)), ("b", []), ("c", [UInt8](repeating: 7, count: 1500))]
        for (n, d) in files {
            archive += TarFormat.header(name: n, size: Int64(d.count), mtime: 0) + d + [UInt8](repeating: 0, count: TarFormat.padding(Int64(d.count)))
        }
        archive += [UInt8](repeating: 0, count: 1024)
        for chunk in [1, 7, 512, 100_000] {
            let r = TarReader()
            var got: [(String, [UInt8])] = []
            r.header = { n, _ in got.append((n, [])) }
            r.data = { got[got.count - 1].1 += $0 }
            var ends = 0
            r.end = { ends += 1 }
            var i = 0
            while i < archive.count {
                try archive[i..<min(i + chunk, archive.count)].withUnsafeBytes { try r.feed($0) }
                i += chunk
            }
            #expect(r.finished && ends == 3 && got.map(\.0) == ["a", "b", "c"] && got.map(\.1) == files.map(\.1), "chunk \(chunk)")
        }
        let cut = TarReader()
        try archive.prefix(1100).withUnsafeBytes { try cut.feed($0) }
        #expect(!cut.finished)
    }
}

@Suite struct ZstdStreamTests {
    @Test func roundTripAndTruncation() throws {
        var compressed: [UInt8] = []
        let z = try ZstdCompressor(level: 3, threads: 2) { compressed += $0 }
        var input: [UInt8] = []
        for i in 0..<300_000 { input.append(UInt8(truncatingIfNeeded: i * 31 / 7)) }
        try z.write(input)
        try z.finish()
        #expect(compressed.count < input.count)
        var out: [UInt8] = []
        let d = try ZstdDecompressor { out += $0 }
        try compressed.withUnsafeBytes { try d.write($0) }
        try d.finish()
        #expect(out == input)
        let t = try ZstdDecompressor { _ in }
        try compressed.dropLast(20).withUnsafeBytes { try t.write($0) }
        #expect(throws: ZstdError.self) { try t.finish() }
        var bad = compressed
        bad[bad.count / 2] ^= 0xff
        let c = try ZstdDecompressor { _ in }
        #expect(throws: ZstdError.self) {
            try bad.withUnsafeBytes { try c.write($0) }
            try c.finish()
        }
    }
}
