import Testing
import Foundation
import DSMRegistry

@Suite struct ReleaseStateTests {
    static func withVersions(_ n: Int) throws -> ReleaseState {
        var s = ReleaseState(name: "r1:7b-q4_K_M")
        for i in 1...n { s = try s.apply(.addVersion(manifest: "m\(i)", contentKey: "k\(i)", createdAt: "t\(i)")) }
        return s
    }

    @Test func firstVersionBecomesStableOthersDoNot() throws {
        let s = try Self.withVersions(3)
        #expect(s.versions.map(\.number) == [1, 2, 3])
        #expect(s.stable == 1 && s.canary == nil)
    }

    @Test func unchangedContentAddsNoVersion() throws {
        let s = try Self.withVersions(2)
        #expect(try s.apply(.addVersion(manifest: "other", contentKey: "k2", createdAt: "later")) == s)
    }

    @Test func releaseWidenPromoteRollback() throws {
        var s = try Self.withVersions(3)
        s = try s.apply(.release(canary: 3, weight: 10))
        #expect(s.routing == Routing(stable: 1, canary: 3, weight: 10))
        s = try s.apply(.release(canary: nil, weight: 50))
        #expect(s.routing == Routing(stable: 1, canary: 3, weight: 50))
        s = try s.apply(.promote)
        #expect(s.routing == Routing(stable: 3, canary: nil, weight: 0))
        s = try s.apply(.rollback(to: nil))
        #expect(s.stable == 1)
        #expect(throws: ReleaseError.self) { try s.apply(.rollback(to: nil)) }
        s = try s.apply(.rollback(to: 2))
        #expect(s.stable == 2)
        #expect(try s.apply(.rollback(to: nil)).stable == 1)
    }

    @Test func badCommandsAreRefusedAndChangeNothing() throws {
        let s = try Self.withVersions(2)
        let bad: [ReleaseCommand] = [.release(canary: 9, weight: 10), .release(canary: 2, weight: 101), .release(canary: 2, weight: -1),
                                     .release(canary: nil, weight: 20), .release(canary: 1, weight: 5), .promote, .rollback(to: nil),
                                     .rollback(to: 7), .rollback(to: 1), .tag("x", version: 5), .tag("v2", version: 1),
                                     .tag("stable", version: 1), .tag("", version: 1), .untag("nope"), .remove(version: 1, force: false),
                                     .remove(version: 4, force: true)]
        for c in bad {
            #expect(throws: ReleaseError.self, "\(c)") { try s.apply(c) }
        }
    }

    @Test func removeNeedsForceWhilePointedAt() throws {
        var s = try Self.withVersions(3).apply(.tag("prod-candidate", version: 3))
        #expect(throws: ReleaseError.self) { try s.apply(.remove(version: 3, force: false)) }
        s = try s.apply(.remove(version: 2, force: false))
        #expect(s.versions.map(\.number) == [1, 3])
        s = try s.apply(.remove(version: 3, force: true))
        #expect(s.tags.isEmpty)
        #expect(s.nextNumber == 4)  // numbers are never reused
    }

    @Test func selectors() throws {
        let s = try Self.withVersions(3).apply(.tag("prod-candidate", version: 3)).apply(.release(canary: 2, weight: 5))
        #expect(try s.resolve(nil).number == 1)
        #expect(try s.resolve(.canary).number == 2)
        #expect(try s.resolve(VersionSelector(parsing: "v3")).number == 3)
        #expect(try s.resolve(VersionSelector(parsing: "prod-candidate")).number == 3)
        #expect(throws: ReleaseError.self) { try s.resolve(.number(9)) }
        #expect(VersionSelector.split("deepseek-r1:7b-q4_K_M@v3").name == "deepseek-r1:7b-q4_K_M")
        #expect(VersionSelector.split("deepseek-r1:7b").selector == nil)
    }

    @Test func stateRoundTripsThroughJSON() throws {
        let s = try Self.withVersions(2).apply(.release(canary: 2, weight: 20)).apply(.tag("a", version: 1))
        let data = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(ReleaseState.self, from: data) == s)
    }
}
