import DSMStore
import DSMSystem

/// Where a checkpoint's files appear for a runtime that reads a folder (vLLM): one link per file, at the file's
/// path inside the version's folder. Pure. This check is independent of the manifest rule (`RepoPath`) on purpose:
/// even a manifest that got past it cannot make a link outside the folder.
public enum SnapshotLinks {
    /// A link that would not be strictly inside the version's folder.
    public struct Outside: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ d: String) { description = d }
    }

    /// `path` resolved against the folder without touching the disk (empty and `.` components dropped, `..` taking
    /// one back), or nil when it is absolute, climbs above the folder, or names the folder itself.
    public static func inside(_ path: String) -> String? {
        guard !path.hasPrefix("/"), !path.contains("\0") else { return nil }
        var kept: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                guard kept.popLast() != nil else { return nil }
                continue
            }
            kept.append(part)
        }
        return kept.isEmpty ? nil : kept.joined(separator: "/")
    }

    /// The link of every file (relative path inside the folder → blob digest), or `Outside` naming the first file
    /// whose link would not be inside the folder, or two files that would share one link.
    public static func plan(_ files: [Manifest.File]) throws(Outside) -> [(path: String, sha256: String)] {
        var links: [(path: String, sha256: String)] = []
        var seen = Set<String>()
        for f in files {
            guard let path = inside(f.path), seen.insert(path).inserted else {
                throw Outside("the file path '\(TerminalText.escaped(f.path))' would not be a link of its own inside the model's folder; "
                              + "refusing to lay it out")
            }
            links.append((path, f.sha256))
        }
        return links
    }
}
