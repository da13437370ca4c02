#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small, explicit file-system operations with the durability dsm relies on:
/// every write that makes something visible goes temp file → fsync → rename → fsync(dir).
public enum FileSystem {
    /// True if something exists at `path` (without following a final symlink).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// True if `path` is a directory.
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Size of the file at `path`, or nil when it does not exist.
    public static func fileSize(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int64(st.st_size)
    }

    /// Modification time in seconds since the epoch, or nil.
    public static func modificationTime(_ path: String) -> Double? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }

    /// Creates `path` and its parents (`mkdir -p`), mode 0755.
    public static func createDirectory(_ path: String) throws(SystemError) {
        if isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0 && Glibc.errno != EEXIST {
                throw SystemError.errno("mkdir", path: prefix)
            }
            prefix += "/"
        }
    }

    /// Names in a directory, without `.` and `..`; empty when it does not exist.
    public static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Flushes a directory entry table, so a rename inside it survives a crash.
    public static func syncDirectory(_ path: String) throws(SystemError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.errno("open", path: path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemError.errno("fsync", path: path) }
    }

    /// Renames atomically (`rename(2)`) and makes the change durable.
    public static func rename(_ from: String, to: String) throws(SystemError) {
        guard Glibc.rename(from, to) == 0 else { throw SystemError.errno("rename", path: "\(from) -> \(to)") }
        try syncDirectory(parent(of: to))
    }

    /// Renames atomically without flushing the directory; the caller syncs it later (`syncDirectory`).
    public static func renameWithoutSync(_ from: String, to: String) throws(SystemError) {
        guard Glibc.rename(from, to) == 0 else { throw SystemError.errno("rename", path: "\(from) -> \(to)") }
    }

    /// Removes a file; a missing file is not an error.
    public static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Removes `path` if it is an empty directory; otherwise leaves it (no error).
    public static func removeEmptyDirectory(_ path: String) {
        _ = rmdir(path)
    }

    /// Removes a directory tree; missing entries are ignored. Read-only folders (version folders) are made writable
    /// first, so their entries can go.
    public static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if st.st_mode & 0o200 == 0 { _ = chmod(path, 0o700) }
            for name in list(path) { removeTree(path + "/" + name) }
            _ = rmdir(path)
        } else {
            _ = unlink(path)
        }
    }

    /// Writes `bytes` to `path` atomically and durably: a unique temp file beside it,
    /// `fsync`, `rename`, then `fsync` of the directory. Readers see the old or the new file, never a mix.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(SystemError) {
        let dir = parent(of: path)
        try createDirectory(dir)
        let tmp = TemporaryName.beside(path)
        do throws(SystemError) {
            let file = try RandomAccessFile(path: tmp, flags: O_WRONLY | O_CREAT | O_EXCL, mode: mode)
            var result: Result<Void, SystemError> = .success(())
            bytes.withUnsafeBytes { buf in result = Result { () throws(SystemError) in try file.write(buf, at: 0) } }
            try result.get()
            try file.sync()
            try rename(tmp, to: path)
        } catch {
            remove(tmp)
            throw error
        }
    }

    /// Appends `bytes` to `path` (created if missing) with O_APPEND, then fsyncs the file (and the directory when
    /// the file is new), so the line survives a crash once this returns.
    public static func appendDurably(_ bytes: [UInt8], to path: String) throws(SystemError) {
        let isNew = !exists(path)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError.errno("open", path: path) }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SystemError.errno("write", path: path) }
            done += n
        }
        guard fsync(fd) == 0 else { throw SystemError.errno("fsync", path: path) }
        if isNew { try syncDirectory(parent(of: path)) }
    }

    /// Reads a whole (small) file.
    public static func readAll(_ path: String) throws(SystemError) -> [UInt8] {
        let file = try RandomAccessFile.openForReading(path)
        let size = Int(try file.size())
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = try readChunk(file, into: &bytes, from: done)
            if n == 0 { break }
            done += n
        }
        return Array(bytes.prefix(done))
    }

    private static func readChunk(_ file: RandomAccessFile, into bytes: inout [UInt8], from start: Int) throws(SystemError) -> Int {
        var result: Result<Int, SystemError> = .success(0)
        bytes.withUnsafeMutableBytes { buf in
            result = Result { () throws(SystemError) -> Int in
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[start...]), at: Int64(start))
            }
        }
        return try result.get()
    }

    /// Bytes available to an unprivileged user on the file system holding `path` (`statvfs`).
    public static func availableBytes(at path: String) -> Int64? {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        return Int64(st.f_bavail) * Int64(st.f_frsize)
    }

    /// Sets permission bits (`chmod`).
    public static func setMode(_ path: String, _ mode: mode_t) {
        _ = chmod(path, mode)
    }

    /// Creates a symbolic link at `path` pointing to `target`.
    public static func symlink(_ target: String, at path: String) throws(SystemError) {
        guard Glibc.symlink(target, path) == 0 else { throw SystemError.errno("symlink", path: path) }
    }

    /// The directory part of `path` ("." when there is none).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The current working directory.
    public static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "." }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Makes `path` absolute against the current directory.
    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : currentDirectory() + "/" + path
    }
}
