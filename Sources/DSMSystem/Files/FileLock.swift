#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock on a lock file (`flock(2)`). The kernel drops it when the
/// process dies, so a `kill -9` never leaves a stale lock behind.
public final class FileLock: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Takes the lock without waiting; returns nil when another process holds it.
    public static func tryAcquire(_ path: String) throws(SystemError) -> FileLock? {
        let fd = try openLockFile(path)
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(path: path, fd: fd) }
        let err = Glibc.errno
        close(fd)
        if err == EWOULDBLOCK { return nil }
        throw SystemError(call: "flock", code: err, path: path)
    }

    /// Waits until the lock is free, then takes it (`shared`: many holders at once, excluding an exclusive one).
    public static func acquire(_ path: String, shared: Bool = false) throws(SystemError) -> FileLock {
        let fd = try openLockFile(path)
        while flock(fd, shared ? LOCK_SH : LOCK_EX) != 0 {
            if Glibc.errno == EINTR { continue }
            let err = Glibc.errno
            close(fd)
            throw SystemError(call: "flock", code: err, path: path)
        }
        return FileLock(path: path, fd: fd)
    }

    private static func openLockFile(_ path: String) throws(SystemError) -> Int32 {
        try FileSystem.createDirectory(FileSystem.parent(of: path))
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError.errno("open", path: path) }
        return fd
    }

    /// Releases the lock (also done on deinit).
    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
