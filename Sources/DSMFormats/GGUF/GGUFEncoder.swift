/// Serializes the GGUF v3 header (little-endian): magic, version, counts, key/values, tensor infos,
/// padded with zeros to the alignment. Tensor data follows, each tensor padded to the alignment.
public struct GGUFEncoder {
    public static let magic: UInt32 = 0x4655_4747  // "GGUF"
    public static let version: UInt32 = 3
    public static let defaultAlignment = 32

    public private(set) var bytes: [UInt8] = []

    public init() {}

    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func string(_ s: String) {
        u64(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }

    mutating func value(_ v: GGUFValue) {
        switch v {
        case .uint8(let x): bytes.append(x)
        case .int8(let x): bytes.append(UInt8(bitPattern: x))
        case .uint16(let x): withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) }
        case .int16(let x): withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) }
        case .uint32(let x): u32(x)
        case .int32(let x): u32(UInt32(bitPattern: x))
        case .float32(let x): u32(x.bitPattern)
        case .bool(let x): bytes.append(x ? 1 : 0)
        case .string(let s): string(s)
        case .uint64(let x): u64(x)
        case .int64(let x): u64(UInt64(bitPattern: x))
        case .float64(let x): u64(x.bitPattern)
        case .array(let type, let items):
            u32(type.rawValue)
            u64(UInt64(items.count))
            for item in items { value(item) }
        }
    }

    /// The complete header for `kvs` and `tensors` (whose offsets must already be laid out), padded.
    public static func header(kvs: [GGUFKeyValue], tensors: [GGUFTensorInfo], alignment: Int = defaultAlignment) -> [UInt8] {
        var e = GGUFEncoder()
        e.u32(magic)
        e.u32(version)
        e.u64(UInt64(tensors.count))
        e.u64(UInt64(kvs.count))
        for kv in kvs {
            e.string(kv.key)
            e.u32(kv.value.type.rawValue)
            e.value(kv.value)
        }
        for t in tensors {
            e.string(t.name)
            e.u32(UInt32(t.dimensions.count))
            for d in t.dimensions { e.u64(d) }
            e.u32(t.type.rawValue)
            e.u64(t.offset)
        }
        let padded = GGUFLayout.pad(e.bytes.count, alignment)
        e.bytes.append(contentsOf: [UInt8](repeating: 0, count: padded - e.bytes.count))
        return e.bytes
    }
}

/// Offsets of tensor data: each tensor starts at the previous end rounded up to the alignment.
public enum GGUFLayout {
    /// `GGML_PAD(x, n)`.
    public static func pad(_ x: Int, _ n: Int) -> Int { (x + n - 1) / n * n }

    /// Assigns offsets in order; returns the tensors and the padded size of the data section.
    public static func assignOffsets(_ tensors: [GGUFTensorInfo], alignment: Int = GGUFEncoder.defaultAlignment) -> ([GGUFTensorInfo], Int) {
        var out = tensors
        var offset = 0
        for i in out.indices {
            out[i].offset = UInt64(offset)
            offset = pad(offset + out[i].byteCount, alignment)
        }
        return (out, offset)
    }
}
