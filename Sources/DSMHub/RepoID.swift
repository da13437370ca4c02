/// A Hugging Face model repository id, `namespace/name`, validated with the Hub's own rules:
/// each part 1–96 characters from letters, digits, `-`, `_`, `.`; not starting or ending with
/// `-` or `.`; no `--` or `..`.
public struct RepoID: Hashable, Sendable, CustomStringConvertible {
    public let namespace: String
    public let name: String

    /// Parses `namespace/name`; returns nil when it is not a valid repo id.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, RepoID.isValidPart(parts[0]), RepoID.isValidPart(parts[1]) else { return nil }
        namespace = String(parts[0])
        name = String(parts[1])
    }

    public var description: String { "\(namespace)/\(name)" }

    static func isValidPart(_ part: Substring) -> Bool {
        guard (1...96).contains(part.count) else { return false }
        let allowed = part.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == "."
        }
        guard allowed, let first = part.first, let last = part.last else { return false }
        if first == "-" || first == "." || last == "-" || last == "." { return false }
        return !part.contains("--") && !part.contains("..")
    }
}
