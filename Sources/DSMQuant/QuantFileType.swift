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

    /// The fixed facts about one file type.
    public struct Row: Sendable {
        /// `general.file_type`.
        public let fileType: GGUFFileType
        /// The tensor type of the mix before per-tensor adjustments (`llama_ftype_get_default_type`).
        public let defaultType: GGMLType
        /// What the file type is for, for `--help` and error messages.
        public let summary: String
    }

    /// One row per file type: the only place these facts are written.
    public var row: Row {
        switch self {
        case .q4_0: return Row(fileType: .mostlyQ4_0, defaultType: .q4_0, summary: "4.5 bpw, legacy")
        case .q4_1: return Row(fileType: .mostlyQ4_1, defaultType: .q4_1, summary: "5.0 bpw, legacy")
        case .q5_0: return Row(fileType: .mostlyQ5_0, defaultType: .q5_0, summary: "5.5 bpw, legacy")
        case .q5_1: return Row(fileType: .mostlyQ5_1, defaultType: .q5_1, summary: "6.0 bpw, legacy")
        case .q8_0: return Row(fileType: .mostlyQ8_0, defaultType: .q8_0, summary: "8.5 bpw, nearly lossless")
        case .q4_K_S: return Row(fileType: .mostlyQ4_K_S, defaultType: .q4_K, summary: "4.6 bpw")
        case .q4_K_M: return Row(fileType: .mostlyQ4_K_M, defaultType: .q4_K, summary: "4.9 bpw, the usual default (what Ollama ships)")
        case .q5_K_S: return Row(fileType: .mostlyQ5_K_S, defaultType: .q5_K, summary: "5.5 bpw")
        case .q5_K_M: return Row(fileType: .mostlyQ5_K_M, defaultType: .q5_K, summary: "5.7 bpw")
        case .q6_K: return Row(fileType: .mostlyQ6_K, defaultType: .q6_K, summary: "6.6 bpw")
        case .f16: return Row(fileType: .mostlyF16, defaultType: .f16, summary: "16 bpw, unquantized")
        case .bf16: return Row(fileType: .mostlyBF16, defaultType: .bf16, summary: "16 bpw, unquantized")
        case .f32: return Row(fileType: .allF32, defaultType: .f32, summary: "32 bpw, unquantized")
        }
    }

    /// `general.file_type`.
    public var fileType: GGUFFileType { row.fileType }

    /// The tensor type of the mix before per-tensor adjustments (`llama_ftype_get_default_type`).
    public var defaultType: GGMLType { row.defaultType }

    /// What the file type is for, for `--help` and error messages.
    public var summary: String { row.summary }

    /// The suffix of a registered name: `q4_K_M`, `q8_0`, `f16` (as Ollama and llama.cpp spell them).
    public var tagSuffix: String {
        rawValue.hasPrefix("Q") ? "q" + rawValue.dropFirst() : rawValue.lowercased()
    }
}
