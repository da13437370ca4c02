import DSMHub
import Synchronization
import DSMSystem
import DSMStore
import DSMTransfer
import DSMArtifacts

/// Connects the download engine to the store and the Hub: per-content locks (so two processes never
/// download the same blob twice), the `HEAD`/redirect resolution, and the final move into the store.
final class PullDelegate: DownloadDelegate, @unchecked Sendable {
    let ingest: Ingest
    let present: StoredFiles
    let onNotice: (@Sendable (String) -> Void)?
    let hub: HubClient
    let repo: RepoID
    let commit: String
    let files: [String: PullPlan.File]
    /// Items we already said we are waiting for.
    let noticed = Mutex<Set<String>>([])

    init(ingest: Ingest, present: StoredFiles, notice: (@Sendable (String) -> Void)?, hub: HubClient, repo: RepoID, commit: String, files: [String: PullPlan.File]) {
        self.ingest = ingest
        self.present = present
        self.onNotice = notice
        self.hub = hub
        self.repo = repo
        self.commit = commit
        self.files = files
    }

    func prepare(_ item: DownloadItem) throws -> Preparation {
        guard item.resumable else { return .start(token: nil) }
        guard let lock = try FileLock.tryAcquire(ingest.store.lockPath(item.expected.key)) else {
            if noticed.withLock({ $0.insert(item.name).inserted }) {
                notice("\(item.name): another dsm process is downloading this file; waiting for it")
            }
            return .busy
        }
        // Another process may have finished it while we waited for the lock.
        if let file = files[item.name], let sha = present.digest(of: file) { return .alreadyStored(sha256: sha) }
        return .start(token: lock)
    }

    func source(for item: DownloadItem, refresh: Bool, cancel: CancellationFlag) throws -> DownloadSource {
        guard let file = files[item.name] else { throw PullError("internal: unknown file \(item.name)") }
        let etag: String
        switch file.expectation {
        case .sha256(let h), .gitBlob(let h): etag = h
        }
        if !file.isLFS && !refresh {
            // Small git files: GET the resolve URL directly and follow its same-host redirect (the content is
            // checked against the git blob id anyway), saving the HEAD round trips on repos with many files.
            return hub.directSource(repo, commit: commit, path: file.path)
        }
        return try hub.downloadSource(repo, commit: commit, path: file.path, expectedSize: file.size, expectedETag: etag, cancel: cancel)
    }

    func commit(_ item: DownloadItem, partialPath: String, sha256: String) throws {
        try ingest.adopt(partialPath, sha256: sha256)
    }

    func notice(_ message: String) {
        onNotice?(message)
    }
}
