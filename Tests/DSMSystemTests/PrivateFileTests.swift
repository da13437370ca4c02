import Foundation
import Testing
import DSMSystem

/// Issue 13, finding 13: the runtime key file must never be readable by others, not even for a moment.
@Suite(.serialized) struct PrivateFileTests {
    func scratch() throws -> String {
        let d = NSTemporaryDirectory() + "dsm-private-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    func mode(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & 0o777 : 0o7777
    }

    @Test func theFileIs0600FromTheMomentItExistsEvenWithAnOpenUmask() throws {
        let d = try scratch()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let old = umask(0)  // a careless umask must not widen it
        defer { umask(old) }
        try PrivateFile.directory(d + "/private")
        var seen: [(mode_t, Int)] = []
        try PrivateFile.create(d + "/private/key", contents: "secret\n") { path in
            // The file is there (so another process could open it now): it must already be private.
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
            seen.append((self.mode(path), size))
        }
        #expect(seen.count == 1)
        #expect(seen.first?.0 == 0o600, "mode when it appeared: \(String(seen.first?.0 ?? 0, radix: 8))")
        #expect(mode(d + "/private/key") == 0o600)
        #expect(try String(contentsOfFile: d + "/private/key", encoding: .utf8) == "secret\n")
    }

    @Test func theFolderIs0700AndALooseOneIsTightened() throws {
        let d = try scratch()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let old = umask(0)
        defer { umask(old) }
        try PrivateFile.directory(d + "/a/private")
        #expect(mode(d + "/a/private") == 0o700)
        mkdir(d + "/loose", 0o755)
        try PrivateFile.directory(d + "/loose")
        #expect(mode(d + "/loose") == 0o700)
    }

    @Test func linksAreNotFollowedAndStaleFilesAreReplaced() throws {
        let d = try scratch()
        defer { try? FileManager.default.removeItem(atPath: d) }
        try PrivateFile.directory(d + "/private")
        // A link planted at the key's name must not make dsm write the key elsewhere.
        let target = d + "/elsewhere"
        FileManager.default.createFile(atPath: target, contents: Data("x".utf8))
        symlink(target, d + "/private/link")
        try PrivateFile.create(d + "/private/link", contents: "k1\n")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "x")
        #expect(mode(d + "/private/link") == 0o600)
        // A leftover file of the same name (an earlier dsm with this pid was killed) is replaced.
        try PrivateFile.create(d + "/private/link", contents: "k2\n")
        #expect(try String(contentsOfFile: d + "/private/link", encoding: .utf8) == "k2\n")
        // A folder that is a link is refused.
        symlink(d + "/private", d + "/linked")
        #expect(throws: PrivateFileError.self) { try PrivateFile.directory(d + "/linked") }
    }
}
