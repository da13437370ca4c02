import Testing
import DSMServeCore

/// Inputs the fuzz targets (Fuzz/, docs/security.md "Fuzzing") found misread, kept as tests.
@Suite struct APIKeyRingFuzzRegressionTests {
    /// FuzzAPIKeys, crash-6821f6…: a key file with CRLF line ends loaded as one key (Swift's "\r\n" is one Character,
    /// which a split on "\n" never matches), so none of its keys was accepted.
    @Test func crlfKeyFileHoldsOneKeyPerLine() throws {
        let ring = try APIKeyRing(fileText: "# team keys\r\nsk-alpha-0001\r\n  sk-beta-0002 \r\n\r\n", hash: testHash)
        #expect(ring.count == 2)
        #expect(ring.match("sk-alpha-0001") != nil)
        #expect(ring.match("sk-beta-0002") != nil)
    }

    /// A blank followed by a combining mark is one Character that is not " ", so the old check let a key with a space
    /// in it through and stored it differently from what a client sends.
    @Test func blanksAreFoundByByteNotByCharacter() {
        #expect(throws: APIKeyRing.Invalid.self) { try APIKeyRing(fileText: "sk-alpha \u{301}0001\n", hash: testHash) }
        #expect(throws: APIKeyRing.Invalid.self) { try APIKeyRing(fileText: "sk-alpha\t0001\n", hash: testHash) }
    }
}
