import Testing
import Foundation
import DSMSystem

@Suite struct FileSystemTests {
    func tempDir() -> String {
        let dir = NSTemporaryDirectory() + "dsm-fs-\(UUID().uuidString)"
        try! FileSystem.createDirectory(dir)
        return dir
    }

    @Test func atomicWriteReplacesWholeFileAndLeavesNoTemp() throws {
        let dir = tempDir()
        defer { FileSystem.removeTree(dir) }
        let path = dir + "/a/b/state.json"
        try FileSystem.writeAtomically(Array("first".utf8), to: path)
        try FileSystem.writeAtomically(Array("second, longer".utf8), to: path)
        #expect(String(decoding: try FileSystem.readAll(path), as: UTF8.self) == "second, longer")
        #expect(FileSystem.list(dir + "/a/b") == ["state.json"])
    }

    @Test func lockIsExclusiveUntilReleased() throws {
        let dir = tempDir()
        defer { FileSystem.removeTree(dir) }
        var first = try FileLock.tryAcquire(dir + "/x.lock")
        #expect(first != nil)
        #expect(try FileLock.tryAcquire(dir + "/x.lock") == nil)
        first = nil
        #expect(try FileLock.tryAcquire(dir + "/x.lock") != nil)
    }

    @Test func positionedWritesAndHashing() throws {
        let dir = tempDir()
        defer { FileSystem.removeTree(dir) }
        let path = dir + "/f"
        let file = try RandomAccessFile(path: path, flags: O_RDWR | O_CREAT)
        try file.preallocate(10)
        try Array("world".utf8).withUnsafeBytes { try file.write($0, at: 5) }
        try Array("hello".utf8).withUnsafeBytes { try file.write($0, at: 0) }
        try file.sync()
        #expect(try FileHasher.sha256(path: path) == Digest.sha256Hex(Array("helloworld".utf8)))
        #expect(FileSystem.fileSize(path) == 10)
    }

    @Test func missingFileErrorsNameThePathAndCall() {
        #expect {
            _ = try RandomAccessFile.openForReading("/nonexistent/dsm-test")
        } throws: { error in
            let text = String(describing: error)
            return text.contains("open failed") && text.contains("/nonexistent/dsm-test")
        }
    }

    @Test(arguments: [
        ("https://cdn.example/blobs/abc?Signature=SECRET&Expires=1", "https://cdn.example/blobs/abc"),
        ("http://user:pass@host:8080/path", "http://host:8080/path"),
        ("http://127.0.0.1:9/x", "http://127.0.0.1:9/x"),
    ])
    func curlErrorsRedactSecrets(url: String, expected: String) {
        #expect(CurlError.redact(url) == expected)
    }
}
