import DSMSystem

/// Converts runs of tensor elements between checkpoint dtypes and GGUF storage types, going through
/// float32 exactly as llama.cpp's converter does (non-F16/F32 sources become float32 first).
public enum ElementConverter {
    /// Whether `from` can be written as `to` (F32, F16 or BF16 output).
    public static func supports(from: SafetensorsDType, to: GGMLType) -> Bool {
        from.isConvertibleFloat && from != .f8e4m3 && (to == .f32 || to == .f16 || to == .bf16)
    }

    /// Converts `count` elements from `src` (little-endian `from`) into `dst` as `to`.
    public static func convert(_ src: UnsafeRawBufferPointer, from: SafetensorsDType, count: Int,
                               to: GGMLType, into dst: UnsafeMutableRawBufferPointer) {
        precondition(src.count >= count * from.bits / 8 && dst.count >= to.byteCount(elements: count))
        // Same format in and out: bf16 keeps its bits except for NaN quieting, f16 and f32 copy.
        if (from == .f32 && to == .f32) || (from == .f16 && to == .f16) {
            dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[..<(count * from.bits / 8)]))
            return
        }
        let out16 = dst.baseAddress!.assumingMemoryBound(to: UInt16.self)
        let out32 = dst.baseAddress!.assumingMemoryBound(to: UInt32.self)
        func load(_ i: Int) -> Float {
            switch from {
            case .f32: return Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            case .f16: return FloatBits.halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
            case .bf16: return FloatBits.bf16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
            default: preconditionFailure("unsupported source dtype \(from)")
            }
        }
        switch to {
        case .f32:
            for i in 0..<count { out32[i] = load(i).bitPattern.littleEndian }
        case .f16:
            // Through a small float32 buffer, so the half conversion runs eight lanes at a time.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 4096) { tmp in
                var start = 0
                while start < count {
                    let n = min(4096, count - start)
                    for k in 0..<n { tmp[k] = load(start + k) }
                    HalfConversion.convert(tmp.baseAddress!, count: n, into: out16 + start)
                    start += n
                }
            }
        case .bf16:
            if from == .bf16 {
                for i in 0..<count {
                    let h = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                    // floatToBF16(bf16ToFloat(h)) == h unless h is a NaN (quieted): skip the float round trip.
                    out16[i] = (h & 0x7FFF > 0x7F80 ? h | 0x40 : h).littleEndian
                }
            } else {
                for i in 0..<count { out16[i] = FloatBits.floatToBF16(load(i)).littleEndian }
            }
        default:
            preconditionFailure("unsupported output type \(to)")
        }
    }
}
