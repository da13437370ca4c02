#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor for positioned reads and writes (`pread`/`pwrite`), safe to use
/// from several threads at once because no call depends on a shared file offset.
public final class RandomAccessFile: @unchecked Sendable {
    public let path: String
    public let fd: Int32

    /// Opens `path` with `open(2)` flags, creating it with `mode` when `O_CREAT` is given.
    public init(path: String, flags: Int32, mode: mode_t = 0o644) throws(SystemError) {
        let fd = open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError.errno("open", path: path) }
        self.path = path
        self.fd = fd
    }

    /// Opens an existing file read-only.
    public static func openForReading(_ path: String) throws(SystemError) -> RandomAccessFile {
        try RandomAccessFile(path: path, flags: O_RDONLY)
    }

    deinit { close(fd) }

    /// Writes all of `bytes` at `offset`, retrying short writes and `EINTR`.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw SystemError.errno("pwrite", path: path)
            }
            done += n
        }
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns the count read (0 at end of file).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemError) -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw SystemError.errno("pread", path: path)
            }
            return n
        }
    }

    /// Flushes data and metadata to the device (`fsync`).
    public func sync() throws(SystemError) {
        guard fsync(fd) == 0 else { throw SystemError.errno("fsync", path: path) }
    }

    /// Current size from `fstat`.
    public func size() throws(SystemError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemError.errno("fstat", path: path) }
        return Int64(st.st_size)
    }

    /// Sets the length with `ftruncate`, then asks for the blocks with `posix_fallocate`
    /// so a full disk is reported now rather than in the middle of a download.
    /// File systems without fallocate support keep the sparse file.
    public func preallocate(_ length: Int64) throws(SystemError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw SystemError.errno("ftruncate", path: path) }
        guard length > 0 else { return }
        let rc = posix_fallocate(fd, 0, off_t(length))
        if rc == ENOSPC { throw SystemError(call: "posix_fallocate", code: rc, path: path) }
    }
}
