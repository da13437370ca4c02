import Testing
import DSMSystem

@Suite struct DigestTests {
    /// NIST FIPS 180-4 example vectors.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256Vectors(input: String, expected: String) {
        let d = Digest(.sha256)
        d.update(input)
        #expect(d.finalizeHex() == expected)
    }

    @Test func sha256MillionA() {
        let d = Digest(.sha256)
        let chunk = [UInt8](repeating: 0x61, count: 1000)
        for _ in 0..<1000 { d.update(chunk) }
        #expect(d.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(d.count == 1_000_000)
    }

    @Test func sha1Vector() {
        let d = Digest(.sha1)
        d.update("abc")
        #expect(d.finalizeHex() == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    /// `git hash-object` of "hello\n" and of the empty file.
    @Test(arguments: [("hello\n", "ce013625030ba8dba906f756967f9e9ca394464a"), ("", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")])
    func gitBlobIds(content: String, expected: String) {
        let d = Digest(.sha1)
        d.update(Digest.gitBlobHeader(size: Int64(content.utf8.count)))
        d.update(content)
        #expect(d.finalizeHex() == expected)
    }

    @Test func chunkingDoesNotChangeTheDigest() {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = Digest.sha256Hex(bytes)
        let d = Digest(.sha256)
        var i = 0
        for size in [1, 7, 64, 1000, 3] + Array(repeating: 997, count: 20) where i < bytes.count {
            let end = min(bytes.count, i + size)
            d.update(Array(bytes[i..<end]))
            i = end
        }
        d.update(Array(bytes[i...]))
        #expect(d.finalizeHex() == whole)
    }

    @Test func hex() {
        #expect(Hex.encode([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Hex.isLowerHex("00ff", length: 4))
        #expect(!Hex.isLowerHex("00FF", length: 4))
        #expect(!Hex.isLowerHex("00f", length: 4))
    }
}
