/// What the gateway writes into its access log and metrics from a client's request: capped, and always one line of
/// valid JSON. Pure.
public enum LogText {
    /// Longest string field (route, model, error text) written to a log line, in UTF-8 bytes.
    public static let maxFieldLength = 512

    /// `s` when it fits in `limit` UTF-8 bytes, else its longest prefix of whole characters that does, followed by
    /// a marker saying how many bytes were dropped.
    public static func capped(_ s: String, limit: Int = maxFieldLength) -> String {
        let total = s.utf8.count
        guard total > limit else { return s }
        var kept = 0
        var end = s.startIndex
        for index in s.indices {
            let next = s.index(after: index)
            let width = s.utf8.distance(from: index, to: next)
            if kept + width > limit { break }
            kept += width
            end = next
        }
        return String(s[s.startIndex..<end]) + "…[\(total - kept) more bytes]"
    }

    /// A request body as one JSON value on one line: the body without the whitespace between tokens when it is a
    /// valid JSON object (`RequestFields.scan` checks that strictly), else the body as an escaped JSON string.
    /// Either way no raw newline or control character reaches the log.
    public static func jsonValue(body: [UInt8]) -> String {
        let valid = body.withUnsafeBytes { RequestFields.scan($0) } != nil
        guard valid else { return OpenAIError.quote(String(decoding: body, as: UTF8.self)) }
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var inString = false, escaped = false
        for c in body {
            if inString {
                out.append(c)
                if escaped { escaped = false } else if c == 0x5c { escaped = true } else if c == 0x22 { inString = false }
            } else if c == 0x22 {
                inString = true
                out.append(c)
            } else if c != 0x20, c != 0x0a, c != 0x0d, c != 0x09 {
                out.append(c)
            }
        }
        // Invalid UTF-8 inside strings becomes U+FFFD, so the line stays valid UTF-8.
        return String(decoding: out, as: UTF8.self)
    }
}
