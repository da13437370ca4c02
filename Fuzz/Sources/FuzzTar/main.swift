import DSMBundle

/// The bundle's tar reader, fed the way `dsm import` feeds it (decompressed pieces of any size), with each entry's
/// name checked by `BundlePath` as the importer does. The first input byte sets the piece size (1-255 bytes, or 0
/// for one piece). Whatever the input, each entry must hand over exactly the bytes its header declares.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let piece = Int(data[0]) == 0 ? size : Int(data[0])
    let stream = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let reader = TarReader()
    var declared: Int64 = 0, received: Int64 = 0
    reader.header = { name, size in
        _ = try BundlePath(name)
        precondition(size >= 0, "header \(name) accepted with negative size \(size)")
        declared = size
        received = 0
    }
    reader.data = { chunk in
        received += Int64(chunk.count)
        precondition(received <= declared, "entry data runs past its declared size")
    }
    reader.end = { precondition(received == declared, "entry ended after \(received) of \(declared) bytes") }
    var offset = 0
    do {
        while offset < stream.count {
            let n = min(piece, stream.count - offset)
            try reader.feed(UnsafeRawBufferPointer(rebasing: stream[offset..<offset + n]))
            offset += n
        }
    } catch {}
    return 0
}
