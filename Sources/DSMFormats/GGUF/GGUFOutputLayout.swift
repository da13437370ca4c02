/// Where tensor bytes go while a GGUF is written (`TensorWriter`): one file (`GGUFFileWriter`) or the parts of a
/// split model (`GGUFSplitWriter`). Tensor indexes are the model's, whatever part a tensor lands in.
public protocol GGUFTensorSink: AnyObject, Sendable {
    /// The size of everything that will be written, headers and padding included.
    var totalSize: Int { get }
    /// Writes `bytes` into tensor `index` starting `offset` bytes into its data.
    func write(tensor index: Int, at offset: Int, _ bytes: UnsafeRawBufferPointer) throws
    /// Flushes and moves the finished files to their names; returns them in order.
    func commit() throws -> [GGUFOutputFile]
}

/// A finished GGUF file (a whole model or one part of it).
public struct GGUFOutputFile: Equatable, Sendable {
    public var path: String
    public var bytes: Int
    public init(path: String, bytes: Int) {
        self.path = path
        self.bytes = bytes
    }
}

/// The shape of a GGUF output: one file at a path, or a split model whose parts are named
/// `<prefix>-00001-of-0000N.gguf` … (`GGUFSplit.fileName`), as `llama-gguf-split --split` writes them.
public enum GGUFOutputLayout: Equatable, Sendable {
    case file(String)
    case split(prefix: String, limit: GGUFSplitLimit)

    /// Opens the writer for a model with these keys and tensors (whose offsets are laid out here).
    public func writer(kvs: [GGUFKeyValue], tensors: [GGUFTensorInfo]) throws -> any GGUFTensorSink {
        switch self {
        case .file(let path): return try GGUFFileWriter(destination: path, kvs: kvs, tensors: tensors)
        case .split(let prefix, let limit): return try GGUFSplitWriter(prefix: prefix, kvs: kvs, tensors: tensors, limit: limit)
        }
    }

    /// The output's files' size before anything is written (what `--dry-run` reports), summed over the parts.
    public func size(kvs: [GGUFKeyValue], tensors: [GGUFTensorInfo]) throws -> Int {
        func one(_ kvs: [GGUFKeyValue], _ tensors: [GGUFTensorInfo]) -> Int {
            let (laid, dataSize) = GGUFLayout.assignOffsets(tensors)
            return GGUFEncoder.header(kvs: kvs, tensors: laid).count + dataSize
        }
        switch self {
        case .file: return one(kvs, tensors)
        case .split(_, let limit):
            let plan = try GGUFSplitPlan(tensors: tensors, limit: limit)
            return plan.parts.enumerated().reduce(0) { sum, p in
                sum + one(GGUFSplitPlan.kvs(kvs, part: p.offset, count: plan.parts.count, tensors: tensors.count), Array(tensors[p.element]))
            }
        }
    }
}
