import Testing
import Foundation
import DSMArtifacts
import DSMRegistry
import DSMStore
import DSMSystem

/// Every SOURCE form `ArtifactResolver` accepts, and every bad one, against a real temporary store.
@Suite struct ArtifactResolverTests {
    /// A temporary store with `org-m:latest` v1 (a checkpoint) and v2 (tagged `fast`), and `m:q4` (a GGUF quantized
    /// from it), plus a checkpoint folder and a GGUF file beside the store.
    static func withFixture(_ body: (Store, String) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "dsm-artifacts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/folder", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileSystem.writeAtomically(Array("{}".utf8), to: dir + "/folder/config.json")
        try FileSystem.writeAtomically(Array("GGUF....".utf8), to: dir + "/file.gguf")
        try FileSystem.writeAtomically(Array("GGUF....".utf8), to: dir + "/weights.bin")
        let store = Store(root: dir + "/home")
        for (commit, time) in [("c1", "2026-01-01T00:00:00Z"), ("c2", "2026-02-01T00:00:00Z")] {
            let ingest = try Ingest(store: store)
            let sha = try store.putBlob(Array(commit.utf8))
            try ingest.commit(Manifest(name: "org-m:latest", kind: .checkpoint,
                                       provenance: .pulled(endpoint: "https://hub", repo: "org/m", revision: "main", commit: commit),
                                       files: [.init(path: "config.json", size: 2, sha256: sha, gitOid: nil, lfs: false)], createdAt: time, tool: "t"),
                              as: try ModelName(parsing: "org-m:latest"))
        }
        try Registry(store: store).change(try ModelName(parsing: "org-m:latest"), .tag("fast", version: 2))
        let gguf = try store.putBlob(Array("GGUF-q4".utf8))
        try Ingest(store: store).commit(try ModelName(parsing: "m:q4"), kind: .gguf,
                                        provenance: .converted(from: "org-m:latest", outType: "bf16", input: nil),
                                        files: [.init(path: "model.gguf", size: 7, sha256: gguf, gitOid: nil, lfs: false)], tool: "t")
        try body(store, dir)
    }

    @Test func everySourceForm() throws {
        try Self.withFixture { store, dir in
            let r = ArtifactResolver(store: store)
            let all: ArtifactResolver.Forms = [.folder, .file, .stored]
            let folder = try r.resolve(dir + "/folder/", among: all)
            #expect(folder.kind == .checkpoint && folder.label == dir + "/folder" && folder.name == nil && folder.blobsByPath == nil)
            let file = try r.resolve(dir + "/file.gguf", among: all)
            #expect(file.kind == .gguf && file.ggufPath == dir + "/file.gguf")
            let stable = try r.resolve("org-m:latest", among: all)
            #expect(stable.version?.number == 1 && stable.kind == .checkpoint)
            #expect(stable.blobsByPath?["config.json"] == store.blobPath(Digest.sha256Hex(Array("c1".utf8))))
            for (ref, number) in [("org-m:latest@v2", 2), ("org-m:latest@fast", 2), ("org-m:latest@stable", 1)] {
                let v = try r.resolve(ref, among: all)
                #expect(v.version?.number == number, "\(ref)")
            }
            let q4 = try r.resolve("m:q4", among: all)
            #expect(q4.kind == .gguf && q4.ggufPath == store.blobPath(Digest.sha256Hex(Array("GGUF-q4".utf8))))
            // a GGUF converted from a stored checkpoint lends that checkpoint's name to what is made from it
            #expect(q4.baseName?.description == "org-m:latest" && stable.baseName?.description == "org-m:latest")
        }
    }

    @Test func theLatestPullIsTheDefaultWhereACommandAllowsIt() throws {
        try Self.withFixture { store, _ in
            let r = ArtifactResolver(store: store)
            let latest = try r.resolve(nil, among: [.stored], defaultToLatestPull: true)
            #expect(latest.name?.description == "org-m:latest")
            #expect(throws: ArtifactError.self) { try r.resolve(nil, among: [.stored], defaultToLatestPull: false) }
        }
    }

    @Test func formsACommandDoesNotAcceptAreNotMatched() throws {
        try Self.withFixture { store, dir in
            let r = ArtifactResolver(store: store)
            let folderAsStored = try r.find(dir + "/folder", among: [.stored, .file])
            let otherFile = try r.find(dir + "/weights.bin", among: [.ggufFile, .stored])  // fit: only *.gguf paths are files
            let ggufFile = try r.find(dir + "/file.gguf", among: [.ggufFile])
            let nameAsPath = try r.find("org-m:latest", among: [.folder, .file])
            #expect(folderAsStored == nil && otherFile == nil && nameAsPath == nil)
            #expect(ggufFile?.kind == .gguf)
        }
    }

    @Test func badSourcesSayWhatWasExpected() throws {
        try Self.withFixture { store, dir in
            let r = ArtifactResolver(store: store)
            let cases: [(String, ArtifactResolver.Forms, String)] = [
                ("nothing:here", [.folder, .file, .stored], "'nothing:here' is neither a file, a folder nor a model in \(store.root)"),
                (dir + "/missing.gguf", [.folder, .stored], "missing.gguf' is neither a folder nor a model"),
                ("not a name!", [.stored], "is neither a model in"),
                ("org-m:latest@v9", [.stored], "v9"),
                ("org-m:latest@canary", [.stored], "canary"),
                ("bad\u{1B}[2Jname", [.stored], "\\x1b"),
            ]
            for (text, forms, expected) in cases {
                do {
                    _ = try r.resolve(text, among: forms)
                    Issue.record("\(text) resolved")
                } catch let e as ArtifactError {
                    #expect(e.description.contains(expected), "\(e.description)")
                    #expect(!e.description.contains("\u{1B}"))
                }
            }
        }
    }
}
