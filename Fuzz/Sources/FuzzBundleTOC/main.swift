import DSMBundle

/// The bundle's table of contents (`dsm-bundle.json`), decoded and checked as `dsm import` does before it reads any
/// other entry, then the totals import reports progress with.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let toc = try? BundleTOC.decode(Array(UnsafeBufferPointer(start: data, count: size))) else { return 0 }
    _ = toc.totalBytes
    for e in toc.entries { precondition(e.size >= 0, "negative size accepted for \(e.path)") }
    return 0
}
