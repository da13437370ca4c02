import Testing
import DSMStore

/// Manifests that trapped (docs/security.md "Fuzzing"), kept as tests that they are now refused with an error.
@Suite struct ManifestFuzzRegressionTests {
    func manifest(sizes: [String]) -> [UInt8] {
        let files = sizes.enumerated().map { #"{"path":"f\#($0.offset)","size":\#($0.element),"sha256":"\#(String(repeating: "a", count: 64))","lfs":true}"# }
        return Array((#"{"schema":1,"name":"m:latest","kind":"gguf","source":{"endpoint":"e","repo":"r","revision":"main","commit":"c"},"#
            + #""files":[\#(files.joined(separator: ","))],"created_at":"t","tool":"dsm"}"#).utf8)
    }

    /// File sizes that add up past Int64 trapped in `totalSize` (`dsm list`, `dsm show`); a negative size is refused too.
    @Test func impossibleFileSizesAreRefused() throws {
        #expect { _ = try Manifest.decode(manifest(sizes: ["9223372036854775807", "1"])) } throws: { "\($0)".contains("add up to more than") }
        #expect { _ = try Manifest.decode(manifest(sizes: ["-1"])) } throws: { "\($0)".contains("negative size") }
        #expect(try Manifest.decode(manifest(sizes: ["9223372036854775806", "1"])).totalSize == Int64.max)
    }
}
