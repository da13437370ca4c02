import Foundation
import DSMRegistry
import DSMStore
import DSMSystem

/// Where `convert` and `quantize` write their one GGUF: `-o PATH`, or a unique working file in the store's
/// `partials/` (swept if abandoned) that is adopted as a blob and recorded as a registry version at the end.
struct GGUFOutput {
    let destination: String
    let intoStore: Bool
    let cleanup: OutputCleanup

    /// Prepares the destination's folder and traps SIGINT/SIGTERM so an interrupted run leaves nothing.
    init(output: String?, store: Store, command: String) throws {
        intoStore = output == nil
        if intoStore { try store.prepare() }
        destination = output.map(FileSystem.absolute)
            ?? store.partialsDirectory + "/\(command).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).gguf"
        try FileManager.default.createDirectory(atPath: FileSystem.parent(of: destination), withIntermediateDirectories: true)
        cleanup = OutputCleanup(destination: destination, removeDestination: intoStore, command: command)
    }

    /// Moves the finished file into the store and records it as a version of `name`.
    func register(sha256: String, bytes: Int, as name: ModelName, store: Store, source: Manifest.Source) throws {
        try store.adoptBlob(from: destination, sha256: sha256)
        try store.syncBlobs()
        let manifest = Manifest(name: name.description, kind: "gguf", source: source,
                                files: [.init(path: "model.gguf", size: Int64(bytes), sha256: sha256, gitOid: nil, lfs: true)],
                                createdAt: ISO8601DateFormatter().string(from: Date()), tool: "dsm \(DSM.version)")
        try Registry(store: store).publish(manifest, as: name)
    }

    /// The name a result registers: `<base>-<suffix>` (`deepseek-r1:7b-bf16`, `hf.co/ORG/NAME:q4_K_M` for a `latest`
    /// base), or `local/<localName>:<suffix>` when the input is not a stored model.
    static func derivedName(base: ModelName?, localName: String, suffix: String) throws -> ModelName {
        let base = try base ?? ModelName(path: ["local", localName.sanitizedComponent()], tag: "latest")
        return try ModelName(path: base.path, tag: (base.tag == "latest" ? "" : base.tag + "-") + suffix)
    }
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
        let prefix = (destination as NSString).lastPathComponent + ".tmp-\(getpid())-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
        if removeDestination { try? FileManager.default.removeItem(atPath: destination) }
    }
}
