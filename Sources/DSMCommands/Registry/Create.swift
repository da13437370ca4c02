import ArgumentParser
import Foundation
import DSMArtifacts
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
        let ingest = try Ingest(store: global.store)
        defer { ingest.end() }
        let sources = try Create.sources(from)
        let files = try sources.map { try ingest.copy($0.path, as: $0.relative, label: "create") }
        let kind: Manifest.Kind = sources.count == 1 && sources[0].relative == "model.gguf" ? .gguf : .checkpoint
        let committed = try ingest.commit(model, kind: kind, provenance: .created(path: FileSystem.absolute(from),
                                                                                  contentKey: Registry.contentKey(kind: kind, files: files)),
                                          files: files, tool: "dsm \(DSM.version)")
        let (version, isNew, stable) = (committed.version, committed.isNew, committed.stable)
        if global.json {
            try Console.json(CreateReport(name: model.description, version: version.number, new: isNew, stable: stable, manifest: version.manifest))
        } else if !global.quiet {
            Console.error(isNew ? "created \(model)@v\(version.number)" + (stable == version.number ? " (stable)" : "; \(model) still means v\(stable.map(String.init) ?? "-"); `dsm release \(model) --canary v\(version.number) --weight 10` rolls it out")
                                : "\(model)@v\(version.number) already holds exactly these files; nothing new was recorded")
            Console.out("\(model)@v\(version.number)")
        }
    }
}

extension Create {
    /// The files `--from` names, by their path in the version: every regular file of a checkpoint folder (which
    /// must hold config.json), or one GGUF file as `model.gguf`.
    static func sources(_ from: String) throws -> [(relative: String, path: String)] {
        if FileSystem.isDirectory(from) {
            let sources = FileSystem.list(from).sorted().filter { !$0.hasPrefix(".") && !FileSystem.isDirectory(from + "/" + $0) }
                .map { (relative: $0, path: from + "/" + $0) }
            guard sources.contains(where: { $0.relative == "config.json" }) else {
                throw CommandFailure(message: "\(from) has no config.json, so it is not a Hugging Face checkpoint folder")
            }
            return sources
        }
        guard FileSystem.exists(from) else { throw CommandFailure(message: "\(from) does not exist") }
        let magic = try FileHandle(forReadingFrom: URL(fileURLWithPath: from)).read(upToCount: 4) ?? Data()
        guard Array(magic) == Array("GGUF".utf8) else {
            throw CommandFailure(message: "\(from) is not a GGUF file (it does not start with \"GGUF\")")
        }
        return [("model.gguf", from)]
    }
}

struct CreateReport: Codable {
    var name: String
    var version: Int
    var new: Bool
    var stable: Int?
    var manifest: String
}
