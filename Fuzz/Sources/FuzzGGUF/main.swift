import DSMFormats

/// The GGUF header reader (`GGUFHeader.parse`, what `GGUFFile` and `dsm fit`/`quantize`/`serve` read). An accepted
/// header must place every tensor's data inside the file, since `GGUFFile.data` slices the mapping by it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let header = try? GGUFHeader.parse(bytes, file: "fuzz.gguf") else { return 0 }
    for t in header.tensors {
        precondition(header.dataOffset + Int(t.offset) + t.byteCount <= size, "accepted tensor \(t.name) lies outside the file")
        _ = t.elementCount
    }
    _ = header.kvs.first { $0.key == "general.architecture" }
    return 0
}
