import DSMHub
import DSMStore
import DSMSystem
import DSMTransfer

/// The files of a repo listing, checked and classified before anything is downloaded. Pure.
public struct PullPlan: Sendable {
    /// One file to bring into the store.
    public struct File: Sendable, Equatable {
        public var path: String
        public var size: Int64
        /// LFS SHA-256 or git blob SHA-1 to verify against.
        public var expectation: DownloadItem.Expectation
        public var isLFS: Bool
        /// The git object id the listing gave (of the file or of its LFS pointer).
        public var gitOid: String?

        public init(path: String, size: Int64, expectation: DownloadItem.Expectation, isLFS: Bool, gitOid: String?) {
            (self.path, self.size, self.expectation, self.isLFS, self.gitOid) = (path, size, expectation, isLFS, gitOid)
        }
    }

    public var files: [File]

    /// Builds the plan from tree entries; throws when a path would escape the model folder, an entry
    /// lacks the digest needed to verify it, or a path repeats.
    public init(entries: [TreeEntry], repo: String) throws {
        var files: [File] = []
        var seen: Set<String> = []
        for entry in entries where entry.isFile {
            if let problem = RepoPath.problem(with: entry.path) {
                throw PullError("refusing to pull \(repo): the listing contains the unsafe path '\(entry.path)' (\(problem)). Nothing was downloaded; the server or mirror is misbehaving.")
            }
            guard seen.insert(entry.path).inserted else {
                throw PullError("refusing to pull \(repo): the listing names '\(entry.path)' twice")
            }
            if let lfs = entry.lfs {
                let oid = lfs.oid.lowercased()
                guard Hex.isLowerHex(oid, length: 64), lfs.size >= 0 else {
                    throw PullError("\(repo): '\(entry.path)' is an LFS file without a valid sha256 in the listing; cannot verify it")
                }
                files.append(File(path: entry.path, size: lfs.size, expectation: .sha256(oid), isLFS: true, gitOid: entry.oid))
            } else {
                guard let oid = entry.oid?.lowercased(), Hex.isLowerHex(oid, length: 40), let size = entry.size, size >= 0 else {
                    throw PullError("\(repo): '\(entry.path)' has no git blob id or size in the listing; cannot verify it")
                }
                files.append(File(path: entry.path, size: size, expectation: .gitBlob(oid), isLFS: false, gitOid: oid))
            }
        }
        self.files = files.sorted { $0.path < $1.path }
    }

    /// A plan of files already checked (a selection from a listing).
    public init(files: [File]) { self.files = files }

    /// Total bytes of the model.
    public var totalBytes: Int64 { files.reduce(0) { $0 + $1.size } }

    /// Free space needed for `toDownload` more bytes: a margin of 1% (at least 16 MiB) on top, since
    /// the file system also needs room for metadata and the manifests.
    public static func requiredFreeBytes(toDownload: Int64) -> Int64 {
        toDownload == 0 ? 0 : toDownload + max(16 << 20, toDownload / 100)
    }
}
