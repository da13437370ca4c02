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

    static func manifest(_ name: String, commit: String, at time: String) -> Manifest {
        Manifest(name: name, kind: "hf-snapshot", source: .init(endpoint: "https://hub", repo: "org/m", revision: "main", commit: commit),
                 files: [.init(path: "config.json", size: 2, sha256: Digest.sha256Hex(Array(commit.utf8)), gitOid: nil, lfs: false)],
                 createdAt: time, tool: "dsm test")
    }

    @Test func publishVersionsChannelsHistoryAndView() throws {
        let store = try Self.tempStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let registry = Registry(store: store)
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

    @Test func uncommittedHistoryLinesAreDropped() throws {
        let store = try Self.tempStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let registry = Registry(store: store)
        let name = try ModelName(parsing: "m:t")
        try registry.publish(Self.manifest("m:t", commit: "c1", at: "t"), as: name)
        try registry.publish(Self.manifest("m:t", commit: "c2", at: "t"), as: name)
        // A crash after the history append and before the state write leaves a line with sequence 3.
        let path = store.root + "/registry/m/t/history.jsonl"
        var lines = try String(contentsOfFile: path, encoding: .utf8)
        lines += lines.split(separator: "\n").last!.replacingOccurrences(of: "\"sequence\":2", with: "\"sequence\":3") + "\n"
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try registry.history(of: name).count == 2)
        try registry.change(name, .tag("x", version: 2))
        #expect(try registry.history(of: name).map(\.verb) == ["add", "add", "tag"])
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 3)
    }
}
