/// Checks that a path listed by the Hub stays inside the model folder: relative, no `..` or `.`
/// components, no empty components, no NUL or backslash. A listing that breaks these rules is refused
/// rather than silently fixed, because it means the server (or a mirror in between) is hostile or broken.
public enum RepoPath {
    /// Returns nil when `path` is safe, otherwise the reason it is not.
    public static func problem(with path: String) -> String? {
        if path.isEmpty { return "the path is empty" }
        if path.hasPrefix("/") { return "it is an absolute path" }
        if path.contains("\\") { return "it contains a backslash" }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 }) { return "it contains a control character" }
        if path.utf8.count > 4096 { return "it is longer than 4096 bytes" }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "it has an empty path component" }
            if component == ".." { return "it climbs out of the model folder with '..'" }
            if component == "." { return "it has a '.' component" }
            if component.utf8.count > 255 { return "a component is longer than 255 bytes" }
        }
        return nil
    }
}
