import DSMFormats
import Foundation

/// Safetensors header and index parsing. The first input byte picks the parser (even: a shard's header, odd:
/// `model.safetensors.index.json`); the rest is the file. An accepted header must describe data inside the file,
/// since `SafetensorsFile.data` slices the mapping by it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let file = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    if data[0] & 1 == 0 {
        guard let header = try? SafetensorsHeader.parse(file, fileSize: file.count, file: "fuzz.safetensors") else { return 0 }
        for t in header.tensors {
            precondition(t.begin >= 0 && t.end >= t.begin && header.dataOffset + t.end <= file.count, "accepted tensor \(t.name) lies outside the file")
            _ = t.count
        }
    } else {
        guard let index = try? SafetensorsIndex.parse(Data(file), file: "model.safetensors.index.json") else { return 0 }
        precondition(index.shardNames.allSatisfy { !$0.isEmpty && !$0.contains("/") && $0 != ".." }, "unsafe shard name accepted")
    }
    return 0
}
