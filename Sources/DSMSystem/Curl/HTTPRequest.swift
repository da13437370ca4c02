/// What one HTTP exchange asks for. Redirects are never followed by libcurl:
/// callers follow them themselves, because the Hub's protocol needs control over which
/// hops carry the `Authorization` header.
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable { case get = "GET", head = "HEAD", post = "POST" }

    public var method: Method
    public var url: String
    /// Header lines, `Name: value`.
    public var headers: [String]
    /// Request body for POST.
    public var body: [UInt8]?
    /// Seconds allowed to connect.
    public var connectTimeout: Int = 10
    /// Whole-exchange limit in seconds, 0 for none (large bodies rely on the stall limit instead).
    public var totalTimeout: Int = 0
    /// Abort when fewer than 1 byte/s arrive for this many seconds (a stall).
    public var stallSeconds: Int = 30
    /// Per-connection receive cap in bytes/s, 0 for none.
    public var maxReceiveSpeed: Int64 = 0
    /// Proxy URL for this request, or nil for a direct connection.
    public var proxy: String?

    public init(method: Method = .get, url: String, headers: [String] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// Status and headers of the final response of one exchange (no redirects are followed).
public struct HTTPResponseHead: Sendable {
    public var status: Int
    /// Header names lower-cased; the last value wins when a header repeats.
    public var headers: [String: String]
    /// Repeated headers kept in order, for `Link` and similar.
    public var allHeaders: [(name: String, value: String)]

    public init(status: Int, headers: [String: String] = [:], allHeaders: [(name: String, value: String)] = []) {
        self.status = status
        self.headers = headers
        self.allHeaders = allHeaders
    }

    /// The value of a header, case-insensitive.
    public subscript(_ name: String) -> String? { headers[name.lowercased()] }
}
