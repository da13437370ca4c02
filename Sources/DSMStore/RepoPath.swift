/// The one rule for a file path inside a model folder, used wherever such a path comes from outside: a Hub listing
/// (`dsm pull`), a manifest being decoded (the store, a bundle being imported), a folder given to `dsm create`.
/// A safe path is relative, has no `..`, `.` or empty components, and no NUL, other control character or backslash.
/// A path that breaks these rules is refused rather than silently fixed, because it means the source (a server, a
/// mirror, a bundle) is hostile or broken. It lives here, the lowest module that both the puller and the manifest
/// decoder use.
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
