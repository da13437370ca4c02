import Foundation
import DSMRegistry
import DSMServeCore
import DSMStore
import DSMSystem

/// The folder a runtime reads a version from: one link per file of the manifest, under the file's own repo path, to
/// its blob. llama.cpp finds the parts of a split GGUF by their names beside the first, and vLLM reads a checkpoint
/// folder; both see the real names here while the store keeps content-named blobs.
///
/// The folder is named by the manifest's digest (`Store.versionFolder`), made once beside its final place and renamed
/// into it whole, then left read-only; `dsm gc` removes the folders of versions that are gone.
enum VersionFolder {
    /// The folder of `v`, made if missing. Every link lands inside it whatever the manifest says: its paths are
    /// checked on paper (`SnapshotLinks`) and each link's folder on disk once made (no symlinked folder may lead out).
    static func materialize(_ v: ResolvedVersion, store: Store) throws -> String {
        let dir = store.versionFolder(v.digest)
        if FileSystem.isDirectory(dir) { return dir }
        let links: [(path: String, sha256: String)]
        do { links = try SnapshotLinks.plan(v.manifest.files) } catch { throw SpawnError("\(v.name)@v\(v.number): \(error)") }
        let parentDir = (dir as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parentDir, withIntermediateDirectories: true)
        let staging = TemporaryName.inside(parentDir, label: v.digest)
        defer { FileSystem.removeTree(staging) }
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
        guard let realDir = realPath(staging) else { throw SpawnError("cannot resolve \(staging)") }
        var folders = Set<String>()
        for (path, sha) in links {
            let link = staging + "/" + path
            let parent = (link as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            guard let realParent = realPath(parent), realParent == realDir || realParent.hasPrefix(realDir + "/") else {
                throw SpawnError("\(v.name)@v\(v.number): the folder of '\(TerminalText.escaped(path))' resolves outside \(dir); refusing to link it")
            }
            folders.insert(parent)
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: store.blobPath(sha))
        }
        for folder in folders.sorted(by: { $0.count > $1.count }) + [staging] { chmod(folder, 0o555) }
        if rename(staging, dir) != 0 && !FileSystem.isDirectory(dir) {  // another server may have made it meanwhile
            throw SpawnError("cannot create \(dir): \(String(cString: strerror(errno)))")
        }
        return dir
    }

    /// `path` with every symlink resolved (realpath(3)), or nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
