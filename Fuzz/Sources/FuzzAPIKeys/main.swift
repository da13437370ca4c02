import DSMServeCore

/// The gateway's API key file (`APIKeyRing(fileText:)`) and the `Authorization` / `x-api-key` header values. A
/// file that loads must accept every key it lists, each line read as the doc says: one key per line (LF or CRLF),
/// surrounding blanks ignored, `#` comments and blank lines skipped. SHA-256 is replaced by a cheap stand-in hash
/// (the ring takes the hash as a parameter), which keeps the run fast and changes no parsing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    _ = APIKeyRing.presentedKey(authorization: lines.first.map(String.init), xAPIKey: lines.last.map(String.init))
    guard let ring = try? APIKeyRing(fileText: text, hash: standIn) else { return 0 }
    for raw in Array(text.utf8).split(separator: 0x0A, omittingEmptySubsequences: false) {
        var bytes = ArraySlice(raw)
        while let f = bytes.first, f == 0x20 || f == 0x09 || f == 0x0D { bytes.removeFirst() }
        while let l = bytes.last, l == 0x20 || l == 0x09 || l == 0x0D { bytes.removeLast() }
        let key = String(decoding: bytes, as: UTF8.self)
        if key.isEmpty || key.hasPrefix("#") || key.hasPrefix("sha256:") { continue }
        precondition(ring.match(key) != nil, "the key on line '\(key)' of a loaded key file does not match")
    }
    return 0
}

/// FNV-1a spread over 32 bytes: not cryptographic, only distinct enough for the harness.
let standIn: @Sendable ([UInt8]) -> [UInt8] = { bytes in
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return (0..<32).map { UInt8(truncatingIfNeeded: (h &* UInt64($0 + 1)) >> 24) }
}
