import DSMHub

/// The Hub's response parsers: headers (`Content-Range`, `Link`, `Retry-After`, `RateLimit`, `X-Error-Code` /
/// `X-Error-Message`, `ETag`, sizes) and the JSON bodies of the tree listing and model info. The first input byte
/// picks the body parsers (values 0xF0 and up) or the headers, whose values are the input's lines; the HTTP status
/// comes from the second and third bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 3 else { return 0 }
    let rest = Array(UnsafeBufferPointer(start: data + 3, count: size - 3))
    if data[0] >= 0xF0 {
        if data[0] & 1 == 0 {
            for e in (try? TreeEntry.decodePage(rest)) ?? [] { _ = e.isFile }
        } else {
            _ = try? ModelInfo.decode(rest)
        }
        return 0
    }
    let status = 100 + (Int(data[1]) << 8 | Int(data[2])) % 500
    let lines = String(decoding: rest, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    func line(_ i: Int) -> String? { i < lines.count ? lines[i] : nil }
    let names = ["content-range", "link", "retry-after", "ratelimit", "x-error-code", "x-error-message", "etag",
                 "x-linked-etag", "x-linked-size", "content-length", "location", "x-repo-commit"]
    var headers: [String: String] = [:]
    for (i, name) in names.enumerated() { headers[name] = line(i) }
    if let r = ContentRange(headers["content-range"]), let s = r.start, let e = r.end { precondition(s <= e, "range \(s)-\(e) accepted") }
    _ = LinkHeader.url(rel: "next", in: headers["link"])
    _ = RetryHints.retryAfter(headers["retry-after"])
    _ = RetryHints.rateLimit(headers["ratelimit"])
    _ = RetryHints.serverDelay(headers: headers)
    let error = HubError.classify(status: status, headers: headers, repo: "org/name", revision: line(12), path: line(13),
                                  endpoint: "https://huggingface.co", hadToken: data[1] & 1 == 1)
    _ = error.description
    _ = HubError.isRetryable(status: status)
    _ = FileMetadata(status: status, headers: headers)
    return 0
}
