import DSMSystem

/// Why a GGUF file was refused.
public struct GGUFError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var detail: String
    public init(file: String, _ detail: String) {
        self.file = file
        self.detail = detail
    }
    public var description: String { "\(file): not a valid GGUF file: \(detail)" }
}

/// A parsed GGUF file (version 3): key/values and tensor infos in file order, data read in place from the mapping.
/// The header checks are `GGUFHeader.parse`'s.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let kvs: [GGUFKeyValue]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute offset of the data section.
    public let dataOffset: Int
    private let mapping: MappedFile

    public init(path: String) throws {
        let map = try MappedFile(path: path)
        mapping = map
        self.path = path
        let header = try GGUFHeader.parse(map.bytes, file: path.split(separator: "/").last.map(String.init) ?? path)
        version = header.version
        kvs = header.kvs
        tensors = header.tensors
        alignment = header.alignment
        dataOffset = header.dataOffset
    }

    /// The value of `key`, if present.
    public func value(_ key: String) -> GGUFValue? { kvs.first { $0.key == key }?.value }

    /// The bytes of a tensor.
    public func data(_ tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        mapping.slice(dataOffset + Int(tensor.offset), tensor.byteCount)
    }
}

/// The header of a GGUF file (version 3), parsed from the file's bytes with the C reader's checks: magic, version,
/// unique keys and tensor names, sizes within bounds, offsets exactly as the alignment rule lays them out, data
/// inside the file.
public struct GGUFHeader: Sendable {
    public var version: UInt32
    public var kvs: [GGUFKeyValue]
    public var tensors: [GGUFTensorInfo]
    public var alignment: Int
    /// Absolute offset of the data section.
    public var dataOffset: Int

    /// The value of `key`, if present.
    public func value(_ key: String) -> GGUFValue? { kvs.first { $0.key == key }?.value }

    /// Parses the header at the start of `bytes`, the whole file; `file` names it in errors. With `fileSize`, `bytes`
    /// may be only the file's first bytes (a header read over HTTP): sizes and offsets are checked against `fileSize`,
    /// and a header longer than `bytes` fails as truncated (read more and try again).
    public static func parse(_ bytes: UnsafeRawBufferPointer, file name: String, fileSize: Int? = nil) throws(GGUFError) -> GGUFHeader {
        let total = fileSize ?? bytes.count
        var r = ByteReader(bytes: bytes, file: name)
        guard try r.u32() == GGUFEncoder.magic else { throw GGUFError(file: name, "bad magic (expected \"GGUF\")") }
        let version = try r.u32()
        guard version == 3 else { throw GGUFError(file: name, "version \(version) is not supported (dsm reads GGUF v3)") }
        let tensorCount = try r.u64(), kvCount = try r.u64()
        guard tensorCount < 1 << 24, kvCount < 1 << 24 else { throw GGUFError(file: name, "implausible counts \(tensorCount) tensors / \(kvCount) keys") }
        var kvs: [GGUFKeyValue] = []
        var keys: Set<String> = []
        for _ in 0..<kvCount {
            let key = try r.string()
            guard !key.isEmpty, keys.insert(key).inserted else { throw GGUFError(file: name, "empty or duplicate key '\(key)'") }
            let type = try r.valueType()
            kvs.append(GGUFKeyValue(key, try r.value(type)))
        }
        var alignment = GGUFEncoder.defaultAlignment
        if let kv = kvs.first(where: { $0.key == "general.alignment" }) {
            guard case .uint32(let a) = kv.value, a > 0, a & (a - 1) == 0 else { throw GGUFError(file: name, "general.alignment must be a power of two UINT32") }
            alignment = Int(a)
        }
        var infos: [GGUFTensorInfo] = []
        var names: Set<String> = []
        for _ in 0..<tensorCount {
            let tname = try r.string()
            guard names.insert(tname).inserted else { throw GGUFError(file: name, "duplicate tensor '\(tname)'") }
            let dims = try r.u32()
            guard (1...4).contains(dims) else { throw GGUFError(file: name, "tensor '\(tname)' has \(dims) dimensions") }
            var shape: [UInt64] = []
            for _ in 0..<dims { shape.append(try r.u64()) }
            let rawType = try r.u32()
            guard let type = GGMLType(rawValue: rawType) else { throw GGUFError(file: name, "tensor '\(tname)' has unsupported type \(rawType)") }
            guard shape[0] % UInt64(type.blockSize) == 0 else { throw GGUFError(file: name, "tensor '\(tname)' row length \(shape[0]) is not a multiple of \(type.blockSize)") }
            // Its data must fit in the file: this also keeps elementCount, byteCount and the offsets below from overflowing.
            var elements: UInt64 = 1
            for d in shape {
                // ggml's dimensions are int64: a larger one trapped converting to Int even when another is 0.
                guard d <= UInt64(Int64.max) else { throw GGUFError(file: name, "tensor '\(tname)' has dimension \(d), above the int64 GGUF allows") }
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, product <= UInt64(total) * UInt64(type.blockSize) else {
                    throw GGUFError(file: name, "tensor '\(tname)' of shape \(shape) is larger than the file (\(total) bytes)")
                }
                elements = product
            }
            infos.append(GGUFTensorInfo(name: tname, dimensions: shape, type: type, offset: try r.u64()))
        }
        let dataOffset = GGUFLayout.pad(r.position, alignment)
        var expected = 0
        for t in infos {
            guard t.offset == UInt64(expected) else { throw GGUFError(file: name, "tensor '\(t.name)' is at offset \(t.offset), expected \(expected)") }
            expected = GGUFLayout.pad(expected + t.byteCount, alignment)
            guard dataOffset + Int(t.offset) + t.byteCount <= total else {
                throw GGUFError(file: name, "tensor '\(t.name)' runs past the end of the file (truncated?)")
            }
        }
        return GGUFHeader(version: version, kvs: kvs, tensors: infos, alignment: alignment, dataOffset: dataOffset)
    }
}

/// Bounds-checked little-endian reads over a buffer.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var position = 0

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    mutating func take(_ n: Int) throws(GGUFError) -> UnsafeRawBufferPointer {
        guard n >= 0, position + n <= bytes.count else { throw GGUFError(file: file, "the header runs past the end of the file (truncated at byte \(position))") }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    mutating func load<T: FixedWidthInteger>(_: T.Type) throws(GGUFError) -> T {
        T(littleEndian: try take(MemoryLayout<T>.size).loadUnaligned(as: T.self))
    }

    mutating func u32() throws(GGUFError) -> UInt32 { try load(UInt32.self) }
    mutating func u64() throws(GGUFError) -> UInt64 { try load(UInt64.self) }

    mutating func string() throws(GGUFError) -> String {
        let n = try u64()
        guard n < 1 << 30 else { throw GGUFError(file: file, "string of \(n) bytes") }
        return String(decoding: try take(Int(n)), as: UTF8.self)
    }

    mutating func valueType() throws(GGUFError) -> GGUFValueType {
        let raw = try u32()
        guard let t = GGUFValueType(rawValue: raw) else { throw GGUFError(file: file, "unknown value type \(raw)") }
        return t
    }

    mutating func value(_ type: GGUFValueType) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try load(UInt8.self))
        case .int8: return .int8(try load(Int8.self))
        case .uint16: return .uint16(try load(UInt16.self))
        case .int16: return .int16(try load(Int16.self))
        case .uint32: return .uint32(try u32())
        case .int32: return .int32(try load(Int32.self))
        case .float32: return .float32(Float(bitPattern: try u32()))
        case .bool:
            let b = try load(UInt8.self)
            guard b <= 1 else { throw GGUFError(file: file, "bool value \(b)") }
            return .bool(b == 1)
        case .string: return .string(try string())
        case .uint64: return .uint64(try u64())
        case .int64: return .int64(try load(Int64.self))
        case .float64: return .float64(Double(bitPattern: try u64()))
        case .array:
            let element = try valueType()
            guard element != .array else { throw GGUFError(file: file, "nested arrays are not allowed") }
            let count = try u64()
            // Every element takes at least one byte (eight for a string's length), so a count the rest of the file cannot
            // hold is refused before anything is allocated for it.
            let left = UInt64(bytes.count - position) / (element == .string ? 8 : 1)
            guard count < 1 << 30, count <= left else {
                throw GGUFError(file: file, "an array of \(count) \(element) values runs past the end of the file (truncated at byte \(position))")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<count { items.append(try value(element)) }
            return .array(element, items)
        }
    }
}
