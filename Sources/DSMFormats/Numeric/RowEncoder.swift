/// float32 → F32, F16 or BF16 storage with the converter's (numpy's and gguf-py's) rounding; the quantizer's F16
/// differs only in its NaN rule (ggml's), so it reuses the F32 and BF16 cases.
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
            preconditionFailure("RowEncoder writes F32, F16 or BF16, not \(type)")
        }
    }
}
