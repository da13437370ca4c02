import Testing
import Foundation
import DSMRegistry
import DSMStore
import DSMSystem

@Suite struct RegistryDiskTests {
    static func tempStore() throws -> Store {
        let dir = NSTemporaryDirectory() + "dsm-registry-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return Store(root: dir)
    }

    /// Runs `body` with a registry in a fresh temporary store, removed afterwards.
    static func withRegistry(_ body: (Registry, Store) throws -> Void) throws {
        let store = try tempStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        try body(Registry(store: store), store)
    }

    static func manifest(_ name: String, commit: String, at time: String) -> Manifest {
        Manifest(name: name, kind: .checkpoint, source: .init(endpoint: "https://hub", repo: "org/m", revision: "main", commit: commit),
                 files: [.init(path: "config.json", size: 2, sha256: Digest.sha256Hex(Array(commit.utf8)), gitOid: nil, lfs: false)],
                 createdAt: time, tool: "dsm test")
    }

    @Test func publishVersionsChannelsHistoryAndView() throws {
        try Self.withRegistry { registry, store in
            let name = try ModelName(parsing: "deepseek-r1:7b")
            let (v1, new1) = try registry.publish(Self.manifest("deepseek-r1:7b", commit: "c1", at: "2026-01-01T00:00:00Z"), as: name, command: "dsm pull")
            #expect(v1.number == 1 && new1)
            let (again, new2) = try registry.publish(Self.manifest("deepseek-r1:7b", commit: "c1", at: "2026-02-02T00:00:00Z"), as: name, command: "dsm pull")
            #expect(again.number == 1 && !new2)  // same content, later time: no new version
            let (v2, _) = try registry.publish(Self.manifest("deepseek-r1:7b", commit: "c2", at: "2026-03-03T00:00:00Z"), as: name, command: "dsm pull")
            #expect(v2.number == 2)
            #expect(try registry.state(of: name)?.stable == 1)
            #expect(try store.manifest(for: name)?.manifest.source.commit == "c1")  // the view follows stable
            try registry.change(name, .release(canary: 2, weight: 20), command: "dsm release")
            try registry.change(name, .promote, command: "dsm promote")
            #expect(try store.manifest(for: name)?.manifest.source.commit == "c2")
            let h = try registry.history(of: name)
            #expect(h.map(\.verb) == ["add", "add", "release", "promote"])
            #expect(h.map(\.sequence) == [1, 2, 3, 4])
            #expect(h[2].after.canary == 2 && h[2].after.weight == 20 && h[2].before.canary == nil)
            #expect(try registry.manifest(of: try registry.state(of: name)!.resolve(.number(1)), in: name).source.commit == "c1")
            #expect(throws: ReleaseError.self) { try registry.change(name, .promote) }
            #expect(try registry.history(of: name).count == 4)  // a refused command writes nothing
            #expect(registry.names() == [name])
        }
    }

    @Test func uncommittedHistoryLinesAreDropped() throws {
        try Self.withRegistry { registry, store in
            let name = try ModelName(parsing: "m:t")
            try registry.publish(Self.manifest("m:t", commit: "c1", at: "t"), as: name)
            try registry.publish(Self.manifest("m:t", commit: "c2", at: "t"), as: name)
            // A crash after the history append and before the state write leaves a line with sequence 3.
            let path = store.root + "/registry/m:t/history.jsonl"
            var lines = try String(contentsOfFile: path, encoding: .utf8)
            lines += lines.split(separator: "\n").last!.replacingOccurrences(of: "\"sequence\":2", with: "\"sequence\":3") + "\n"
            try lines.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try registry.history(of: name).count == 2)
            try registry.change(name, .tag("x", version: 2))
            #expect(try registry.history(of: name).map(\.verb) == ["add", "add", "tag"])
            #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 3)
        }
    }

    @Test func namesThatNestInFoldersStaySeparate() throws {
        try Self.withRegistry { registry, store in
            // With one folder per tag, `x/tag:versions` would live inside `x:tag`'s versions/ folder.
            let names = try ["x:tag", "x/tag:versions", "x/tag/versions:y", "x:tag.json"].map { try ModelName(parsing: $0) }
            for (i, n) in names.enumerated() { try registry.publish(Self.manifest(n.description, commit: "c\(i)", at: "t"), as: n) }
            #expect(registry.names() == names.sorted())
            #expect(store.names() == names.sorted())
            for (i, n) in names.enumerated() {
                #expect(try registry.lookup(n, nil)?.manifest.source.commit == "c\(i)")
                #expect(try registry.state(of: n)?.versions.count == 1)
            }
            #expect(try registry.collectGarbage().versionManifests.isEmpty)
        }
    }

    @Test func gcRemovesWhatAKilledFirstPublishLeft() throws {
        try Self.withRegistry { registry, store in
            try registry.publish(Self.manifest("kept:t", commit: "c1", at: "t"), as: try ModelName(parsing: "kept:t"))
            // A first publish killed after writing its version manifest and before committing state.json.
            let orphan = store.root + "/registry/gone:t/versions/sha256-" + String(repeating: "a", count: 64) + ".json"
            try FileSystem.createDirectory(store.root + "/registry/gone:t/versions")
            try FileSystem.writeAtomically(Array("{}".utf8), to: orphan)
            #expect(!registry.names().map(\.description).contains("gone:t"))
            let dry = try registry.collectGarbage(dryRun: true)
            #expect(dry.versionManifests == ["gone:t@sha256:" + String(repeating: "a", count: 64)])
            #expect(FileSystem.exists(orphan))
            _ = try registry.collectGarbage()
            #expect(!FileSystem.exists(orphan) && !FileSystem.exists(store.root + "/registry/gone:t"))
            #expect(try registry.lookup(try ModelName(parsing: "kept:t"), nil) != nil)
        }
    }

    @Test func aNewNameMayNotDifferOnlyInCase() throws {
        try Self.withRegistry { registry, store in
            let name = try ModelName(parsing: "DeepSeek-R1:7b")
            try registry.publish(Self.manifest("DeepSeek-R1:7b", commit: "c1", at: "t"), as: name)
            #expect(throws: RegistryError.self) {
                try registry.publish(Self.manifest("deepseek-r1:7b", commit: "c2", at: "t"), as: try ModelName(parsing: "deepseek-r1:7b"))
            }
            #expect(registry.names() == [name])
            #expect(try registry.publish(Self.manifest("DeepSeek-R1:7b", commit: "c2", at: "t"), as: name).0.number == 2)
        }
    }

    @Test func lookupResolvesSelectorsFromTheCommittedState() throws {
        try Self.withRegistry { registry, store in
            let name = try ModelName(parsing: "m:t")
            try registry.publish(Self.manifest("m:t", commit: "c1", at: "t"), as: name)
            try registry.publish(Self.manifest("m:t", commit: "c2", at: "t"), as: name)
            try registry.change(name, .release(canary: 2, weight: 5))
            // A crash between the commit and the view update: the view still says v1 but v2 is stable.
            try registry.change(name, .promote)
            try FileSystem.writeAtomically(try registry.manifest(of: try registry.state(of: name)!.resolve(.number(1)), in: name).encoded(),
                                           to: store.manifestsDirectory + "/m:t.json")
            #expect(try registry.lookup("m:t")?.number == 2)
            #expect(try registry.lookup("m:t@v1")?.manifest.source.commit == "c1")
            #expect(try registry.lookup("m:t@stable")?.manifest.source.commit == "c2")
            #expect(throws: ReleaseError.self) { try registry.lookup("m:t@canary") }
            #expect(throws: ReleaseError.self) { try registry.lookup("m:t@v9") }
            #expect(try registry.lookup("other:t") == nil)
            #expect(try registry.lookup("not a name") == nil)
        }
    }
}
