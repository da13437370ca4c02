import DSMStore
import Foundation
import Testing

/// The file-path rule (shared by pull and manifest decoding) and what a manifest refuses to decode.
@Suite struct ManifestSafetyTests {
    @Test(arguments: ["../escape.txt", "/etc/evil.txt", "a/../../b", "a//b", "./a", "a\\b", "", "a/\u{1}", "zz/../../../.ssh/authorized_keys"])
    func unsafePaths(path: String) { #expect(RepoPath.problem(with: path) != nil) }

    @Test(arguments: ["config.json", "sub/dir/notes.md", "model-00001-of-00002.safetensors", ".gitattributes", "a..b/c"])
    func safePaths(path: String) { #expect(RepoPath.problem(with: path) == nil) }

    /// Canonical manifest bytes with one file, its fields given as JSON text.
    static func bytes(path: String, sha256: String = String(repeating: "b", count: 64), size: String = "2", twice: Bool = false) -> [UInt8] {
        let file = #"{"lfs":false,"path":\#(path),"sha256":"\#(sha256)","size":\#(size)}"#
        let files = twice ? file + "," + file : file
        return Array(#"{"created_at":"2026-01-01T00:00:00Z","files":[\#(files)],"kind":"hf-snapshot","name":"x:latest","schema":1,"source":{"commit":"c","endpoint":"e","repo":"o/n","revision":"main"},"tool":"t"}"#.utf8)
    }

    @Test(arguments: [
        (#""zz/../../../.ssh/authorized_keys""#, "'zz/../../../.ssh/authorized_keys' (it climbs out of the model folder with '..')"),
        (#""/etc/passwd""#, "'/etc/passwd' (it is an absolute path)"),
        (#""a\u001b[2Jb""#, #"'a\x1b[2Jb' (it contains a control character)"#),
    ])
    func manifestWithAnUnsafePathDoesNotDecode(path: String, message: String) {
        #expect(throws: StoreError.self) { try Manifest.decode(Self.bytes(path: path)) }
        do { _ = try Manifest.decode(Self.bytes(path: path)) } catch {
            #expect("\(error)".contains("the manifest of x:latest lists the unsafe file path \(message)"), "\(error)")
            #expect(!"\(error)".contains("\u{1B}"))
        }
    }

    @Test func manifestWithABadDigestSizeOrRepeatedPathDoesNotDecode() throws {
        _ = try Manifest.decode(Self.bytes(path: #""config.json""#))
        for (bytes, message) in [(Self.bytes(path: #""config.json""#, sha256: "../../../../etc/passwd"), "not 64 lowercase hex digits"),
                                 (Self.bytes(path: #""config.json""#, size: "-1"), "negative size"),
                                 (Self.bytes(path: #""config.json""#, twice: true), "twice")] {
            do {
                _ = try Manifest.decode(bytes)
                Issue.record("decoded: \(message)")
            } catch { #expect("\(error)".contains(message), "\(error)") }
        }
    }

    @Test func jsonDecoderChecksToo() {
        #expect(throws: StoreError.self) { try JSONDecoder().decode(Manifest.self, from: Data(Self.bytes(path: #""../x""#))) }
    }
}
