import Foundation
import DSMArtifacts
import DSMFormats
import DSMRegistry
import DSMStore
import DSMSystem

/// Where `convert` and `quantize` write their GGUF: `-o PATH`, or a working file of a store write (`Ingest`)
/// that is adopted as a blob and recorded as a registry version at the end. With a split limit the GGUF is written
/// as parts (`GGUFSplitWriter`): beside `-o PATH` as `<stem>-00001-of-0000N.gguf` …, where the stem is PATH without
/// `.gguf` (or without its part suffix when PATH is itself named as a part); in the store as the files
/// `model-00001-of-0000N.gguf` … of the version, as one GGUF is its `model.gguf`.
struct GGUFOutput {
    /// The file, or the parts' path prefix.
    let destination: String
    let split: GGUFSplitLimit?
    /// The store written into, nil for `-o`.
    let store: Store?
    let cleanup: OutputCleanup
    private let write = WriteBox()

    var intoStore: Bool { store != nil }

    /// What the writer makes.
    var layout: GGUFOutputLayout { split.map { .split(prefix: destination, limit: $0) } ?? .file(destination) }

    /// The stem of a stored version's parts.
    static let storedStem = "model"

    /// Prepares the destination's folder and traps SIGINT/SIGTERM so an interrupted run leaves nothing.
    init(output: String?, split: GGUFSplitLimit? = nil, store: Store, command: String) throws {
        self.store = output == nil ? store : nil
        self.split = split
        if output == nil { try store.prepare() }
        if let output {
            let path = FileSystem.absolute(output)
            // The output replaces PATH by a rename: a device, a folder or a socket there would be replaced too.
            var st = stat()
            if lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
                throw CommandFailure(message: "-o \(TerminalText.escaped(output)) exists and is not a regular file (a folder, device, "
                                     + "link or socket); dsm replaces the output file whole, so give the path of a file")
            }
            destination = split == nil ? path : GGUFOutput.splitPrefix(path)
        } else {
            destination = Ingest.stagingPath(in: store, command, suffix: split == nil ? ".gguf" : "")
        }
        try FileManager.default.createDirectory(atPath: FileSystem.parent(of: destination), withIntermediateDirectories: true)
        cleanup = OutputCleanup(destination: destination, removeDestination: output == nil, split: split != nil, command: command)
    }

    /// The parts' prefix for `-o PATH`: `out.gguf` and `out-00001-of-00003.gguf` give `out`; other names stay whole.
    static func splitPrefix(_ path: String) -> String {
        if let part = GGUFSplit.parse(path) { return part.stem }
        return path.hasSuffix(".gguf") ? String(path.dropLast(5)) : path
    }

    /// Starts the store write (`Ingest`: the gc lock) before the output is written; a run that fails while
    /// planning, before this, touches nothing in the store. Nothing to do for `-o`.
    func begin() throws {
        if let store, write.ingest == nil { write.ingest = try Ingest(store: store) }
    }

    /// Moves the finished files (with their SHA-256, in order) into the store and records them as a version of
    /// `name`: `model.gguf`, or the parts `model-00001-of-0000N.gguf` ….
    func register(_ files: [(file: GGUFOutputFile, sha256: String)], as name: ModelName, provenance: Provenance) throws {
        try begin()
        guard let ingest = write.ingest else { return }
        var entries: [Manifest.File] = []
        for (i, f) in files.enumerated() {
            try ingest.adopt(f.file.path, sha256: f.sha256)
            let path = split == nil ? "model.gguf" : GGUFSplit.fileName(stem: GGUFOutput.storedStem, index: i + 1, count: files.count)
            entries.append(.init(path: path, size: Int64(f.file.bytes), sha256: f.sha256, gitOid: nil, lfs: true))
        }
        try ingest.commit(name, kind: .gguf, provenance: provenance, files: entries, tool: "dsm \(DSM.version)")
    }

    /// Hashes the written files when `wanted` (a store write always is): nil digests otherwise.
    func hashes(_ files: [GGUFOutputFile], wanted: Bool) throws -> [String]? {
        guard intoStore || wanted else { return nil }
        return try files.map { try FileHasher.sha256(path: $0.path) }
    }

    /// The name a result registers: `<base>-<suffix>` (`deepseek-r1:7b-bf16`, `hf.co/ORG/NAME:q4_K_M` for a `latest`
    /// base), or `local/<localName>:<suffix>` when the input is not a stored model.
    static func derivedName(base: ModelName?, localName: String, suffix: String) throws -> ModelName {
        let base = try base ?? ModelName(path: ["local", localName.sanitizedComponent()], tag: "latest")
        return try ModelName(path: base.path, tag: (base.tag == "latest" ? "" : base.tag + "-") + suffix)
    }
}

/// Holds the store write once it has begun.
private final class WriteBox: @unchecked Sendable {
    var ingest: Ingest?
}

/// Removes what an unfinished convert or quantize wrote (the writer's temp files, and the working files of a
/// run into the store) on an error and on SIGINT/SIGTERM, then exits with 130 for a signal.
final class OutputCleanup: @unchecked Sendable {
    /// The file, or the prefix of the split parts.
    let destination: String
    let removeDestination: Bool
    let split: Bool
    private var trap: SignalTrap?

    init(destination: String, removeDestination: Bool, split: Bool = false, command: String) {
        self.destination = destination
        self.removeDestination = removeDestination
        self.split = split
        trap = SignalTrap { [self] in
            removeAll()
            Console.error("\(command): interrupted; nothing was written")
            exit(130)
        }
    }

    /// The output is complete: a signal from now on must not delete it (registration steps are atomic).
    func disarm() { trap?.disarm() }

    /// Deletes this process's temp files beside the destination (and the destination for store conversions); for a
    /// split output, this process's temp files of every part (and the parts for store conversions).
    func removeAll() {
        let dir = (destination as NSString).deletingLastPathComponent
        let prefix = TemporaryName.ownPrefix(beside: destination)
        let stem = (destination as NSString).lastPathComponent
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            var remove = name.hasPrefix(prefix)
            if split, name.hasPrefix(stem + "-") {
                let part = String(decoding: name.utf8.prefix(stem.utf8.count + "-00001-of-00001.gguf".utf8.count), as: UTF8.self)
                if GGUFSplit.parse(part)?.stem == stem {
                    remove = name == part ? removeDestination : name.hasPrefix(TemporaryName.ownPrefix(beside: part))
                }
            }
            if remove { try? FileManager.default.removeItem(atPath: dir + "/" + name) }
        }
        if removeDestination && !split { try? FileManager.default.removeItem(atPath: destination) }
    }
}
