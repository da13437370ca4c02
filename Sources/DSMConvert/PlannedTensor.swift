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

/// float32 → output storage for the types `dsm convert` writes.
public enum RowEncoder {
    public static func encode(_ values: UnsafePointer<Float>, count: Int, as type: GGMLType, into out: UnsafeMutableRawPointer) {
        switch type {
        case .f32:
            let o = out.assumingMemoryBound(to: UInt32.self)
            for i in 0..<count { o[i] = values[i].bitPattern.littleEndian }
        case .f16:
            HalfConversion.convert(values, count: count, into: out.assumingMemoryBound(to: UInt16.self))
        case .bf16:
            let o = out.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { o[i] = FloatBits.floatToBF16(values[i]).littleEndian }
        default:
            preconditionFailure("convert writes F32, F16 or BF16, not \(type)")
        }
    }
}
