import Glibc

/// The one rule for the names of files that are being written and become visible by a rename: `<final>.tmp-<pid>-<random>`.
/// Everything that writes such a file names it here, and the sweepers that remove what a killed process left
/// (`Store.abandonedFiles`, an interrupted command's own cleanup) recognise it here, so the two cannot drift apart.
public enum TemporaryName {
    /// The marker every temporary name contains.
    public static let marker = ".tmp-"

    /// A fresh temporary name beside `path` (same folder, so the final rename is atomic), unique to this process.
    public static func beside(_ path: String) -> String {
        unique(path + marker.dropLast())
    }

    /// `<base>-<pid>-<random>`: a name no other process, and no other call in this one, makes.
    public static func unique(_ base: String) -> String {
        "\(base)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// A fresh temporary name in `directory` for a file whose final name is not known yet (a blob before its
    /// digest is): `<directory>/<label>.tmp-<pid>-<random><suffix>`.
    public static func inside(_ directory: String, label: String, suffix: String = "") -> String {
        beside(directory + "/" + label) + suffix
    }

    /// True when the file name (last path component) is a temporary name of any process.
    public static func isTemporary(_ fileName: String) -> Bool { fileName.contains(marker) }

    /// The prefix of the temporary names this process makes beside `path` (what its own cleanup removes).
    public static func ownPrefix(beside path: String) -> String {
        (path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path) + marker + "\(getpid())-"
    }
}
