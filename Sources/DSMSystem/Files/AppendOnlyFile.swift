#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for appending (`O_APPEND`, close-on-exec), created with `mode` when missing. `append` writes every
/// byte or says why not; nothing here traps, so a full disk or `/dev/full` cannot take a server down.
public final class AppendOnlyFile: @unchecked Sendable {
    private let fd: Int32
    /// The file's path.
    public let path: String

    /// Opens (or creates) `path` for appending.
    public init(path: String, mode: mode_t) throws(SystemError) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError.errno("open", path: path) }
        self.path = path
    }

    deinit { close(fd) }

    /// Appends every byte, retrying after interruptions and short writes. Returns nil on success, else the
    /// system's reason (`No space left on device`).
    public func append(_ bytes: [UInt8]) -> String? {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            if n == 0 { return "the file accepted no bytes" }
            done += n
        }
        return nil
    }

    /// Appends `text` to `path` (created with `mode` if missing) and closes it; a failure is ignored. For notes
    /// added to a log that is only informational.
    public static func appendIgnoringFailure(_ text: String, to path: String, mode: mode_t = 0o644) {
        guard let file = try? AppendOnlyFile(path: path, mode: mode) else { return }
        _ = file.append(Array(text.utf8))
    }
}
