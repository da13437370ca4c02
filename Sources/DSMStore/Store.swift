import Foundation
import DSMSystem

/// The local content-addressed store under `DSM_HOME` (default `~/.dsm`):
///
/// ```
/// blobs/sha256-<hex>            verified content, read-only, stored once however many models use it
/// manifests/<name>/<tag>.json   what each model is made of (also kept as a blob under its digest)
/// partials/<key>.part[.state]   downloads in progress and their durable progress records
/// index/gitblob/<sha1>          SHA-256 of small files already stored, by their git blob id
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

    /// Creates the folders.
    public func prepare() throws {
        for dir in [blobsDirectory, partialsDirectory, manifestsDirectory, locksDirectory, root + "/index/gitblob"] {
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

    /// Moves a verified file into the store as blob `sha256` (atomic rename, read-only).
    /// If the blob is already there, the new copy is dropped.
    public func adoptBlob(from path: String, sha256: String) throws {
        let target = blobPath(sha256)
        if FileSystem.exists(target) {
            FileSystem.remove(path)
            return
        }
        FileSystem.setMode(path, 0o444)
        try FileSystem.rename(path, to: target)
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

    /// The SHA-256 of a small file already stored, by its git blob id.
    public func sha256(forGitBlob oid: String) -> String? {
        guard Hex.isLowerHex(oid, length: 40),
              let bytes = try? FileSystem.readAll("\(root)/index/gitblob/\(oid)") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Hex.isLowerHex(text, length: 64) && hasBlob(text) ? text : nil
    }

    /// Remembers that git blob `oid` has SHA-256 `sha256`.
    public func recordGitBlob(_ oid: String, sha256: String) throws {
        guard Hex.isLowerHex(oid, length: 40) else { return }
        try FileSystem.writeAtomically(Array((sha256 + "\n").utf8), to: "\(root)/index/gitblob/\(oid)")
    }

    /// Partial-file path for a download key.
    public func partialPath(key: String) -> String { "\(partialsDirectory)/\(key).part" }

    /// Removes per-process partial files (`<key>-<pid>.part`) left by processes that no longer run.
    public func removeStalePrivatePartials() {
        for entry in FileSystem.list(partialsDirectory) where entry.hasSuffix(".part") {
            let stem = entry.dropLast(5)
            guard let dash = stem.lastIndex(of: "-"), let pid = Int32(stem[stem.index(after: dash)...]) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { FileSystem.remove(partialsDirectory + "/" + entry) }
        }
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
                } else if entry.hasSuffix(".json"), !prefix.isEmpty,
                          let name = try? ModelName(path: prefix, tag: String(entry.dropLast(5))) {
                    found.append(name)
                }
            }
        }
        walk(manifestsDirectory, [])
        return found.sorted()
    }
}
