import Testing
import Foundation
import DSMFormats

/// Builds safetensors bytes: header JSON (given verbatim) padded with spaces to 8, then `data`.
func safetensorsBytes(_ header: String, data: [UInt8], pad: Bool = true) -> [UInt8] {
    var h = Array(header.utf8)
    while pad && h.count % 8 != 0 { h.append(0x20) }
    var out: [UInt8] = []
    withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
    return out + h + data
}

func parse(_ bytes: [UInt8]) throws -> SafetensorsHeader {
    try bytes.withUnsafeBytes { try SafetensorsHeader.parse($0, fileSize: bytes.count, file: "t.safetensors") }
}

@Suite struct SafetensorsTests {
    @Test func validHeaderSortsTensorsByName() throws {
        let header = #"{"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]}}"#
        let h = try parse(safetensorsBytes(header, data: [UInt8](repeating: 0, count: 12)))
        #expect(h.tensors.map(\.name) == ["a", "b"])
        #expect(h.metadata == ["format": "pt"])
        #expect(h.tensors[0].shape == [1, 2] && h.tensors[0].dtype == .f32)
        #expect(h.dataOffset % 8 == 0)
    }

    @Test func scalarAndEmptyTensors() throws {
        let header = #"{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"e":{"dtype":"F16","shape":[0,3],"data_offsets":[4,4]}}"#
        let h = try parse(safetensorsBytes(header, data: [0, 0, 0, 0]))
        #expect(h.tensors.count == 2)
    }

    @Test(arguments: [
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 12, SafetensorsError.Kind.invalidOffset),   // overlap
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, .invalidOffset),                          // gap at the start
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8, .tensorInvalidInfo),                     // size vs shape
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 12, .metadataIncompleteBuffer),             // trailing bytes
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 4, .metadataIncompleteBuffer),              // truncated
        (#"{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#, 8, .unknownDtype),
        (#"{"a":{"dtype":"F32","shape":[2]}}"#, 8, .invalidHeaderDeserialization),
        (#"[1,2]"#, 0, .invalidHeader),
        (#"{"a": oops}"#, 0, .invalidHeaderDeserialization),
    ])
    func invalidHeadersAreRefused(header: String, dataBytes: Int, kind: SafetensorsError.Kind) {
        #expect {
            _ = try parse(safetensorsBytes(header, data: [UInt8](repeating: 0, count: dataBytes)))
        } throws: { ($0 as? SafetensorsError)?.kind == kind }
    }

    @Test func headerLengthChecks() {
        #expect { _ = try parse([1, 2, 3]) } throws: { ($0 as? SafetensorsError)?.kind == .headerTooSmall }
        var huge: [UInt8] = []
        withUnsafeBytes(of: UInt64(200_000_000).littleEndian) { huge.append(contentsOf: $0) }
        #expect { _ = try parse(huge + [0x7B]) } throws: { ($0 as? SafetensorsError)?.kind == .headerTooLarge }
        var long: [UInt8] = []
        withUnsafeBytes(of: UInt64(1000).littleEndian) { long.append(contentsOf: $0) }
        #expect { _ = try parse(long + Array("{}".utf8)) } throws: { ($0 as? SafetensorsError)?.kind == .invalidHeaderLength }
    }

    @Test func checkpointFollowsTheIndexAndRefusesDisagreement() throws {
        let dir = NSTemporaryDirectory() + "dsm-st-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s1 = safetensorsBytes(#"{"layers.10.w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"layers.2.w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        let s2 = safetensorsBytes(#"{"embed":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#, data: [1, 2, 3, 4])
        FileManager.default.createFile(atPath: dir + "/model-00001-of-00002.safetensors", contents: Data(s1))
        FileManager.default.createFile(atPath: dir + "/model-00002-of-00002.safetensors", contents: Data(s2))
        let index = #"{"metadata":{"total_size":12},"weight_map":{"layers.10.w":"model-00001-of-00002.safetensors","layers.2.w":"model-00001-of-00002.safetensors","embed":"model-00002-of-00002.safetensors"}}"#
        FileManager.default.createFile(atPath: dir + "/model.safetensors.index.json", contents: Data(index.utf8))
        let ckpt = try SafetensorsCheckpoint(directory: dir)
        #expect(ckpt.entries.map(\.tensor.name) == ["layers.10.w", "layers.2.w", "embed"])  // shard order, names sorted per shard
        #expect(Array(ckpt.data(ckpt.entry("embed")!)) == [1, 2, 3, 4])

        let wrong = #"{"weight_map":{"layers.10.w":"model-00001-of-00002.safetensors","layers.2.w":"model-00001-of-00002.safetensors","embed":"model-00002-of-00002.safetensors","missing":"model-00002-of-00002.safetensors"}}"#
        FileManager.default.createFile(atPath: dir + "/model.safetensors.index.json", contents: Data(wrong.utf8))
        #expect { _ = try SafetensorsCheckpoint(directory: dir) } throws: { ($0 as? SafetensorsError)?.kind == .missingTensor }
    }
}
