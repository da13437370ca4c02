import ArgumentParser
import Foundation
import DSMRegistry
import DSMStore
import DSMSystem

/// `dsm create NAME --from PATH`: register a local GGUF file or checkpoint folder as a new version of NAME.
struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register a local GGUF file or Hugging Face checkpoint folder as a new version of a name.",
        discussion: "The files are copied into the store (the originals are left alone). The first version of a name is its stable version; later ones are rolled out with `dsm release`.")

    @Argument(help: "The name, e.g. my-r1:7b.") var name: String
    @Option(help: "A .gguf file or a checkpoint folder.") var from: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let (model, selector) = try RegistryCommandSupport.parse(name)
        guard selector == nil else { throw CommandFailure(message: "a new version gets its number itself; name it without @") }
        let store = global.store
        try store.prepare()
        let registry = Registry(store: store)
        let writing = try registry.blobWriterLock()
        defer { withExtendedLifetime(writing) {} }
        var sources: [(relative: String, path: String)] = []
        if FileSystem.isDirectory(from) {
            for entry in FileSystem.list(from).sorted() where !entry.hasPrefix(".") {
                let path = from + "/" + entry
                if !FileSystem.isDirectory(path) { sources.append((entry, path)) }
            }
            guard sources.contains(where: { $0.relative == "config.json" }) else {
                throw CommandFailure(message: "\(from) has no config.json, so it is not a Hugging Face checkpoint folder")
            }
        } else if FileSystem.exists(from) {
            let magic = try FileHandle(forReadingFrom: URL(fileURLWithPath: from)).read(upToCount: 4) ?? Data()
            guard Array(magic) == Array("GGUF".utf8) else {
                throw CommandFailure(message: "\(from) is not a GGUF file (it does not start with \"GGUF\")")
            }
            sources.append(("model.gguf", from))
        } else {
            throw CommandFailure(message: "\(from) does not exist")
        }
        var files: [Manifest.File] = []
        for (relative, path) in sources {
            // The copy is hashed, not the original: the store holds exactly what the digest says, even if the
            // original changes meanwhile. One read of the source, one of the (cached) copy.
            let tmp = store.partialsDirectory + "/create.tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.copyItem(atPath: path, toPath: tmp)
            let sha = try FileHasher.sha256(path: tmp)
            let size = FileSystem.fileSize(tmp) ?? 0
            if store.hasBlob(sha, size: size) {
                FileSystem.remove(tmp)
            } else {
                // The copy must be on disk before a version names it (the blob rename is synced by syncBlobs below).
                try RandomAccessFile(path: tmp, flags: O_RDONLY).sync()
                try store.adoptBlob(from: tmp, sha256: sha)
            }
            files.append(.init(path: relative, size: size, sha256: sha, gitOid: nil, lfs: size >= 1 << 20))
        }
        try store.syncBlobs()
        let kind = sources.count == 1 && sources[0].relative == "model.gguf" ? "gguf" : "hf-snapshot"
        let manifest = Manifest(name: model.description, kind: kind,
                                source: .init(endpoint: "dsm create", repo: FileSystem.absolute(from), revision: "local",
                                              commit: Registry.contentKey(kind: kind, files: files)),
                                files: files, createdAt: ISO8601DateFormatter().string(from: Date()), tool: "dsm \(DSM.version)")
        let (version, isNew) = try registry.publish(manifest, as: model)
        let stable = try registry.state(of: model)?.stable
        if global.json {
            try Console.json(CreateReport(name: model.description, version: version.number, new: isNew, stable: stable, manifest: version.manifest))
        } else if !global.quiet {
            Console.error(isNew ? "created \(model)@v\(version.number)" + (stable == version.number ? " (stable)" : "; \(model) still means v\(stable.map(String.init) ?? "-"); `dsm release \(model) --canary v\(version.number) --weight 10` rolls it out")
                                : "\(model)@v\(version.number) already holds exactly these files; nothing new was recorded")
            Console.out("\(model)@v\(version.number)")
        }
    }
}

struct CreateReport: Codable {
    var name: String
    var version: Int
    var new: Bool
    var stable: Int?
    var manifest: String
}
