import DSMStore
import DSMTransfer

/// Which files of a pull the store already holds: LFS files by their SHA-256, small git files by their git blob id
/// (the index comes from the manifests, which record `git_oid`). Only blobs present with the expected size count.
struct StoredFiles: Sendable {
    let store: Store
    /// Small files already stored, by git blob id.
    let gitIndex: [String: String]

    /// The stored blob with `file`'s content, or nil when it must be downloaded.
    func digest(of file: PullPlan.File) -> String? {
        switch file.expectation {
        case .sha256(let sha): return store.hasBlob(sha, size: file.size) ? sha : nil
        case .gitBlob(let oid): return gitIndex[oid].flatMap { store.hasBlob($0, size: file.size) ? $0 : nil }
        }
    }
}
