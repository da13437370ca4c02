import Foundation
import DSMStore
import DSMSystem

/// The versioned registry on disk, beside the store's blobs (layout and crash rules in docs/registry.md):
///
///     registry/<name path>/<tag>/state.json     ReleaseState (schema 1), replaced atomically: the commit point
///     registry/<name path>/<tag>/history.jsonl  one HistoryEntry per committed change, appended and fsynced first
///     registry/<name path>/<tag>/versions/sha256-<digest>.json   every version's manifest, read-only, by digest
///     manifests/<name path>/<tag>.json          the stable version's manifest (what older code paths read)
///
/// Every change runs under the name's file lock: load, apply (pure, validated), append history, write state,
/// update the stable view. A crash leaves the old or the new state; a history line whose sequence number is above
/// the state's revision belongs to a change that never committed and is dropped.
public struct Registry: Sendable {
    public let store: Store

    public init(store: Store) { self.store = store }

    public var directory: String { store.root + "/registry" }

    func folder(_ name: ModelName) -> String { directory + "/" + name.relativePath }
    func statePath(_ name: ModelName) -> String { folder(name) + "/state.json" }
    func historyPath(_ name: ModelName) -> String { folder(name) + "/history.jsonl" }
    func versionPath(_ name: ModelName, _ digest: String) -> String { folder(name) + "/versions/sha256-\(digest).json" }

    /// Stores a version's manifest bytes under their digest (read-only; an existing copy is kept).
    func putVersionManifest(_ bytes: [UInt8], for name: ModelName) throws -> String {
        let digest = Digest.sha256Hex(bytes)
        let path = versionPath(name, digest)
        if !FileSystem.exists(path) {
            try FileSystem.writeAtomically(bytes, to: path, mode: 0o444)
        }
        return digest
    }
    func lockPath(_ name: ModelName) -> String {
        store.lockPath("registry-" + Digest.sha256Hex(Array(name.description.utf8)).prefix(32))
    }

    /// The committed state of `name`, or nil when the registry does not know it (a manifest from before the
    /// registry is imported as v1 by the first change).
    public func state(of name: ModelName) throws -> ReleaseState? {
        let path = statePath(name)
        guard FileSystem.exists(path) else { return nil }
        return try ReleaseState.decode(try FileSystem.readAll(path), path: path)
    }

    /// The manifest of a version of `name`, read from its immutable file and checked against its digest.
    public func manifest(of version: VersionRecord, in name: ModelName) throws -> Manifest {
        try Manifest.decode(try manifestBytes(of: version, in: name))
    }

    /// The bytes of a version's manifest file, checked against its digest.
    public func manifestBytes(of version: VersionRecord, in name: ModelName) throws -> [UInt8] {
        let bytes = try FileSystem.readAll(versionPath(name, version.manifest))
        guard Digest.sha256Hex(bytes) == version.manifest else {
            throw RegistryError("the manifest of \(name)@v\(version.number) (sha256:\(version.manifest)) is corrupted; run `dsm verify`")
        }
        return bytes
    }

    /// What a version holds: its kind and its files (paths, sizes, digests). Equal keys mean the same artifact, so
    /// re-pulling an unchanged revision, or making the same file again by another route, adds no version (the
    /// first version's provenance stays).
    public static func contentKey(_ manifest: Manifest) -> String { contentKey(kind: manifest.kind, files: manifest.files) }

    /// The content key of `kind` and `files` (see `contentKey(_:)`).
    public static func contentKey(kind: Manifest.Kind, files: [Manifest.File]) -> String {
        let lines = files.sorted { $0.path < $1.path }.map { "\($0.path)\u{0}\($0.size)\u{0}\($0.sha256)" }
        return Digest.sha256Hex(Array(([kind.rawValue] + lines).joined(separator: "\n").utf8))
    }

    /// Records `manifest` as a version of `name` (pull, convert, quantize, create). Returns the version and whether
    /// it is new; an artifact equal to an existing version adds nothing.
    @discardableResult
    public func publish(_ manifest: Manifest, as name: ModelName, command: String = Registry.commandLine) throws -> (VersionRecord, isNew: Bool) {
        // What is written must decode again: the same file rule as every manifest read (Manifest.problem(with:)).
        if let problem = Manifest.problem(with: manifest.files) { throw RegistryError("the manifest of \(name) \(problem)") }
        if try state(of: name) == nil, try store.manifest(for: name) == nil, let other = caseVariant(of: name) {
            // As Ollama does: names that differ only in case would be one name on a case-insensitive disk and are
            // easily confused by people, so a new name may not shadow an existing one.
            throw RegistryError("\(name) differs only in case from the stored name \(other); use \(other), or a different name")
        }
        try FileSystem.createDirectory(folder(name) + "/versions")
        let digest = try putVersionManifest(try manifest.encoded(), for: name)
        let key = Registry.contentKey(manifest)
        let (before, after) = try change(name, .addVersion(manifest: digest, contentKey: key, createdAt: manifest.createdAt), command: command)
        let version = after.versions.first { $0.contentKey == key }!
        // The same files again (a re-pull a second later): the manifest just written names no version, so it goes
        // now rather than showing up in `gc` as the manifest of a deleted version. Its digest is this call's own
        // (it holds this call's time); an equal digest is the version's file and stays.
        if version.manifest != digest { FileSystem.remove(versionPath(name, digest)) }
        return (version, after.lastNumber > before.lastNumber)
    }

    /// Applies `command` to `name` under its lock; returns the states before and after. A refused command throws
    /// `ReleaseError` and writes nothing; a command that changes nothing writes nothing.
    @discardableResult
    public func change(_ name: ModelName, _ command: ReleaseCommand, command line: String = Registry.commandLine) throws -> (ReleaseState, ReleaseState) {
        try change(name, command: line) { _ throws(ReleaseError) in command }
    }

    /// Like `change(_:_:command:)`, with the command made from the locked, current state: a selector such as
    /// `@canary` or a tag is resolved under the lock, so a concurrent promote or tag move cannot make it name a
    /// different version than the one the change is applied to.
    @discardableResult
    public func change(_ name: ModelName, command line: String = Registry.commandLine,
                       _ make: (ReleaseState) throws(ReleaseError) -> ReleaseCommand) throws -> (ReleaseState, ReleaseState) {
        try change(name, command: line, all: { state throws(ReleaseError) in [try make(state)] })
    }

    /// Applies the commands `make` returns for the locked, current state all together or not at all: the final state
    /// is computed first (`ReleaseState.applying`, pure); only if every command was accepted are their history
    /// entries appended (one per command that changed something) and the state written, once. Returns the states
    /// before and after; a refused command throws `ReleaseError` and writes nothing.
    @discardableResult
    public func change(_ name: ModelName, command line: String = Registry.commandLine,
                       all make: (ReleaseState) throws(ReleaseError) -> [ReleaseCommand]) throws -> (ReleaseState, ReleaseState) {
        try store.prepare()
        try FileSystem.createDirectory(folder(name))
        let lock = try FileLock.acquire(lockPath(name))
        defer { withExtendedLifetime(lock) {} }
        let before = try state(of: name) ?? ReleaseState(name: name.description)
        // A crash after the last commit and before its view update left the view stale: bring it up to date first.
        if before.revision > 0 { try syncView(name, before) }
        let steps = try before.applying(try make(before))
        guard var after = steps.last?.after else { return (before, before) }
        // History lines above the state's revision do not count until the state is written, so a crash anywhere in
        // here leaves the old state and its history.
        for (i, step) in steps.enumerated() {
            try appendHistory(name, HistoryEntry(sequence: before.revision + i + 1, time: Registry.now(), user: Registry.user, command: line,
                                                 verb: step.command.verb, version: Registry.version(of: step.command, in: step.after, before: step.before),
                                                 before: step.before.summary, after: step.after.summary))
        }
        after.revision = before.revision + steps.count
        try FileSystem.writeAtomically(Array(try Registry.encoder.encode(after)), to: statePath(name))
        // The first commit of a name made its folders: make their entries durable up to the store root.
        if before.revision == 0 { try syncParents(of: folder(name)) }
        try syncView(name, after)
        return (before, after)
    }

    /// The committed history of `name`, oldest first.
    public func history(of name: ModelName) throws -> [HistoryEntry] {
        guard FileSystem.exists(historyPath(name)) else { return [] }
        let revision = try state(of: name)?.revision ?? 0
        return try Registry.parseHistory(FileSystem.readAll(historyPath(name))).filter { $0.sequence <= revision }
    }

    /// Every name with a committed state, sorted. The registry is the only record of what a name means: the
    /// stable views in `manifests/` are written for people and other tools, never read back.
    public func names() -> [ModelName] {
        folders().filter { FileSystem.exists(statePath($0)) }.sorted()
    }

    /// Names that have a stable view in `manifests/` but no registry state: stored by a dsm from before the
    /// registry. dsm no longer reads them (see `olderStoreMessage`).
    public func namesFromOlderStores() -> [ModelName] {
        let known = Set(names())
        return store.names().filter { !known.contains($0) }
    }

    /// What to tell a user whose `name` was stored by a dsm from before the registry.
    public static func olderStoreMessage(_ name: ModelName) -> String {
        "\(name) was stored by an older dsm (before versions existed) and is not read any more: pull it again (`dsm pull`) "
            + "or register its files with `dsm create \(name) --from PATH`; `dsm gc` then removes what is left"
    }

    /// A stored name equal to `name` when case is ignored, but spelled differently.
    public func caseVariant(of name: ModelName) -> ModelName? {
        names().first { $0 != name && $0.description.lowercased() == name.description.lowercased() }
    }

    /// Every name with a folder under `registry/`, committed or not (a first change killed before its commit
    /// leaves a folder with a version manifest and no state).
    func folders() -> [ModelName] {
        var found: [ModelName] = []
        func walk(_ dir: String, _ prefix: [String]) {
            for entry in FileSystem.list(dir) where FileSystem.isDirectory(dir + "/" + entry) {
                if let n = ModelName(folders: prefix, leaf: entry) { found.append(n) } else { walk(dir + "/" + entry, prefix + [entry]) }
            }
        }
        walk(directory, [])
        return found
    }

    // MARK: - Internals

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return e
    }()

    /// Fsyncs every directory from `path`'s parent up to the store root, so newly made folders survive a crash.
    func syncParents(of path: String) throws {
        var dir = FileSystem.parent(of: path)
        while true {
            try FileSystem.syncDirectory(dir)
            if dir.count <= store.root.count { return }
            dir = FileSystem.parent(of: dir)
        }
    }

    /// Keeps `manifests/<name>.json` equal to the stable version's manifest (removed when there is none).
    func syncView(_ name: ModelName, _ state: ReleaseState) throws {
        let view = store.manifestsDirectory + "/" + name.manifestRelativePath
        guard let stable = state.stable, let v = state.version(stable) else {
            FileSystem.remove(view)
            return
        }
        let bytes = try FileSystem.readAll(versionPath(name, v.manifest))
        if FileSystem.exists(view), (try? FileSystem.readAll(view)) == bytes { return }
        try FileSystem.writeAtomically(bytes, to: view)
    }

    func appendHistory(_ name: ModelName, _ entry: HistoryEntry) throws {
        let path = historyPath(name)
        var line = Array(try JSONEncoder.compactSorted.encode(entry))
        line.append(UInt8(ascii: "\n"))
        if FileSystem.exists(path) {
            // Drop lines of changes that never committed (a crash between the append and the state write).
            let raw = try FileSystem.readAll(path)
            let kept = try Registry.parseHistory(raw).filter { $0.sequence < entry.sequence }
            if kept.count != raw.split(separator: UInt8(ascii: "\n")).count {
                var bytes: [UInt8] = []
                for e in kept { bytes += Array(try JSONEncoder.compactSorted.encode(e)) + [UInt8(ascii: "\n")] }
                try FileSystem.writeAtomically(bytes, to: path)
            }
        }
        try FileSystem.appendDurably(line, to: path)
    }

    /// The entries of a `history.jsonl` file; lines that do not decode (a torn last line) are skipped.
    public static func parseHistory(_ bytes: [UInt8]) throws -> [HistoryEntry] {
        bytes.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONDecoder().decode(HistoryEntry.self, from: Data($0)) }
    }

    static func version(of command: ReleaseCommand, in after: ReleaseState, before: ReleaseState) -> Int? {
        switch command {
        case .addVersion: return after.lastNumber
        case .release: return after.canary
        case .promote, .rollback: return after.stable
        case .tag(_, let v): return v
        case .untag(let t): return before.tags[t]
        case .remove(let v, _): return v
        }
    }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }

    static var user: String { CurrentProcess.userName }

    /// The command that made a change, as typed (dsm never takes secrets as arguments).
    public static var commandLine: String {
        (["dsm"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
    }
}

/// Why the registry could not be read or written.
public struct RegistryError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ message: String) { description = message }
}

extension JSONEncoder {
    static var compactSorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
