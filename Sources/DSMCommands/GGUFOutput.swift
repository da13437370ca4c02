import Foundation
import DSMArtifacts
import DSMRegistry
import DSMStore
import DSMSystem

/// Where `convert` and `quantize` write their one GGUF: `-o PATH`, or a working file of a store write (`Ingest`)
/// that is adopted as a blob and recorded as a registry version at the end.
struct GGUFOutput {
    let destination: String
    /// The store written into, nil for `-o`.
    let store: Store?
    let cleanup: OutputCleanup
    private let write = WriteBox()

    var intoStore: Bool { store != nil }

    /// Prepares the destination's folder and traps SIGINT/SIGTERM so an interrupted run leaves nothing.
    init(output: String?, store: Store, command: String) throws {
        self.store = output == nil ? store : nil
        if output == nil { try store.prepare() }
        destination = output.map(FileSystem.absolute) ?? Ingest.stagingPath(in: store, command, suffix: ".gguf")
        try FileManager.default.createDirectory(atPath: FileSystem.parent(of: destination), withIntermediateDirectories: true)
        cleanup = OutputCleanup(destination: destination, removeDestination: output == nil, command: command)
    }

    /// Starts the store write (`Ingest`: the gc lock) before the output is written; a run that fails while
    /// planning, before this, touches nothing in the store. Nothing to do for `-o`.
    func begin() throws {
        if let store, write.ingest == nil { write.ingest = try Ingest(store: store) }
    }

    /// Moves the finished file into the store and records it as a version of `name`.
    func register(sha256: String, bytes: Int, as name: ModelName, provenance: Provenance) throws {
        try begin()
        guard let ingest = write.ingest else { return }
        try ingest.adopt(destination, sha256: sha256)
        try ingest.commit(name, kind: .gguf, provenance: provenance,
                          files: [.init(path: "model.gguf", size: Int64(bytes), sha256: sha256, gitOid: nil, lfs: true)],
                          tool: "dsm \(DSM.version)")
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

/// Removes what an unfinished convert or quantize wrote (the writer's temp file, and the working file of a
/// run into the store) on an error and on SIGINT/SIGTERM, then exits with 130 for a signal.
final class OutputCleanup: @unchecked Sendable {
    let destination: String
    let removeDestination: Bool
    private var trap: SignalTrap?

    init(destination: String, removeDestination: Bool, command: String) {
        self.destination = destination
        self.removeDestination = removeDestination
        trap = SignalTrap { [self] in
            removeAll()
            Console.error("\(command): interrupted; nothing was written")
            exit(130)
        }
    }

    /// The output is complete: a signal from now on must not delete it (registration steps are atomic).
    func disarm() { trap?.disarm() }

    /// Deletes this process's temp files beside the destination (and the destination for store conversions).
    func removeAll() {
        let dir = (destination as NSString).deletingLastPathComponent
        let prefix = TemporaryName.ownPrefix(beside: destination)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
        if removeDestination { try? FileManager.default.removeItem(atPath: destination) }
    }
}
