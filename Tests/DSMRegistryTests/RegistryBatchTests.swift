import DSMRegistry
import DSMStore
import DSMSystem
import Foundation
import Testing

/// `Registry.change(_:command:all:)`: a list of commands is committed together, or, when one is refused, not at all.
@Suite struct RegistryBatchTests {
    @Test func aRefusedCommandLeavesStateAndHistoryAsTheyWere() throws {
        try RegistryDiskTests.withRegistry { registry, _ in
            let name = try ModelName(parsing: "batch:latest")
            for (i, c) in ["c1", "c2"].enumerated() {
                try registry.publish(RegistryDiskTests.manifest(name.description, commit: c, at: "2026-01-0\(i + 1)T00:00:00Z"), as: name)
            }
            let before = try #require(try registry.state(of: name))
            let history = try registry.history(of: name)
            #expect(throws: ReleaseError.self) {
                try registry.change(name, command: "test", all: { _ in [.rollback(to: 2), .tag("good", version: 2), .tag("v7", version: 1)] })
            }
            #expect(try registry.state(of: name) == before)
            #expect(try registry.history(of: name) == history)

            let (_, after) = try registry.change(name, command: "test", all: { _ in [.rollback(to: 2), .tag("good", version: 2), .tag("good", version: 2)] })
            #expect(after.stable == 2 && after.tags == ["good": 2] && after.revision == before.revision + 2)
            let added = try registry.history(of: name).dropFirst(history.count)
            #expect(added.map(\.verb) == ["rollback", "tag"] && added.map(\.sequence) == [before.revision + 1, before.revision + 2])
            #expect(try registry.state(of: name) == after)
        }
    }
}
