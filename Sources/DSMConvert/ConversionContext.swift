import DSMFormats
import DSMTensors

/// `--outtype`: the storage type of 2-D weights (1-D tensors and norms stay F32).
public enum OutType: String, Sendable, CaseIterable {
    case f32, f16, bf16, auto

    /// `auto` as llama.cpp decides it: the first tensor with two or more dimensions that is BF16 or F16
    /// decides (so BF16 checkpoints stay BF16; F32 and FP8 tensors are passed over); none → F16.
    public func resolve(_ checkpoint: SafetensorsCheckpoint) -> (GGMLType, GGUFFileType) {
        switch self {
        case .f32: return (.f32, .allF32)
        case .f16: return (.f16, .mostlyF16)
        case .bf16: return (.bf16, .mostlyBF16)
        case .auto:
            for e in checkpoint.entries where e.tensor.shape.count >= 2 {
                if e.tensor.dtype == .bf16 { return (.bf16, .mostlyBF16) }
                if e.tensor.dtype == .f16 { return (.f16, .mostlyF16) }
            }
            return (.f16, .mostlyF16)
        }
    }
}

/// Everything an architecture needs to describe its output.
public struct ConversionContext: Sendable {
    public let config: HFConfig
    public let checkpoint: SafetensorsCheckpoint
    /// Storage type of 2-D weights.
    public let weightType: GGMLType
    public let fileType: GGUFFileType

    /// The output type for a tensor named `ggufName` with `dimensions` dimensions.
    public func storageType(_ ggufName: String, dimensions: Int) -> GGMLType {
        TensorNames.forcedF32(ggufName, dimensions: dimensions) ? .f32 : weightType
    }

    /// A checkpoint tensor as rows.
    public func rows(_ entry: SafetensorsCheckpoint.Entry) -> TensorRows {
        TensorRows(bytes: checkpoint.data(entry), dtype: entry.tensor.dtype, shape: entry.tensor.shape, owner: checkpoint)
    }

    /// The usual output tensor: mapped name, reversed shape, and its storage type.
    public func direct(_ entry: SafetensorsCheckpoint.Entry, name: String, source: (any RowSource)? = nil) -> PlannedTensor {
        let dims = Array(entry.tensor.shape.reversed())
        return PlannedTensor(name: name, dimensions: dims.isEmpty ? [1] : dims,
                             type: storageType(name, dimensions: entry.tensor.shape.count), source: source ?? rows(entry))
    }
}

/// One architecture's conversion rules (one file each under Architectures/).
public protocol ModelArchitecture: Sendable {
    /// The `architectures[0]` values of config.json it handles.
    static var huggingFaceNames: [String] { get }
    /// `general.architecture`.
    var ggufName: String { get }
    init(context: ConversionContext) throws
    /// Hyper-parameter keys from `{arch}.block_count` through `general.file_type` and the architecture's extras.
    func parameters() throws -> [GGUFKeyValue]
    /// Output tensors in the converter's order.
    func tensors() throws -> [PlannedTensor]
}
