import Testing
import DSMRegistry

/// Registry states that trapped (docs/security.md "Fuzzing"), kept as tests that they are now refused with an error.
@Suite struct ReleaseStateFuzzRegressionTests {
    func state(lastNumber: String) -> [UInt8] {
        Array(#"{"schema":1,"name":"m:latest","versions":[],"weight":0,"tags":{},"previous_stables":[],"last_number":\#(lastNumber),"revision":1}"#.utf8)
    }

    /// `last_number` of Int.max made the next version number (`apply(.addVersion)`) overflow and trap.
    @Test func lastNumberThatCannotBeIncrementedIsRefused() throws {
        #expect { _ = try ReleaseState.decode(state(lastNumber: "9223372036854775807"), path: "state.json") } throws: { "\($0)".contains("last_number") }
        #expect(throws: (any Error).self) { _ = try ReleaseState.decode(state(lastNumber: "-1"), path: "state.json") }
        let ok = try ReleaseState.decode(state(lastNumber: "9223372036854775806"), path: "state.json")
        #expect(try ok.apply(.addVersion(manifest: "m", contentKey: "k", createdAt: "t")).lastNumber == Int.max)
    }
}
