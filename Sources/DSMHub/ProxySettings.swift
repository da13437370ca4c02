/// Which proxy a request uses, from the environment, with the rules most tools share
/// (curl, requests, httpx): `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy`/`HTTP_PROXY` for http,
/// then `all_proxy`/`ALL_PROXY`; lower case wins over upper case. `NO_PROXY`/`no_proxy` lists hosts
/// (comma separated; `*` for all; a leading `.` or a plain domain also matches its subdomains; an
/// optional `:port`) that are reached directly.
public struct ProxySettings: Sendable, Equatable {
    public var httpsProxy: String?
    public var httpProxy: String?
    public var noProxy: [String]

    public init(environment env: [String: String]) {
        func pick(_ names: String...) -> String? {
            for name in names { if let v = env[name], !v.isEmpty { return v } }
            return nil
        }
        let all = pick("all_proxy", "ALL_PROXY")
        httpsProxy = pick("https_proxy", "HTTPS_PROXY") ?? all
        httpProxy = pick("http_proxy", "HTTP_PROXY") ?? all
        noProxy = (pick("no_proxy", "NO_PROXY") ?? "").split(separator: ",").map { $0.trimmingSpacesSub().lowercased() }.filter { !$0.isEmpty }
    }

    /// The proxy URL for `url`, or nil to connect directly.
    public func proxy(for url: String) -> String? {
        let lower = url.lowercased()
        let proxy = lower.hasPrefix("https://") ? httpsProxy : (lower.hasPrefix("http://") ? httpProxy : nil)
        guard let proxy else { return nil }
        guard let (host, port) = ProxySettings.hostAndPort(of: lower) else { return proxy }
        return bypasses(host: host, port: port) ? nil : proxy
    }

    func bypasses(host: String, port: String?) -> Bool {
        for entry in noProxy {
            if entry == "*" { return true }
            var pattern = entry
            var patternPort: String?
            if let colon = pattern.lastIndex(of: ":"), !pattern.hasPrefix("[") {
                patternPort = String(pattern[pattern.index(after: colon)...])
                pattern = String(pattern[..<colon])
            }
            if let patternPort, patternPort != port { continue }
            if pattern.hasPrefix("*.") { pattern.removeFirst() }
            if pattern.hasPrefix(".") {
                if host.hasSuffix(pattern) || host == String(pattern.dropFirst()) { return true }
            } else if host == pattern || host.hasSuffix("." + pattern) {
                return true
            }
        }
        return false
    }

    static func hostAndPort(of url: String) -> (String, String?)? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        var rest = String(url[schemeEnd.upperBound...])
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) { rest = String(rest[..<end]) }
        if let at = rest.lastIndex(of: "@") { rest = String(rest[rest.index(after: at)...]) }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            let host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            return (host, after.hasPrefix(":") ? String(after.dropFirst()) : nil)
        }
        if let colon = rest.lastIndex(of: ":") {
            return (String(rest[..<colon]), String(rest[rest.index(after: colon)...]))
        }
        return (rest, nil)
    }
}
