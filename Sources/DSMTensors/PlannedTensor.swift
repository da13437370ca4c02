import DSMFormats

/// One tensor of the output file: its GGUF name, dimensions in ggml order, storage type, and the rows
/// that fill it.
public struct PlannedTensor: @unchecked Sendable {
    public var name: String
    /// ggml order: innermost first (the reversed numpy shape).
    public var dimensions: [Int]
    public var type: GGMLType
    public var source: any RowSource
    /// Bytes already in `type`, copied unchanged instead of encoding `source` (which then only gives the shape).
    public var raw: UnsafeRawBufferPointer?

    public init(name: String, dimensions: [Int], type: GGMLType, source: any RowSource, raw: UnsafeRawBufferPointer? = nil) {
        precondition(dimensions.reduce(1, *) == source.elementCount, "\(name): \(dimensions) does not match its source")
        precondition(raw == nil || raw!.count == type.byteCount(elements: source.elementCount), "\(name): raw bytes do not match its type")
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.source = source
        self.raw = raw
    }

    public var info: GGUFTensorInfo {
        GGUFTensorInfo(name: name, dimensions: dimensions.map(UInt64.init), type: type)
    }
}
