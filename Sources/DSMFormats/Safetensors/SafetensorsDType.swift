/// Element types a safetensors header may name (the reference implementation's `Dtype`).
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"

    /// Bits per element.
    public var bits: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 8
        case .i16, .u16, .f16, .bf16: return 16
        case .i32, .u32, .f32: return 32
        case .f64, .i64, .u64: return 64
        }
    }

    /// True for the floating-point types dsm converts (F32, F16, BF16, F8_E4M3).
    public var isConvertibleFloat: Bool { self == .f32 || self == .f16 || self == .bf16 || self == .f8e4m3 }
}
