import DSMSystem
#if canImport(Glibc)
import Glibc
#endif

/// Writes a GGUF file whose layout is known up front: the header (with every tensor's offset) goes
/// first, then each tensor's bytes can be written at its own offset, from several threads at once.
/// Everything goes to a temp file beside the destination; `commit()` fsyncs and renames it into place,
/// so readers never see a partial file. A writer dropped without `commit()` removes its temp file.
public final class GGUFFileWriter: GGUFTensorSink, @unchecked Sendable {
    public let destination: String
    public let temporaryPath: String
    public let tensors: [GGUFTensorInfo]
    public let dataOffset: Int
    public let totalSize: Int
    private let file: RandomAccessFile
    private var committed = false

    public init(destination: String, kvs: [GGUFKeyValue], tensors: [GGUFTensorInfo], alignment: Int = GGUFEncoder.defaultAlignment) throws {
        self.destination = destination
        temporaryPath = TemporaryName.beside(destination)
        let (laid, dataSize) = GGUFLayout.assignOffsets(tensors, alignment: alignment)
        self.tensors = laid
        let header = GGUFEncoder.header(kvs: kvs, tensors: laid, alignment: alignment)
        dataOffset = header.count
        totalSize = header.count + dataSize
        file = try RandomAccessFile(path: temporaryPath, flags: O_RDWR | O_CREAT | O_EXCL)
        do {
            // Padding bytes must be zero: a preallocated file reads as zeros wherever nothing is written.
            try file.preallocate(Int64(totalSize))
            try header.withUnsafeBytes { try file.write($0, at: 0) }
        } catch {
            FileSystem.remove(temporaryPath)
            throw error
        }
    }

    deinit {
        if !committed { FileSystem.remove(temporaryPath) }
    }

    /// Writes `bytes` into tensor `index` starting `offset` bytes into its data.
    public func write(tensor index: Int, at offset: Int, _ bytes: UnsafeRawBufferPointer) throws {
        let t = tensors[index]
        precondition(offset + bytes.count <= t.byteCount, "write past the end of tensor \(t.name)")
        try file.write(bytes, at: Int64(dataOffset + Int(t.offset) + offset))
    }

    /// Flushes and atomically renames the finished file to its destination.
    @discardableResult
    public func commit() throws -> [GGUFOutputFile] {
        try file.sync()
        try FileSystem.rename(temporaryPath, to: destination)
        committed = true
        return [GGUFOutputFile(path: destination, bytes: totalSize)]
    }
}
