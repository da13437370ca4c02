import Testing
import DSMBundle
import Foundation

/// Bundle inputs that trapped (docs/security.md "Fuzzing"), kept as tests that they are now refused with an error.
@Suite struct BundleFuzzRegressionTests {
    /// A valid header for `name` whose 12-byte size field is replaced by `field`, checksum recomputed.
    func header(_ name: String, sizeField field: [UInt8]) -> [UInt8] {
        var h = TarFormat.header(name: name, size: 0, mtime: 0)
        h.replaceSubrange(124..<136, with: field)
        for i in 148..<156 { h[i] = 0x20 }
        let sum = String(h.reduce(0) { $0 + Int($1) }, radix: 8)
        let text = Array((String(repeating: "0", count: 6 - sum.count) + sum).utf8) + [0, 0x20]
        h.replaceSubrange(148..<156, with: text)
        return h
    }

    /// A size field of "-0000000001" (Int64's octal parser takes a sign) or a base-256 field with the sign bit set
    /// gave a negative size; the reader then sliced backwards and trapped. The first entry, the table of contents,
    /// is only checked against an upper bound by the importer, so any bundle could carry it.
    @Test func negativeEntrySizesAreRefused() throws {
        let signed = header("dsm-bundle.json", sizeField: Array("-0000000001".utf8) + [0])
        var base256 = [UInt8](repeating: 0xFF, count: 12)
        base256[0] = 0x80
        for h in [signed, header("dsm-bundle.json", sizeField: base256)] {
            #expect(throws: TarFormat.Invalid.self) { _ = try h.withUnsafeBytes { try TarFormat.parse($0) } }
            let reader = TarReader()
            #expect(throws: TarFormat.Invalid.self) { try (h + [UInt8](repeating: 0, count: 1024)).withUnsafeBytes { try reader.feed($0) } }
        }
        let fine = header("dsm-bundle.json", sizeField: Array("00000000001".utf8) + [0])
        #expect(try fine.withUnsafeBytes { try TarFormat.parse($0) }.size == 1)
    }

    /// Entries whose sizes add up past Int64 trapped in `totalBytes` (import's progress). `BundleLimits` now caps an
    /// entry at 16 TiB and a bundle at 100,000 entries, so no accepted table can reach such a sum.
    @Test func tocSizesThatOverflowTheirSumAreRefused() {
        let a = String(repeating: "a", count: 64), b = String(repeating: "b", count: 64)
        let toc = #"{"format":"dsm-bundle","version":1,"created_at":"t","tool":"dsm","names":[],"entries":["#
            + #"{"path":"blobs/sha256-\#(a)","size":9223372036854775807,"sha256":"\#(a)"},"#
            + #"{"path":"blobs/sha256-\#(b)","size":1,"sha256":"\#(b)"}]}"#
        #expect { _ = try BundleTOC.decode(Array(toc.utf8)) } throws: { "\($0)".contains("larger than the 16 TiB") }
        let one = toc.replacingOccurrences(of: "9223372036854775807", with: "7")
        #expect((try? BundleTOC.decode(Array(one.utf8)))?.totalBytes == 8)
    }
}
