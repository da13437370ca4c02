/// What a `HEAD` on a resolve URL says about a file (huggingface_hub's `HfFileMetadata`).
///
/// - `commit` from `X-Repo-Commit`
/// - `etag` from `X-Linked-Etag`, else `ETag`, with `W/` and quotes removed
/// - `size` from `X-Linked-Size`, else `Content-Length` (only when the response is not a redirect)
/// - `location` from `Location` (absolute, or relative to be resolved by the caller)
public struct FileMetadata: Equatable, Sendable {
    public var commit: String?
    public var etag: String?
    public var size: Int64?
    public var location: String?
    /// True when the etag came from `X-Linked-Etag`, which marks an LFS file.
    public var isLinked: Bool

    public init(status: Int, headers: [String: String]) {
        commit = headers["x-repo-commit"]
        let linked = headers["x-linked-etag"]
        isLinked = linked != nil
        etag = (linked ?? headers["etag"]).map(FileMetadata.normalizeETag)
        let isRedirect = (300...399).contains(status)
        if let linkedSize = headers["x-linked-size"], let n = Int64(linkedSize) {
            size = n
        } else if !isRedirect, let length = headers["content-length"], let n = Int64(length) {
            size = n
        }
        location = headers["location"]
    }

    /// Removes a weak-validator prefix and surrounding quotes: `W/"abc"` → `abc`.
    public static func normalizeETag(_ value: String) -> String {
        var v = value.trimmingSpaces()
        if v.hasPrefix("W/") { v.removeFirst(2) }
        return v.replacingQuotes()
    }
}

/// `Content-Range: bytes START-END/TOTAL` or `bytes */TOTAL`.
public struct ContentRange: Equatable, Sendable {
    public var start: Int64?
    public var end: Int64?
    public var total: Int64?

    public init?(_ value: String?) {
        guard var v = value?.trimmingSpaces().lowercased(), v.hasPrefix("bytes") else { return nil }
        v = String(v.dropFirst(5)).trimmingSpaces()
        let halves = v.split(separator: "/", maxSplits: 1).map(String.init)
        guard halves.count == 2 else { return nil }
        total = halves[1] == "*" ? nil : Int64(halves[1])
        if halves[0] != "*" {
            let bounds = halves[0].split(separator: "-").map(String.init)
            guard bounds.count == 2, let s = Int64(bounds[0]), let e = Int64(bounds[1]), s <= e else { return nil }
            start = s
            end = e
        }
    }
}
