/// ggml tensor types: id, block size (elements) and bytes per block, one row per type (ggml.h, ggml-common.h).
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, bf16 = 30

    /// The fixed facts about one type, as ggml's `type_traits` table gives them.
    public struct Traits: Sendable, Equatable {
        /// The name ggml and llama.cpp print (`F32`, `Q4_K`, …).
        public let name: String
        /// Elements per block (1 for the plain types).
        public let blockSize: Int
        /// Bytes per block.
        public let blockBytes: Int
    }

    /// One row per type: the only place these facts are written (checked against libggml's `ggml_type_name`,
    /// `ggml_blck_size` and `ggml_type_size` by Tests/DSMFormatsTests and, live, by test_kernel_vectors_live.py).
    public var traits: Traits {
        switch self {
        case .f32: return Traits(name: "F32", blockSize: 1, blockBytes: 4)
        case .f16: return Traits(name: "F16", blockSize: 1, blockBytes: 2)
        case .q4_0: return Traits(name: "Q4_0", blockSize: 32, blockBytes: 18)
        case .q4_1: return Traits(name: "Q4_1", blockSize: 32, blockBytes: 20)
        case .q5_0: return Traits(name: "Q5_0", blockSize: 32, blockBytes: 22)
        case .q5_1: return Traits(name: "Q5_1", blockSize: 32, blockBytes: 24)
        case .q8_0: return Traits(name: "Q8_0", blockSize: 32, blockBytes: 34)
        case .q8_1: return Traits(name: "Q8_1", blockSize: 32, blockBytes: 36)
        case .q2_K: return Traits(name: "Q2_K", blockSize: 256, blockBytes: 84)
        case .q3_K: return Traits(name: "Q3_K", blockSize: 256, blockBytes: 110)
        case .q4_K: return Traits(name: "Q4_K", blockSize: 256, blockBytes: 144)
        case .q5_K: return Traits(name: "Q5_K", blockSize: 256, blockBytes: 176)
        case .q6_K: return Traits(name: "Q6_K", blockSize: 256, blockBytes: 210)
        case .q8_K: return Traits(name: "Q8_K", blockSize: 256, blockBytes: 292)
        case .i8: return Traits(name: "I8", blockSize: 1, blockBytes: 1)
        case .i16: return Traits(name: "I16", blockSize: 1, blockBytes: 2)
        case .i32: return Traits(name: "I32", blockSize: 1, blockBytes: 4)
        case .i64: return Traits(name: "I64", blockSize: 1, blockBytes: 8)
        case .f64: return Traits(name: "F64", blockSize: 1, blockBytes: 8)
        case .bf16: return Traits(name: "BF16", blockSize: 1, blockBytes: 2)
        }
    }

    /// Elements per block.
    public var blockSize: Int { traits.blockSize }

    /// Bytes per block.
    public var blockBytes: Int { traits.blockBytes }

    /// The name llama.cpp prints (`F32`, `Q4_K`, …).
    public var name: String { traits.name }

    /// A block-quantized type (not F32/F16/BF16 or an integer type).
    public var isQuantized: Bool { blockSize > 1 }

    /// Bytes of a tensor with `elements` elements (which must be a multiple of the block size).
    public func byteCount(elements: Int) -> Int { elements / blockSize * blockBytes }
}

/// `general.file_type` values (llama.h `llama_ftype`).
public enum GGUFFileType: UInt32, Sendable {
    case allF32 = 0, mostlyF16 = 1, mostlyQ4_0 = 2, mostlyQ4_1 = 3, mostlyQ8_0 = 7, mostlyQ5_0 = 8, mostlyQ5_1 = 9
    case mostlyQ2_K = 10, mostlyQ3_K_S = 11, mostlyQ3_K_M = 12, mostlyQ3_K_L = 13, mostlyQ4_K_S = 14, mostlyQ4_K_M = 15
    case mostlyQ5_K_S = 16, mostlyQ5_K_M = 17, mostlyQ6_K = 18, mostlyBF16 = 32
}
