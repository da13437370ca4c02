#if canImport(Glibc)
import Glibc
#endif

/// Hashes whole files with large sequential reads.
public enum FileHasher {
    /// SHA-256 of the file at `path`, as hex.
    public static func sha256(path: String, bufferSize: Int = 4 << 20) throws(SystemError) -> String {
        let file = try RandomAccessFile.openForReading(path)
        _ = posix_fadvise(file.fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        let digest = Digest(.sha256)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 4096)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let n = try file.read(into: buffer, at: offset)
            if n == 0 { break }
            digest.update(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            offset += Int64(n)
        }
        return digest.finalizeHex()
    }
}
