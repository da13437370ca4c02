import Testing
import Foundation
import DSMArtifacts
import DSMRegistry
import DSMStore
import DSMSystem

/// The store write every command goes through: a write stopped after any step leaves no visible version and
/// only leftovers that the sweepers recognise; gc waits for a write in progress.
@Suite struct IngestTests {
    static func withStore(_ body: (Store) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "dsm-ingest-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(Store(root: dir))
    }

    static let name = try! ModelName(parsing: "m:t")

    /// Stages `bytes` and adopts them; returns the manifest entry.
    static func stage(_ bytes: [UInt8], _ ingest: Ingest) throws -> Manifest.File {
        let path = ingest.stagingPath("test")
        try FileSystem.writeAtomically(bytes, to: path)
        let sha = Digest.sha256Hex(bytes)
        try ingest.adopt(path, sha256: sha, sync: true)
        return .init(path: "config.json", size: Int64(bytes.count), sha256: sha, gitOid: nil, lfs: false)
    }

    @Test func aCommittedWriteIsOneVersionWithItsProvenance() throws {
        try Self.withStore { store in
            let ingest = try Ingest(store: store)
            let file = try Self.stage(Array("{}".utf8), ingest)
            let done = try ingest.commit(Self.name, kind: .checkpoint, provenance: .created(path: "/x", contentKey: "k"), files: [file], tool: "t")
            #expect(done.isNew && done.version.number == 1 && done.stable == 1)
            let v = try #require(try Registry(store: store).lookup(Self.name, nil))
            #expect(v.manifest.provenance == .created(path: "/x", contentKey: "k") && v.manifest.kind == .checkpoint)
            #expect(store.hasBlob(file.sha256, size: 2))
            #expect(FileSystem.list(store.partialsDirectory).isEmpty)
        }
    }

    @Test func aWriteStoppedAtEveryStepLeavesNoVersionAndOnlySweepableFiles() throws {
        for stopAfter in ["begin", "stage", "adopt"] {
            try Self.withStore { store in
                do {
                    let ingest = try Ingest(store: store)
                    let path = ingest.stagingPath("test", suffix: ".gguf")
                    if stopAfter != "begin" { try FileSystem.writeAtomically(Array("GGUF".utf8), to: path) }
                    if stopAfter == "adopt" { try ingest.adopt(path, sha256: Digest.sha256Hex(Array("GGUF".utf8))) }
                    // the process dies here: no commit, no end
                    _ = ingest
                }
                let registry = Registry(store: store)
                #expect(registry.names().isEmpty, "after \(stopAfter)")
                // every working file left is one the sweeper recognises
                let left = FileSystem.list(store.partialsDirectory)
                #expect(left.allSatisfy(TemporaryName.isTemporary), "after \(stopAfter): \(left)")
                #expect(store.abandonedFiles(olderThan: -1, under: [store.partialsDirectory]).count == left.count)
                // an adopted blob no version names is garbage once the writer is gone
                let gc = try registry.collectGarbage()
                #expect(gc.blobs.count == (stopAfter == "adopt" ? 1 : 0), "after \(stopAfter)")
            }
        }
    }

    @Test func gcWaitsForAWriteInProgress() throws {
        try Self.withStore { store in
            let ingest = try Ingest(store: store)
            #expect(try FileLock.tryAcquire(store.lockPath("gc")) == nil)  // gc's exclusive lock must wait
            ingest.end()
            #expect(try FileLock.tryAcquire(store.lockPath("gc")) != nil)
        }
    }

    @Test func copyHashesTheCopyAndStoresItOnce() throws {
        try Self.withStore { store in
            let dir = NSTemporaryDirectory() + "dsm-ingest-src-\(UUID().uuidString)"
            try FileSystem.writeAtomically(Array(repeating: 7, count: 3000), to: dir + "/w.bin")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let ingest = try Ingest(store: store)
            let a = try ingest.copy(dir + "/w.bin", as: "w.bin", label: "t")
            let b = try ingest.copy(dir + "/w.bin", as: "again.bin", label: "t")
            #expect(a.sha256 == b.sha256 && a.size == 3000 && !a.lfs && store.hasBlob(a.sha256, size: 3000))
            #expect(FileSystem.list(store.partialsDirectory).isEmpty)
            ingest.end()
        }
    }
}
