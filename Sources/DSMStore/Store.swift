import Foundation
import DSMSystem

/// The local content-addressed store under `DSM_HOME` (default `~/.dsm`):
///
/// ```
/// blobs/sha256-<hex>            verified content, read-only, stored once however many models use it
/// manifests/<name>/<tag>.json   what each model is made of (also kept as a blob under its digest)
/// partials/<key>.part[.state]   downloads in progress and their durable progress records
/// locks/                        flock files serializing concurrent dsm processes
/// ```
/// Everything that becomes visible does so by an atomic rename after fsync.
public struct Store: Sendable {
    public let root: String

    public init(root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    /// `DSM_HOME`, else `~/.dsm`.
    public static func defaultRoot(environment env: [String: String]) -> String {
        if let home = env["DSM_HOME"], !home.isEmpty { return FileSystem.absolute(home) }
        return (env["HOME"] ?? FileSystem.currentDirectory()) + "/.dsm"
    }

    public var blobsDirectory: String { root + "/blobs" }
    public var partialsDirectory: String { root + "/partials" }
    public var manifestsDirectory: String { root + "/manifests" }
    public var locksDirectory: String { root + "/locks" }
    /// Where runtimes read versions from: one read-only folder of links per manifest digest (`versionFolder`).
    public var versionFoldersDirectory: String { root + "/serve/snapshots" }
    /// The folder of links to the files of the version whose manifest digest is `digest`, under their repo paths.
    public func versionFolder(_ digest: String) -> String { versionFoldersDirectory + "/" + digest }

    /// Creates the folders.
    public func prepare() throws {
        for dir in [blobsDirectory, partialsDirectory, manifestsDirectory, locksDirectory] {
            try FileSystem.createDirectory(dir)
        }
    }

    /// Path of the blob with this SHA-256.
    public func blobPath(_ sha256: String) -> String { "\(blobsDirectory)/sha256-\(sha256)" }

    /// True if the blob is present with the expected size.
    public func hasBlob(_ sha256: String, size: Int64? = nil) -> Bool {
        guard let actual = FileSystem.fileSize(blobPath(sha256)) else { return false }
        return size == nil || actual == size
    }

    /// Moves a verified, fsynced file into the store as blob `sha256` (atomic rename, read-only).
    /// An existing blob of that name is replaced: the new copy was just verified, the old one may not be
    /// intact any more. The rename is made durable by `syncBlobs()`.
    public func adoptBlob(from path: String, sha256: String) throws {
        FileSystem.setMode(path, 0o444)
        try FileSystem.renameWithoutSync(path, to: blobPath(sha256))
    }

    /// Stores small bytes as a blob; returns its SHA-256.
    @discardableResult
    public func putBlob(_ bytes: [UInt8]) throws -> String {
        let sha = Digest.sha256Hex(bytes)
        if !hasBlob(sha, size: Int64(bytes.count)) {
            try FileSystem.writeAtomically(bytes, to: blobPath(sha), mode: 0o444)
        }
        return sha
    }

    /// SHA-256 of every stored small file by its git blob id, gathered from the manifests (which record
    /// `git_oid`), so a re-pull skips unchanged small files without a request. Only blobs still present count.
    public func gitBlobIndex() -> [String: String] {
        var index: [String: String] = [:]
        for name in names() {
            guard let (m, _) = try? manifest(for: name) else { continue }
            for f in m.files where !f.lfs {
                if let oid = f.gitOid, hasBlob(f.sha256, size: f.size) { index[oid] = f.sha256 }
            }
        }
        return index
    }

    /// Makes the renames of newly adopted blobs durable (one `fsync` of `blobs/` instead of one per blob);
    /// called before a manifest that names them is written.
    public func syncBlobs() throws {
        try FileSystem.syncDirectory(blobsDirectory)
    }

    /// Partial-file path for a download key.
    public func partialPath(key: String) -> String { "\(partialsDirectory)/\(key).part" }

    /// Removes leftovers of interrupted runs that nothing will resume: per-run partial files of small
    /// files (`gitblob-…-<pid>-<random>.part`) and temp files of atomic writes (`*.tmp-<pid>-<random>`),
    /// once untouched for `olderThan` seconds. Age, not process ids, decides, since another process (or a
    /// container sharing DSM_HOME) may be using a recent one.
    public func removeAbandonedFiles(olderThan seconds: Double = 3600) {
        abandonedFiles(olderThan: seconds, under: [partialsDirectory, manifestsDirectory]).forEach(FileSystem.remove)
    }

    /// The leftovers `removeAbandonedFiles` would remove, under `directories` (searched recursively).
    public func abandonedFiles(olderThan seconds: Double, under directories: [String]) -> [String] {
        let cutoff = Date().timeIntervalSince1970 - seconds
        var found: [String] = []
        func sweep(_ dir: String) {
            for entry in FileSystem.list(dir) {
                let path = dir + "/" + entry
                if FileSystem.isDirectory(path) { sweep(path); continue }
                let isPrivatePartial = entry.hasPrefix("gitblob-") && entry.hasSuffix(".part")
                guard isPrivatePartial || TemporaryName.isTemporary(entry),
                      let mtime = FileSystem.modificationTime(path), mtime < cutoff else { continue }
                found.append(path)
            }
        }
        directories.forEach(sweep)
        return found
    }

    /// Lock file path for a key (one per blob being downloaded, one for manifest writes).
    public func lockPath(_ key: String) -> String { "\(locksDirectory)/\(key).lock" }

    // MARK: - Manifests

    /// Writes the manifest for `name` atomically; returns the manifest digest (SHA-256 of its canonical bytes).
    @discardableResult
    public func writeManifest(_ manifest: Manifest, for name: ModelName) throws -> String {
        let bytes = try manifest.encoded()
        let digest = Digest.sha256Hex(bytes)
        let lock = try FileLock.acquire(lockPath("manifests"))
        defer { withExtendedLifetime(lock) {} }
        try FileSystem.writeAtomically(bytes, to: manifestsDirectory + "/" + name.manifestRelativePath)
        return digest
    }

    /// Reads the manifest of `name`, or nil if there is none.
    public func manifest(for name: ModelName) throws -> (manifest: Manifest, digest: String)? {
        let path = manifestsDirectory + "/" + name.manifestRelativePath
        guard FileSystem.exists(path) else { return nil }
        let bytes = try FileSystem.readAll(path)
        return (try Manifest.decode(bytes), Digest.sha256Hex(bytes))
    }

    /// Every stored name, sorted.
    public func names() -> [ModelName] {
        var found: [ModelName] = []
        func walk(_ dir: String, _ prefix: [String]) {
            for entry in FileSystem.list(dir) {
                let path = dir + "/" + entry
                if FileSystem.isDirectory(path) {
                    walk(path, prefix + [entry])
                } else if entry.hasSuffix(".json"), let name = ModelName(folders: prefix, leaf: String(entry.dropLast(5))) {
                    found.append(name)
                }
            }
        }
        walk(manifestsDirectory, [])
        return found.sorted()
    }
}
