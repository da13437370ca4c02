import Foundation
import DSMRegistry
import DSMStore
import DSMSystem

/// One write of an artifact into the store, the same staircase for every command that adds a version (pull,
/// convert, quantize, create, import):
///
/// 1. `begin`: prepare the store and hold the gc lock shared, so `dsm gc` never deletes a blob this write has
///    stored but no version names yet;
/// 2. `stagingPath`: working files live in `partials/` under a `TemporaryName`, so a killed run leaves only files
///    that `Store.removeAbandonedFiles` recognises and sweeps;
/// 3. `adopt`: a finished working file, fsynced, becomes the read-only blob named by its SHA-256 (atomic rename);
/// 4. `commit`: one `fsync` makes every adopted blob's rename durable, then the manifest is written and published
///    as a registry version (its own atomic steps), and the lock is let go.
///
/// A crash before step 4 leaves blobs that no version names (removed by `gc`) and swept working files; a crash
/// inside step 4 leaves the previous committed state (the registry's rule). Nothing half-written is ever visible.
public final class Ingest: @unchecked Sendable {
    public let store: Store
    public let registry: Registry
    private var writerLock: FileLock?

    /// Starts a write: creates the store's folders and takes the gc lock (shared with other writers).
    /// `sweep` also removes working files that crashed runs left (pull does, once per run).
    public init(store: Store, sweep: Bool = false) throws {
        self.store = store
        registry = Registry(store: store)
        try store.prepare()
        writerLock = try registry.blobWriterLock()
        if sweep { store.removeAbandonedFiles() }
    }

    /// A fresh working file name in `partials/`: `<label>.tmp-<pid>-<random><suffix>`.
    public func stagingPath(_ label: String, suffix: String = "") -> String {
        Ingest.stagingPath(in: store, label, suffix: suffix)
    }

    /// The same name before a write has begun (a command that names its output first and takes the lock later).
    public static func stagingPath(in store: Store, _ label: String, suffix: String = "") -> String {
        TemporaryName.inside(store.partialsDirectory, label: label, suffix: suffix)
    }

    /// Makes the finished working file at `path` the blob `sha256`. With `sync`, the file's data is flushed first
    /// (writers that did not fsync it themselves); the rename becomes durable at `commit`.
    public func adopt(_ path: String, sha256: String, sync: Bool = false) throws {
        if sync { try RandomAccessFile(path: path, flags: O_RDONLY).sync() }
        try store.adoptBlob(from: path, sha256: sha256)
    }

    /// Copies the file at `source` into the store and returns its manifest entry. The copy is hashed, not the
    /// original, so the blob holds exactly what its digest says even if the original changes meanwhile. The working
    /// copy is named after `label` (the command), so people and tests can see what a run is doing.
    public func copy(_ source: String, as relativePath: String, label: String) throws -> Manifest.File {
        let staging = stagingPath(label)
        do {
            try FileManager.default.copyItem(atPath: source, toPath: staging)
            let sha = try FileHasher.sha256(path: staging)
            let size = FileSystem.fileSize(staging) ?? 0
            if store.hasBlob(sha, size: size) { FileSystem.remove(staging) } else { try adopt(staging, sha256: sha, sync: true) }
            return .init(path: relativePath, size: size, sha256: sha, gitOid: nil, lfs: size >= Ingest.lfsThreshold)
        } catch {
            FileSystem.remove(staging)
            throw error
        }
    }

    /// Makes the adopted blobs durable and records `manifest` as a version of `name`; returns the version, whether
    /// it is new, and the name's stable version afterwards. Ends the write (the gc lock is released).
    @discardableResult
    public func commit(_ manifest: Manifest, as name: ModelName, command: String = Registry.commandLine) throws -> Committed {
        defer { end() }
        return try publish(manifest, as: name, command: command)
    }

    /// Like `commit`, but the write goes on (an import records several versions, then ends).
    @discardableResult
    public func publish(_ manifest: Manifest, as name: ModelName, command: String = Registry.commandLine) throws -> Committed {
        try store.syncBlobs()
        let (version, isNew) = try registry.publish(manifest, as: name, command: command)
        return Committed(version: version, isNew: isNew, stable: try registry.state(of: name)?.stable)
    }

    /// Builds the manifest of a new version (now, by this dsm) and commits it.
    @discardableResult
    public func commit(_ name: ModelName, kind: Manifest.Kind, provenance: Provenance, files: [Manifest.File], tool: String) throws -> Committed {
        try commit(Manifest(name: name.description, kind: kind, provenance: provenance, files: files,
                            createdAt: Ingest.now(), tool: tool), as: name)
    }

    /// Ends the write without recording anything (what was adopted stays for a later run, or for `gc`).
    public func end() { writerLock = nil }

    /// The result of `commit`.
    public struct Committed: Sendable {
        public var version: VersionRecord
        public var isNew: Bool
        public var stable: Int?
    }

    /// Files at least this large are marked `lfs` in manifests of local files, as the Hub marks them.
    public static let lfsThreshold: Int64 = 1 << 20

    /// ISO 8601 UTC, the manifests' time format.
    public static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}
