import DSMSystem

/// One safetensors shard, mapped into memory: tensors are read in place, never loaded whole.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let header: SafetensorsHeader
    private let mapping: MappedFile
    private let byName: [String: Int]

    public init(path: String) throws {
        let map = try MappedFile(path: path)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        header = try SafetensorsHeader.parse(map.bytes, fileSize: map.size, file: name)
        mapping = map
        self.path = path
        var index: [String: Int] = [:]
        for (i, t) in header.tensors.enumerated() { index[t.name] = i }
        byName = index
    }

    /// The tensor named `name`, if present.
    public func tensor(_ name: String) -> SafetensorsHeader.Tensor? {
        byName[name].map { header.tensors[$0] }
    }

    /// The raw little-endian bytes of a tensor of this file.
    public func data(_ tensor: SafetensorsHeader.Tensor) -> UnsafeRawBufferPointer {
        mapping.slice(header.dataOffset + tensor.begin, tensor.byteCount)
    }
}
