import Foundation
import DSMStore
import DSMSystem

/// `gc` and `verify`: what the store holds that no version needs, and whether every blob still has its digest.
extension Registry {
    /// Commands that add blobs (pull, convert, quantize, create) hold this lock shared from their first blob until
    /// their version is recorded; `gc` takes it exclusively, so it never deletes a blob that is about to be used.
    public func blobWriterLock() throws -> FileLock { try FileLock.acquire(store.lockPath("gc"), shared: true) }

    /// Every blob some version of some name references, and, so that nothing is lost, every blob a view left by
    /// an older dsm references (`namesFromOlderStores`).
    public func referencedBlobs() throws -> Set<String> {
        var used = Set<String>()
        for name in names() {
            if let state = try state(of: name) {
                for v in state.versions { used.formUnion(try manifest(of: v, in: name).files.map(\.sha256)) }
            }
        }
        for name in namesFromOlderStores() {
            if let (m, _) = try store.manifest(for: name) { used.formUnion(m.files.map(\.sha256)) }
        }
        return used
    }

    /// What `gc` removed.
    public struct Collection: Codable, Sendable {
        public var blobs: [String] = []
        public var bytes: Int64 = 0
        public var partials: [String] = []
        public var versionManifests: [String] = []
        /// Temp files of registry, manifest and blob writes a crash interrupted (older than an hour).
        public var temporaries: [String] = []
        /// Folders of links runtimes read (`Store.versionFolder`) whose versions are gone.
        public var versionFolders: [String] = []
    }

    /// Removes blobs no version references, version manifests no state references, and partial downloads older
    /// than `partialAge` seconds. Waits for running pulls/conversions to record their versions first.
    public func collectGarbage(partialAge: Double = 3600, dryRun: Bool = false) throws -> Collection {
        try store.prepare()
        let lock = try FileLock.acquire(store.lockPath("gc"))
        defer { withExtendedLifetime(lock) {} }
        var out = Collection()
        let used = try referencedBlobs()
        for entry in FileSystem.list(store.blobsDirectory) where entry.hasPrefix("sha256-") && !TemporaryName.isTemporary(entry) {
            let sha = String(entry.dropFirst(7))
            guard !used.contains(sha) else { continue }
            out.blobs.append(sha)
            out.bytes += FileSystem.fileSize(store.blobsDirectory + "/" + entry) ?? 0
            if !dryRun { FileSystem.remove(store.blobsDirectory + "/" + entry) }
        }
        // Under the exclusive gc lock no publish is between its manifest write and its commit, so the files of a name
        // with no state are what a first publish killed before its commit left (a name with only an older dsm's
        // view is left alone: dsm does not read it, but its files are the user's until they re-pull it).
        for name in folders() {
            let state = try state(of: name)
            if state == nil, try store.manifest(for: name) != nil { continue }
            let keep = Set(state?.versions.map(\.manifest) ?? [])
            let dir = folder(name) + "/versions"
            for entry in FileSystem.list(dir) where entry.hasPrefix("sha256-") && entry.hasSuffix(".json") {
                let digest = String(entry.dropFirst(7).dropLast(5))
                guard !keep.contains(digest) else { continue }
                out.versionManifests.append("\(name)@sha256:\(digest)")
                if !dryRun { FileSystem.remove(dir + "/" + entry) }
            }
            if state == nil, !dryRun {
                FileSystem.remove(historyPath(name))  // only uncommitted lines: there is no state they belong to
                FileSystem.removeEmptyDirectory(dir)
                FileSystem.removeEmptyDirectory(folder(name))  // stays if a temp file is left there; the age rule below removes that later
            }
        }
        try removeStaleVersionFolders(dryRun: dryRun, into: &out)
        let now = Date().timeIntervalSince1970
        // `state.json.tmp-…`, `<tag>.json.tmp-…` and the like, left by a kill between writing a temp file and renaming
        // it, by the store's own rule: age decides (registry changes do not take the gc lock, and a running one has a
        // new temp file).
        for path in store.abandonedFiles(olderThan: 3600, under: [directory, store.manifestsDirectory, store.blobsDirectory]) {
            out.temporaries.append(String(path.dropFirst(store.root.count + 1)))
            if !dryRun { FileSystem.remove(path) }
        }
        for entry in FileSystem.list(store.partialsDirectory) {
            let path = store.partialsDirectory + "/" + entry
            guard let mtime = FileSystem.modificationTime(path), now - mtime > partialAge else { continue }
            // A partial that a running pull holds the lock of is in use, however old.
            if let key = entry.split(separator: ".").first, FileSystem.exists(store.lockPath(String(key))),
               (try? FileLock.tryAcquire(store.lockPath(String(key)))) == nil { continue }
            out.partials.append(entry)
            if !dryRun { FileSystem.removeTree(path) }
        }
        if !dryRun { try store.syncBlobs() }
        return out
    }

    /// Version folders (`Store.versionFolder`) whose digest no recorded version has any more, and staging folders
    /// a killed `dsm serve` left.
    private func removeStaleVersionFolders(dryRun: Bool, into out: inout Collection) throws {
        var live = Set<String>()
        for name in names() { for v in try state(of: name)?.versions ?? [] { live.insert(v.manifest) } }
        let dir = store.versionFoldersDirectory
        let now = Date().timeIntervalSince1970
        for entry in FileSystem.list(dir) where !live.contains(entry) {
            // A staging folder is a running server's until it is an hour old.
            if TemporaryName.isTemporary(entry), now - (FileSystem.modificationTime(dir + "/" + entry) ?? now) < 3600 { continue }
            out.versionFolders.append(entry)
            if !dryRun { FileSystem.removeTree(dir + "/" + entry) }
        }
    }

    /// One problem `verify` found.
    public struct Problem: Codable, Sendable {
        public var blob: String
        public var issue: String
        public var usedBy: [String]
        public var quarantined: String?
    }

    /// Re-hashes every blob `names` reference (all names when empty) and checks each version manifest's digest.
    /// With `repair`, corrupted blobs move to `quarantine/` so a later pull fetches them again.
    public func verify(_ only: [ModelName] = [], repair: Bool = false) throws -> (checked: Int, problems: [Problem]) {
        var users: [String: [String]] = [:]
        var problems: [Problem] = []
        for name in (only.isEmpty ? names() : only) {
            var manifests: [(String, Manifest)] = []
            if let state = try state(of: name) {
                for v in state.versions {
                    do { manifests.append(("\(name)@v\(v.number)", try manifest(of: v, in: name))) } catch {
                        problems.append(Problem(blob: "manifest sha256:\(v.manifest)", issue: "\(error)", usedBy: ["\(name)@v\(v.number)"]))
                    }
                }
            }
            for (label, m) in manifests { for f in m.files { users[f.sha256, default: []].append("\(label) \(f.path)") } }
        }
        for (sha, usedBy) in users.sorted(by: { $0.key < $1.key }) {
            let path = store.blobPath(sha)
            guard FileSystem.exists(path) else {
                let quarantined = FileSystem.exists(store.root + "/quarantine/sha256-\(sha)")
                problems.append(Problem(blob: sha, issue: (quarantined ? "missing (quarantined as corrupted)" : "missing")
                    + "; pulling the model again, or `dsm create` from the same file, stores it again", usedBy: usedBy))
                continue
            }
            let actual = try FileHasher.sha256(path: path)
            guard actual != sha else { continue }
            var p = Problem(blob: sha, issue: "corrupted: its content hashes to \(actual)", usedBy: usedBy)
            if repair {
                let q = store.root + "/quarantine"
                try FileSystem.createDirectory(q)
                try FileSystem.rename(path, to: q + "/sha256-\(sha)")
                p.quarantined = q + "/sha256-\(sha)"
            }
            problems.append(p)
        }
        return (users.count, problems)
    }
}
