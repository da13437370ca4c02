import Testing
import Foundation
import DSMRegistry
import DSMStore

@Suite struct RoutingWatcherTests {
    @Test func seesEveryCommittedChangeAndOnlyThose() throws {
        let store = try RegistryDiskTests.tempStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let registry = Registry(store: store)
        let name = try ModelName(parsing: "w:t")
        let watcher = try RoutingWatcher(registry: registry, name: name)
        #expect(watcher.routing == nil)
        try registry.publish(RegistryDiskTests.manifest("w:t", commit: "a", at: "t"), as: name)
        try registry.publish(RegistryDiskTests.manifest("w:t", commit: "b", at: "t"), as: name)
        #expect(try watcher.poll() == .some(Routing(stable: 1, canary: nil, weight: 0)))
        #expect(try watcher.poll() == .none)  // nothing new
        _ = try? registry.change(name, .promote)  // refused: no canary, nothing committed
        #expect(try watcher.poll() == .none)
        try registry.change(name, .release(canary: 2, weight: 30))
        #expect(try watcher.poll() == .some(Routing(stable: 1, canary: 2, weight: 30)))
    }

    @Test func backgroundPollingCallsBack() async throws {
        let store = try RegistryDiskTests.tempStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let registry = Registry(store: store)
        let name = try ModelName(parsing: "w:t")
        let watcher = try RoutingWatcher(registry: registry, name: name)
        let seen = Seen()
        watcher.start(interval: 0.05) { seen.add($0) }
        defer { watcher.stop() }
        try registry.publish(RegistryDiskTests.manifest("w:t", commit: "a", at: "t"), as: name)
        for _ in 0..<100 where seen.all.isEmpty { try await Task.sleep(nanoseconds: 20_000_000) }
        #expect(seen.all == [Routing(stable: 1, canary: nil, weight: 0)])
    }

    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Routing?] = []
        func add(_ r: Routing?) { lock.lock(); items.append(r); lock.unlock() }
        var all: [Routing?] { lock.lock(); defer { lock.unlock() }; return items }
    }
}
