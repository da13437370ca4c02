#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory (`mmap`), so huge checkpoint shards are read on demand by
/// the kernel instead of being loaded. Unmapped on deinit.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    private let base: UnsafeMutableRawPointer?

    /// Maps `path`; an empty file maps to an empty buffer.
    public init(path: String) throws(SystemError) {
        let file = try RandomAccessFile.openForReading(path)
        let length = Int(try file.size())
        self.path = path
        size = length
        if length == 0 {
            base = nil
            return
        }
        guard let p = mmap(nil, length, PROT_READ, MAP_SHARED, file.fd, 0), p != MAP_FAILED else {
            throw SystemError.errno("mmap", path: path)
        }
        base = p
    }

    deinit {
        if let base { munmap(base, size) }
    }

    /// The mapped bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// Bytes `offset..<offset+count`, which must lie inside the file.
    public func slice(_ offset: Int, _ count: Int) -> UnsafeRawBufferPointer {
        precondition(offset >= 0 && count >= 0 && offset + count <= size, "slice out of bounds")
        return UnsafeRawBufferPointer(start: base.map { $0 + offset }, count: count)
    }
}

/// Page-cache hints for memory-mapped data.
public enum MemoryAdvice {
    /// Drops the mapped pages of `bytes` from this process (`madvise(MADV_DONTNEED)`). The data stays in the
    /// page cache and is read back transparently if touched again, so this only keeps resident memory flat.
    public static func release(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        // Whole pages inside the range only, so pages shared with a neighbouring range still in use stay mapped.
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + bytes.count) / page * page
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED)
    }
}
