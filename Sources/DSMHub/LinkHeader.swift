/// The `Link` response header (RFC 8288), as the Hub uses it for tree pagination:
/// `<https://…/tree/main?recursive=true&cursor=…>; rel="next"`.
public enum LinkHeader {
    /// The URL whose `rel` is `relation`, if present.
    public static func url(rel relation: String, in value: String?) -> String? {
        guard let value else { return nil }
        for link in splitLinks(value) {
            guard let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">"), open < close else { continue }
            let target = String(link[link.index(after: open)..<close])
            let params = link[link.index(after: close)...].split(separator: ";")
            for param in params {
                let p = param.trimmingSpacesSub()
                guard p.lowercased().hasPrefix("rel=") else { continue }
                let rels = p.dropFirst(4).filter { $0 != "\"" }.split(separator: " ").map { $0.lowercased() }
                if rels.contains(relation.lowercased()) { return target }
            }
        }
        return nil
    }

    /// Splits on commas outside `<…>`.
    private static func splitLinks(_ value: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var inURL = false
        for ch in value {
            if ch == "<" { inURL = true }
            if ch == ">" { inURL = false }
            if ch == "," && !inURL {
                parts.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        parts.append(current)
        return parts
    }
}
