import Foundation

/// The parsed and validated header of one safetensors file:
/// `u64 N` (little-endian) · N bytes of JSON · tensor data, offsets relative to `8 + N`.
public struct SafetensorsHeader: Sendable {
    /// One tensor's entry.
    public struct Tensor: Sendable, Equatable {
        public var name: String
        public var dtype: SafetensorsDType
        /// Row-major (numpy) shape.
        public var shape: [Int]
        /// Byte range relative to the data section.
        public var begin: Int
        public var end: Int
        public var count: Int { shape.reduce(1, *) }
        public var byteCount: Int { end - begin }
    }

    /// The reference implementation's limit on the header length.
    public static let maxHeaderBytes = 100_000_000

    /// Tensors sorted by name (the order llama.cpp's converter visits them within a shard).
    public var tensors: [Tensor]
    public var metadata: [String: String]
    /// Absolute offset of the data section (8 + N).
    public var dataOffset: Int

    /// Parses and validates a header. `prefix` must hold at least the first `8 + N` bytes; `fileSize`
    /// is the whole file's length.
    public static func parse(_ prefix: UnsafeRawBufferPointer, fileSize: Int, file: String) throws(SafetensorsError) -> SafetensorsHeader {
        guard fileSize >= 8, prefix.count >= 8 else { throw SafetensorsError(.headerTooSmall, file: file, "the file has \(fileSize) bytes") }
        let n = prefix.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard n <= UInt64(maxHeaderBytes) else {
            throw SafetensorsError(.headerTooLarge, file: file, "header length \(n) exceeds \(maxHeaderBytes)")
        }
        let headerLength = Int(n)
        guard 8 + headerLength <= fileSize, 8 + headerLength <= prefix.count else {
            throw SafetensorsError(.invalidHeaderLength, file: file, "header length \(headerLength) runs past the end of the file (\(fileSize) bytes)")
        }
        let json = Data(prefix[8..<(8 + headerLength)])
        guard String(data: json, encoding: .utf8) != nil else { throw SafetensorsError(.invalidHeader, file: file, "the header is not UTF-8") }
        guard json.first == UInt8(ascii: "{") else { throw SafetensorsError(.invalidHeader, file: file, "the header does not start with '{'") }
        let object: [String: Any]
        do {
            guard let o = try JSONSerialization.jsonObject(with: json) as? [String: Any] else { throw CocoaError(.coderReadCorrupt) }
            object = o
        } catch {
            throw SafetensorsError(.invalidHeaderDeserialization, file: file, "the header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var tensors: [Tensor] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw SafetensorsError(.invalidHeaderDeserialization, file: file, "__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw SafetensorsError(.invalidHeaderDeserialization, file: file, "__metadata__ value for \(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            tensors.append(try parseTensor(name: name, value, file: file))
        }
        let dataSize = fileSize - 8 - headerLength
        try validate(tensors, dataSize: dataSize, file: file)
        tensors.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return SafetensorsHeader(tensors: tensors, metadata: metadata, dataOffset: 8 + headerLength)
    }

    private static func parseTensor(name: String, _ value: Any, file: String) throws(SafetensorsError) -> Tensor {
        guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
              let shapeAny = info["shape"] as? [Any], let offsetsAny = info["data_offsets"] as? [Any], offsetsAny.count == 2 else {
            throw SafetensorsError(.invalidHeaderDeserialization, file: file, "entry '\(name)' needs dtype, shape and data_offsets [begin, end]")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError(.unknownDtype, file: file, "tensor '\(name)' has unknown dtype \(dtypeName)")
        }
        func integer(_ v: Any) -> Int? {
            // Non-negative integers that fit in Int only: a huge value must not wrap around.
            guard let n = v as? NSNumber, n.doubleValue >= 0, n.doubleValue == n.doubleValue.rounded(), n.doubleValue < 9.2e18,
                  let i = Int(exactly: n.uint64Value), NSNumber(value: n.uint64Value) == n else { return nil }
            return i
        }
        let shape = shapeAny.compactMap(integer)
        let offsets = offsetsAny.compactMap(integer)
        guard shape.count == shapeAny.count, offsets.count == 2 else {
            throw SafetensorsError(.invalidHeaderDeserialization, file: file, "tensor '\(name)' has a non-integer shape or offset")
        }
        return Tensor(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    /// The reference checks: sorted by offset the tensors start at 0, are contiguous and do not overlap;
    /// each one's size matches dtype × shape; the last one ends exactly at the end of the file.
    static func validate(_ tensors: [Tensor], dataSize: Int, file: String) throws(SafetensorsError) {
        let byOffset = tensors.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        for t in byOffset {
            guard t.begin == expected, t.end >= t.begin else {
                throw SafetensorsError(.invalidOffset, file: file, "tensor '\(t.name)' has data_offsets [\(t.begin), \(t.end)] but the previous tensor ends at \(expected) (gap or overlap)")
            }
            var elements = 1
            for d in t.shape {
                let (m, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw SafetensorsError(.tensorInvalidInfo, file: file, "tensor '\(t.name)' shape \(t.shape) overflows") }
                elements = m
            }
            let (bits, overflow) = elements.multipliedReportingOverflow(by: t.dtype.bits)
            guard !overflow else { throw SafetensorsError(.tensorInvalidInfo, file: file, "tensor '\(t.name)' shape \(t.shape) overflows") }
            guard bits % 8 == 0 else { throw SafetensorsError(.misalignedSlice, file: file, "tensor '\(t.name)' does not fill whole bytes") }
            guard bits / 8 == t.byteCount else {
                throw SafetensorsError(.tensorInvalidInfo, file: file, "tensor '\(t.name)' is \(t.dtype.rawValue) \(t.shape) = \(bits / 8) bytes but data_offsets span \(t.byteCount)")
            }
            expected = t.end
        }
        guard expected == dataSize else {
            throw SafetensorsError(.metadataIncompleteBuffer, file: file, "the tensors cover \(expected) data bytes but the file holds \(dataSize) (truncated or padded file)")
        }
    }
}
