#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Why a private file or folder could not be made; the message says what to do.
public struct PrivateFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ message: String) { description = message }
}

/// Files only their owner can read, created that way (no moment in which they are readable by others).
public enum PrivateFile {
    /// Makes `path` a directory only its owner can enter (0700), creating it (and its parents) if needed; an
    /// existing one that is looser is tightened; one that is a link or someone else's is refused.
    public static func directory(_ path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw PrivateFileError("cannot create the private folder \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard lstat(path, &st) == 0 else { throw PrivateFileError("cannot read \(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw PrivateFileError("\(path) should be a private folder but is a link or a file: remove it and start again")
        }
        guard st.st_uid == geteuid() else {
            throw PrivateFileError("\(path) belongs to user \(st.st_uid), not to you: remove it (it may hold another user's keys) and start again")
        }
        if st.st_mode & 0o077 != 0 && chmod(path, 0o700) != 0 {
            throw PrivateFileError("cannot make \(path) private (chmod 0700): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates `path` with mode 0600 from the start (O_CREAT|O_EXCL, links not followed) and writes `contents`.
    /// A stale file of that name (a dsm that was killed, whose pid came round again) is replaced.
    /// `onCreated` runs right after the file exists, before anything is written (tests look at it there).
    public static func create(_ path: String, contents: String, onCreated: (String) -> Void = { _ in }) throws {
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        var fd = open(path, flags, 0o600)
        if fd < 0 && errno == EEXIST {
            unlink(path)
            fd = open(path, flags, 0o600)
        }
        guard fd >= 0 else { throw PrivateFileError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        onCreated(path)
        let bytes = Array(contents.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw PrivateFileError("cannot write \(path): \(String(cString: strerror(errno)))") }
            done += n
        }
    }
}
