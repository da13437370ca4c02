import Foundation
import DSMFormats
import DSMHub
import DSMSystem
import DSMStore
import DSMRegistry
import DSMArtifacts
import DSMTransfer
import DSMCatalog

/// `dsm pull` end to end: resolve the revision to a commit, list and check the files, refuse when the disk
/// is too small, download what the store lacks (resumably, verified), and write the manifest last, so a
/// model name appears only when every one of its files is stored and verified.
public final class Puller: @unchecked Sendable {
    public let options: PullOptions
    public let store: Store
    public let cancel: CancellationFlag
    /// Called with the engine once downloading starts (for the progress display).
    public var onDownloadStart: (@Sendable (DownloadEngine, PullPlan) -> Void)?
    /// Called with the chosen files before anything is downloaded.
    public var onSelection: (@Sendable (PullSelection) -> Void)?
    /// Called, for a GGUF model, with its parts' headers read over HTTP before the download (for the fit warning).
    public var onHeaders: (@Sendable (PullSelection, [GGUFHeader]) -> Void)?
    /// Called with messages worth showing (retries, waits, discarded data).
    public var onNotice: (@Sendable (String) -> Void)?

    public init(options: PullOptions, cancel: CancellationFlag) {
        self.options = options
        self.store = Store(root: options.storeRoot)
        self.cancel = cancel
    }

    public func pull(_ requested: PullTarget) throws -> PullResult {
        let started = Date()
        // One store write (gc lock held until the version is recorded, working files swept), committed at the end.
        let ingest = try Ingest(store: store, sweep: true)
        defer { ingest.end() }
        let present = StoredFiles(store: store, gitIndex: store.gitBlobIndex())
        let policy = RetryPolicy(maxAttempts: options.retries)
        let http = HTTPClient(proxies: options.proxies, policy: policy, userAgent: Puller.userAgent(options.toolVersion), cancel: cancel)
        let hub = HubClient(endpoint: options.endpoint, http: http, token: options.token)

        let (target, commit, selection) = try choose(requested, hub: hub)
        let plan = PullPlan(files: selection.files)
        onSelection?(selection)
        if selection.kind == .gguf {
            let headers = try RemoteGGUFHeaders(hub: hub, repo: target.repo, commit: commit).read(selection.modelParts, cancel: cancel)
            try GGUFPartCheck.checkRemote(selection.modelParts, headers: headers)
            onHeaders?(selection, headers)
        }

        var stored: [String: String] = [:]  // path -> sha256 already in the store
        var items: [DownloadItem] = []
        var byName: [String: PullPlan.File] = [:]
        var downloadFor: [String: String] = [:]  // content key -> the path whose download provides it
        for file in plan.files {
            byName[file.path] = file
            if let sha = present.digest(of: file) {
                stored[file.path] = sha
            } else if file.size == 0 {
                stored[file.path] = try store.putBlob([])
            } else if downloadFor[file.expectation.key] != nil {
                continue  // the same content under another path: downloaded once
            } else {
                downloadFor[file.expectation.key] = file.path
                // Small files are cheap to fetch again: they skip the cross-process lock and durable progress,
                // and their partial file is private to this run (pid plus a random part).
                let key = file.size < Puller.smallFileBytes
                    ? TemporaryName.unique(file.expectation.key) : file.expectation.key
                items.append(DownloadItem(name: file.path, size: file.size, expected: file.expectation,
                                          partialPath: store.partialPath(key: key), resumable: file.size >= Puller.smallFileBytes))
            }
        }
        try checkDiskSpace(items)
        let registry = ingest.registry
        if try registry.state(of: target.name) == nil, let other = registry.caseVariant(of: target.name) {
            throw PullError("\(target.name) differs only in case from the stored name \(other); pull it as \(other)")
        }

        let delegate = PullDelegate(ingest: ingest, present: present, notice: onNotice, hub: hub, repo: target.repo, commit: commit, files: byName)
        var engineOptions = DownloadEngine.Options()
        engineOptions.connections = options.connections
        engineOptions.connectionsPerFile = options.connectionsPerFile
        engineOptions.stallSeconds = options.stallSeconds
        engineOptions.policy = policy
        engineOptions.maxSpeedPerConnection = options.maxSpeedPerConnection
        let engine = DownloadEngine(options: engineOptions, proxies: options.proxies, userAgent: Puller.userAgent(options.toolVersion),
                                    cancel: cancel, delegate: delegate)
        onDownloadStart?(engine, plan)
        let outcomes = try withExtendedLifetime(delegate) { try engine.run(items) }
        let cost = engine.verificationCost()
        var downloaded: Int64 = 0
        var reused: Int64 = plan.files.filter { stored[$0.path] != nil }.reduce(0) { $0 + $1.size }
        for outcome in outcomes {
            stored[outcome.name] = outcome.sha256
            downloaded += outcome.downloadedBytes
            reused += outcome.reusedBytes
        }
        for file in plan.files where stored[file.path] == nil {
            if let provider = downloadFor[file.expectation.key] { stored[file.path] = stored[provider] }
        }

        if selection.kind == .gguf { try GGUFPartCheck.verify(selection.modelParts, blobs: stored, store: store) }
        let files = try plan.files.map { file -> Manifest.File in
            guard let sha = stored[file.path], store.hasBlob(sha, size: file.size) else {
                throw PullError("\(file.path) is missing from the store after the download; run the command again")
            }
            return Manifest.File(path: file.path, size: file.size, sha256: sha, gitOid: file.isLFS ? nil : file.gitOid, lfs: file.isLFS)
        }
        let provenance = Provenance.pulled(endpoint: options.endpoint.base, repo: target.repo.description, revision: target.revision,
                                           commit: commit, selection: selection.how)
        // An unchanged revision (same commit, same files) is the version it already was, so re-pulling changes
        // nothing; a new upstream commit becomes a new version (the first version of a name is stable at once).
        let committed = try ingest.commit(target.name, kind: selection.kind, provenance: provenance, files: files, tool: "dsm \(options.toolVersion)")
        let (digest, version, stable) = (committed.version.manifest, committed.version.number, committed.stable)
        var result = PullResult(name: target.name.description, repo: target.repo.description, revision: target.revision, commit: commit,
                          endpoint: options.endpoint.base, manifest: digest,
                          files: files.map { .init(path: $0.path, size: $0.size, sha256: $0.sha256, blob: store.blobPath($0.sha256)) },
                          downloadedBytes: downloaded, reusedBytes: reused, seconds: Date().timeIntervalSince(started),
                          verifyTailSeconds: cost.tailSeconds, hashSeconds: cost.hashSeconds)
        result.version = version
        result.stable = stable
        result.kind = selection.kind.rawValue
        result.tag = selection.label
        result.selection = selection.how
        return result
    }

    /// What `pull` would download, decided from the listing alone (`dsm pull --dry-run`): nothing is written.
    public func preview(_ requested: PullTarget) throws -> PullPreview {
        try previewWithHeaders(requested).preview
    }

    /// `preview`, plus the headers of the GGUF model's parts read over HTTP range requests (empty for a checkpoint).
    public func previewWithHeaders(_ requested: PullTarget) throws -> (preview: PullPreview, headers: [GGUFHeader]) {
        let policy = RetryPolicy(maxAttempts: options.retries)
        let http = HTTPClient(proxies: options.proxies, policy: policy, userAgent: Puller.userAgent(options.toolVersion), cancel: cancel)
        let hub = HubClient(endpoint: options.endpoint, http: http, token: options.token)
        let (target, commit, selection) = try choose(requested, hub: hub)
        var headers: [GGUFHeader] = []
        if selection.kind == .gguf {
            headers = try RemoteGGUFHeaders(hub: hub, repo: target.repo, commit: commit).read(selection.modelParts, cancel: cancel)
            try GGUFPartCheck.checkRemote(selection.modelParts, headers: headers)
        }
        return (PullPreview(name: target.name.description, repo: target.repo.description, revision: target.revision, commit: commit,
                           kind: selection.kind.rawValue, tag: selection.label, selection: selection.how,
                           files: selection.files.map { .init(path: $0.path, size: $0.size) },
                           totalBytes: selection.files.reduce(0) { $0 + $1.size }), headers)
    }

    /// Resolves the revision, lists the repo and chooses the files (`PullSelection`); a `:TAG` on a repo without GGUF
    /// models is the revision (dsm's older grammar), so the listing is taken again at that revision. Names the target
    /// after what was chosen.
    func choose(_ requested: PullTarget, hub: HubClient) throws -> (PullTarget, String, PullSelection) {
        var target = requested
        while true {
            let commit = Revision.isCommit(target.revision) ? target.revision : try hub.resolveCommit(target.repo, revision: target.revision)
            let listing = try PullPlan(entries: try hub.listTree(target.repo, commit: commit), repo: target.repo.description)
            guard !listing.files.isEmpty else { throw PullError("\(target.repo) has no files at revision \(target.revision)") }
            do {
                let selection = try PullSelection.choose(from: listing.files, repo: target.repo.description, tag: target.tag,
                                                         tagMayBeRevision: !target.revisionIsExplicit, filter: target.filter,
                                                         withImatrix: target.withImatrix)
                target.name = try target.named(selection.label)
                return (target, commit, selection)
            } catch let legacy as PullSelection.TagIsRevision {
                guard Revision.isValid(legacy.revision) else { throw PullError("'\(legacy.revision)' is not a valid revision") }
                (target.revision, target.revisionIsExplicit, target.tag) = (legacy.revision, true, nil)
                target.name = try target.named(nil)
            }
        }
    }

    private func checkDiskSpace(_ items: [DownloadItem]) throws {
        let remaining = items.reduce(Int64(0)) { $0 + $1.size - PartialState.completedBytes(for: $1) }
        let needed = PullPlan.requiredFreeBytes(toDownload: remaining)
        guard needed > 0, let free = FileSystem.availableBytes(at: store.root) else { return }
        if free < needed {
            throw PullError("not enough free disk space in \(store.root): the pull needs \(ByteFormat.string(needed)) "
                + "(\(ByteFormat.string(remaining)) still to download plus a margin) but only \(ByteFormat.string(free)) is free. "
                + "Free some space, or set DSM_HOME to a larger disk, then run the command again.")
        }
    }

    /// Files below this size are downloaded without a lock or resume state.
    static let smallFileBytes: Int64 = 1 << 20

    static func userAgent(_ version: String) -> String { "dsm/\(version); \(CurlEasy.version.split(separator: " ").first ?? "libcurl")" }
}
