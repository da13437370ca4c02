import Testing
import Foundation
import DSMStore
import DSMSystem

@Suite struct ModelNameTests {
    @Test(arguments: [
        ("deepseek-r1:7b", ["deepseek-r1"], "7b"),
        ("deepseek-r1", ["deepseek-r1"], "latest"),
        ("hf.co/deepseek-ai/DeepSeek-V2-Lite-Chat:latest", ["hf.co", "deepseek-ai", "DeepSeek-V2-Lite-Chat"], "latest"),
        ("my-r1:7b-q4_K_M", ["my-r1"], "7b-q4_K_M"),
    ])
    func parses(text: String, path: [String], tag: String) throws {
        let n = try ModelName(parsing: text)
        #expect(n.path == path)
        #expect(n.tag == tag)
        #expect(n.manifestRelativePath == path.joined(separator: "/") + ":\(tag).json")
        #expect(ModelName(folders: Array(path.dropLast()), leaf: path.last! + ":" + tag) == n)
    }

    @Test(arguments: ["", ":x", "a/../b:c", "..:x", "a:", "a b:c", "a/b/c/d/e:f", "-a:b"])
    func rejects(text: String) {
        #expect(throws: ModelName.Invalid.self) { try ModelName(parsing: text) }
    }
}

@Suite struct StoreTests {
    func tempStore() throws -> Store {
        let s = Store(root: NSTemporaryDirectory() + "dsm-store-\(UUID().uuidString)")
        try s.prepare()
        return s
    }

    func sample() -> Manifest {
        Manifest(name: "x:latest", source: .init(endpoint: "https://hf", repo: "o/n", revision: "main", commit: String(repeating: "a", count: 40)),
                 files: [.init(path: "b.json", size: 2, sha256: String(repeating: "b", count: 64), gitOid: nil, lfs: true),
                         .init(path: "a.json", size: 1, sha256: String(repeating: "c", count: 64), gitOid: String(repeating: "d", count: 40), lfs: false)],
                 createdAt: "2026-12-01T00:00:00Z", tool: "dsm test")
    }

    @Test func manifestEncodingIsCanonicalAndRoundTrips() throws {
        let m = sample()
        #expect(m.files.map(\.path) == ["a.json", "b.json"])
        let bytes = try m.encoded()
        #expect(try Manifest.decode(bytes) == m)
        #expect(try m.encoded() == bytes)
        #expect(String(decoding: bytes, as: UTF8.self).contains("\"git_oid\""))
    }

    @Test func manifestWithFutureSchemaIsRefused() throws {
        var text = String(decoding: try sample().encoded(), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"schema\":1", with: "\"schema\":2")
        #expect(throws: StoreError.self) { try Manifest.decode(Array(text.utf8)) }
    }

    @Test func manifestsAreListedByName() throws {
        let s = try tempStore()
        defer { FileSystem.removeTree(s.root) }
        let digest = try s.writeManifest(sample(), for: try ModelName(parsing: "hf.co/o/n:latest"))
        try s.writeManifest(sample(), for: try ModelName(parsing: "deepseek-r1:7b"))
        #expect(s.names().map(\.description) == ["deepseek-r1:7b", "hf.co/o/n:latest"])
        let (m, d) = try #require(try s.manifest(for: try ModelName(parsing: "hf.co/o/n:latest")))
        #expect(d == digest && m == sample())
        #expect(d == Digest.sha256Hex(try sample().encoded()))
    }

    @Test func blobsAreContentAddressedAndStoredOnce() throws {
        let s = try tempStore()
        defer { FileSystem.removeTree(s.root) }
        let sha = try s.putBlob(Array("hello".utf8))
        #expect(sha == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(try FileHasher.sha256(path: s.blobPath(sha)) == sha)
        let tmp = s.root + "/copy"
        try FileSystem.writeAtomically(Array("hello".utf8), to: tmp)
        try s.adoptBlob(from: tmp, sha256: sha)
        #expect(!FileSystem.exists(tmp))
        #expect(FileSystem.list(s.blobsDirectory) == ["sha256-\(sha)"])
    }

    @Test func gitBlobIndexComesFromManifestsAndNeedsTheBlob() throws {
        let s = try tempStore()
        defer { FileSystem.removeTree(s.root) }
        let sha = try s.putBlob(Array("hello\n".utf8))
        let oid = "ce013625030ba8dba906f756967f9e9ca394464a"
        let m = Manifest(name: "x:latest", source: .init(endpoint: "e", repo: "o/n", revision: "main", commit: String(repeating: "a", count: 40)),
                         files: [.init(path: "a.txt", size: 6, sha256: sha, gitOid: oid, lfs: false),
                                 .init(path: "gone.txt", size: 1, sha256: String(repeating: "f", count: 64), gitOid: String(repeating: "1", count: 40), lfs: false)],
                         createdAt: "t", tool: "dsm test")
        try s.writeManifest(m, for: try ModelName(parsing: "x:latest"))
        #expect(s.gitBlobIndex() == [oid: sha])
    }
}
