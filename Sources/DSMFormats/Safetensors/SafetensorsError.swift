/// Why a safetensors file was refused, mirroring the reference implementation's checks
/// (`HeaderTooSmall`, `HeaderTooLarge`, `InvalidHeaderLength`, `InvalidHeader`, `InvalidOffset`,
/// `MisalignedSlice`, `TensorInvalidInfo`, `MetadataIncompleteBuffer`), each with the file and tensor.
public struct SafetensorsError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case headerTooSmall, headerTooLarge, invalidHeaderLength, invalidHeader, invalidHeaderDeserialization
        case invalidOffset, misalignedSlice, tensorInvalidInfo, metadataIncompleteBuffer, unknownDtype, missingTensor
        case indexMismatch
    }

    public var kind: Kind
    public var file: String
    public var detail: String

    public init(_ kind: Kind, file: String, _ detail: String) {
        self.kind = kind
        self.file = file
        self.detail = detail
    }

    public var description: String {
        "\(file): not a valid safetensors file (\(kind.rawValue)): \(detail). The download may be truncated or the file damaged: run `dsm pull` again or check the source."
    }
}
