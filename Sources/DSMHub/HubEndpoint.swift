/// The Hub (or a mirror) that dsm talks to, and the URLs of the calls it makes.
///
/// The endpoint comes from `HF_ENDPOINT` (default `https://huggingface.co`), trailing `/` removed.
public struct HubEndpoint: Sendable, Equatable {
    /// Scheme, host and optional port, plus an optional path prefix, without a trailing slash.
    public let base: String

    public static let defaultBase = "https://huggingface.co"

    public init(_ base: String = HubEndpoint.defaultBase) {
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        self.base = b
    }

    /// Reads `HF_ENDPOINT` (or `HUGGINGFACE_CO_STAGING=1` for the staging Hub) from `environment`.
    public static func from(environment: [String: String]) -> HubEndpoint {
        if let value = environment["HF_ENDPOINT"], !value.isEmpty { return HubEndpoint(value) }
        if let staging = environment["HUGGINGFACE_CO_STAGING"], ["1", "true", "yes", "on"].contains(staging.lowercased()) {
            return HubEndpoint("https://hub-ci.huggingface.co")
        }
        return HubEndpoint()
    }

    /// `GET /api/models/{repo}/revision/{rev}`: model info with the commit `sha`.
    public func modelInfoURL(_ repo: RepoID, revision: String) -> String {
        "\(base)/api/models/\(repo)/revision/\(URLEncoding.quote(revision, safe: ""))"
    }

    /// `GET /api/models/{repo}/tree/{rev}?recursive=true`: the file listing, paginated with `Link`.
    public func treeURL(_ repo: RepoID, revision: String) -> String {
        "\(base)/api/models/\(repo)/tree/\(URLEncoding.quote(revision, safe: ""))?recursive=true&expand=false"
    }

    /// `HEAD|GET /{repo}/resolve/{rev}/{path}`: file metadata, then a redirect to its content.
    public func resolveURL(_ repo: RepoID, revision: String, path: String) -> String {
        "\(base)/\(repo)/resolve/\(URLEncoding.quote(revision, safe: ""))/\(URLEncoding.quote(path, safe: "/"))"
    }

    /// Scheme + host (+ port) of a URL, used to decide whether a redirect leaves the origin.
    public static func origin(of url: String) -> String? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        return url[..<schemeEnd.upperBound].lowercased() + rest[..<hostEnd].lowercased()
    }

    /// Resolves a link such as `Link: <…>; rel="next"` against the URL it came with, keeping its query
    /// (the pagination cursor): absolute links as they are, `/path?q` on the same origin.
    public static func resolveReference(_ link: String, from url: String) -> String {
        if link.contains("://") { return link }
        guard let origin = origin(of: url) else { return link }
        return origin + (link.hasPrefix("/") ? link : "/" + link)
    }

    /// Resolves a `Location` header against the request URL the way huggingface_hub does:
    /// an absolute location is taken as is; a relative one keeps the original scheme and host and
    /// replaces only the path (dropping the location's query, as `urlparse(url)._replace(path=…)` does).
    public static func resolveRedirect(_ location: String, from url: String) -> String {
        if location.contains("://") { return location }
        guard let origin = origin(of: url) else { return location }
        var path = location
        if let q = path.firstIndex(of: "?") { path = String(path[..<q]) }
        if !path.hasPrefix("/") { path = "/" + path }
        return origin + path
    }
}

extension String {
    func firstRange(of needle: String) -> Range<String.Index>? {
        guard !needle.isEmpty else { return nil }
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(needle) { return index..<self.index(index, offsetBy: needle.count) }
            index = self.index(after: index)
        }
        return nil
    }
}
