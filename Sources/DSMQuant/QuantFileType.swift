import DSMFormats

/// The file types `dsm quantize` writes (llama.cpp's `llama_ftype` mixes), with the names llama-quantize uses.
public enum QuantFileType: String, Sendable, CaseIterable {
    case q4_0 = "Q4_0", q4_1 = "Q4_1", q5_0 = "Q5_0", q5_1 = "Q5_1", q8_0 = "Q8_0"
    case q4_K_S = "Q4_K_S", q4_K_M = "Q4_K_M", q5_K_S = "Q5_K_S", q5_K_M = "Q5_K_M", q6_K = "Q6_K"
    case f16 = "F16", bf16 = "BF16", f32 = "F32"

    /// Parses a type name case-insensitively (`q4_k_m`, `Q4_K_M`; `Q4_K` and `Q5_K` mean the `_M` mixes, as in llama-quantize).
    public init?(name: String) {
        let upper = name.uppercased()
        let aliases = ["Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M"]
        guard let t = QuantFileType(rawValue: aliases[upper] ?? upper) else { return nil }
        self = t
    }

    /// `general.file_type`.
    public var fileType: GGUFFileType {
        switch self {
        case .q4_0: return .mostlyQ4_0
        case .q4_1: return .mostlyQ4_1
        case .q5_0: return .mostlyQ5_0
        case .q5_1: return .mostlyQ5_1
        case .q8_0: return .mostlyQ8_0
        case .q4_K_S: return .mostlyQ4_K_S
        case .q4_K_M: return .mostlyQ4_K_M
        case .q5_K_S: return .mostlyQ5_K_S
        case .q5_K_M: return .mostlyQ5_K_M
        case .q6_K: return .mostlyQ6_K
        case .f16: return .mostlyF16
        case .bf16: return .mostlyBF16
        case .f32: return .allF32
        }
    }

    /// The tensor type of the mix before per-tensor adjustments (`llama_ftype_get_default_type`).
    public var defaultType: GGMLType {
        switch self {
        case .q4_0: return .q4_0
        case .q4_1: return .q4_1
        case .q5_0: return .q5_0
        case .q5_1: return .q5_1
        case .q8_0: return .q8_0
        case .q4_K_S, .q4_K_M: return .q4_K
        case .q5_K_S, .q5_K_M: return .q5_K
        case .q6_K: return .q6_K
        case .f16: return .f16
        case .bf16: return .bf16
        case .f32: return .f32
        }
    }

    /// The suffix of a registered name: `q4_K_M`, `q8_0`, `f16` (as Ollama and llama.cpp spell them).
    public var tagSuffix: String {
        rawValue.hasPrefix("Q") ? "q" + rawValue.dropFirst() : rawValue.lowercased()
    }

    /// What the file type is for, for `--help` and error messages.
    public var summary: String {
        switch self {
        case .q4_K_M: return "4.9 bpw, the usual default (what Ollama ships)"
        case .q8_0: return "8.5 bpw, nearly lossless"
        case .q5_K_M: return "5.7 bpw"
        case .q4_K_S: return "4.6 bpw"
        case .q5_K_S: return "5.5 bpw"
        case .q6_K: return "6.6 bpw"
        case .q4_0: return "4.5 bpw, legacy"
        case .q4_1: return "5.0 bpw, legacy"
        case .q5_0: return "5.5 bpw, legacy"
        case .q5_1: return "6.0 bpw, legacy"
        case .f16, .bf16: return "16 bpw, unquantized"
        case .f32: return "32 bpw, unquantized"
        }
    }
}
