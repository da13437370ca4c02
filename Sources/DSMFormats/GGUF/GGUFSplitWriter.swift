/// Writes a model as the parts of a split GGUF, byte for byte what `llama-gguf-split --split` makes of the single
/// file `GGUFFileWriter` would write: the parts `GGUFSplitPlan` decides, part 1 with every key, each part with its
/// split keys, tensor data 32-byte aligned. One `GGUFFileWriter` a part, so each part is written to a temp file and
/// renamed into place only by `commit()`; a writer dropped without `commit()` leaves nothing.
public final class GGUFSplitWriter: GGUFTensorSink, @unchecked Sendable {
    public let plan: GGUFSplitPlan
    public let parts: [GGUFFileWriter]
    public let totalSize: Int
    /// For each tensor of the model: its part and its index there.
    private let location: [(part: Int, index: Int)]

    /// Plans the parts of `tensors` under `limit` and creates them as `<prefix>-00001-of-0000N.gguf` ….
    public init(prefix: String, kvs: [GGUFKeyValue], tensors: [GGUFTensorInfo], limit: GGUFSplitLimit) throws {
        plan = try GGUFSplitPlan(tensors: tensors, limit: limit)
        let count = plan.parts.count
        var writers: [GGUFFileWriter] = []
        var location: [(part: Int, index: Int)] = []
        for (i, range) in plan.parts.enumerated() {
            writers.append(try GGUFFileWriter(destination: GGUFSplit.fileName(stem: prefix, index: i + 1, count: count),
                                              kvs: GGUFSplitPlan.kvs(kvs, part: i, count: count, tensors: tensors.count),
                                              tensors: Array(tensors[range])))
            location += range.indices.map { (part: i, index: $0 - range.lowerBound) }
        }
        parts = writers
        self.location = location
        totalSize = writers.reduce(0) { $0 + $1.totalSize }
    }

    public func write(tensor index: Int, at offset: Int, _ bytes: UnsafeRawBufferPointer) throws {
        let (part, local) = location[index]
        try parts[part].write(tensor: local, at: offset, bytes)
    }

    /// Commits the parts last to first, so part 1, the one a reader opens, appears only when the rest are in place.
    public func commit() throws -> [GGUFOutputFile] {
        for part in parts.reversed() { _ = try part.commit() }
        return parts.map { GGUFOutputFile(path: $0.destination, bytes: $0.totalSize) }
    }
}
