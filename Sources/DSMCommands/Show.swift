import ArgumentParser
import DSMStore
import DSMPull
import DSMRegistry

/// `dsm show NAME`: one model's source and files.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a stored model: its source, files, sizes, digests and blob paths.")

    @Argument(help: "A name from `dsm list`, e.g. deepseek-r1:7b, or NAME@v2 / NAME@canary / NAME@TAG for one version.")
    var name: String

    @OptionGroup var global: GlobalOptions

    struct Output: Codable {
        struct File: Codable {
            var path: String
            var size: Int64
            var sha256: String
            var blob: String
            var lfs: Bool
        }
        var name: String
        var kind: String
        var manifest: String
        var source: Manifest.Source
        var createdAt: String
        var tool: String
        var size: Int64
        var files: [File]
        /// The version shown, all versions of the name, and where its channels point.
        var version: Int?
        var versions: [VersionInfo]
        var routing: Routing?
        var tags: [String: Int]
        enum CodingKeys: String, CodingKey { case name, kind, manifest, source, createdAt = "created_at", tool, size, files, version, versions, routing, tags }
    }

    struct VersionInfo: Codable {
        var version: Int
        var manifest: String
        var createdAt: String
        var channels: [String]
        enum CodingKeys: String, CodingKey { case version, manifest, createdAt = "created_at", channels }
    }

    func run() throws {
        let store = global.store
        let (parsed, selector) = try RegistryCommandSupport.parse(name)
        let registry = Registry(store: store)
        let state = try registry.state(of: parsed)
        let found: ResolvedVersion?
        do { found = try registry.lookup(parsed, selector) } catch let e as ReleaseError { throw CommandFailure(message: e.description) }
        guard let found else {
            throw CommandFailure(message: "no model named \(parsed) in \(store.root); `dsm list` shows what is there")
        }
        let (m, digest, number) = (found.manifest, found.digest, found.number)
        let versions = state?.versions.map { VersionInfo(version: $0.number, manifest: $0.manifest, createdAt: $0.createdAt,
                                                         channels: state!.references(to: $0.number)) }
            ?? [VersionInfo(version: 1, manifest: digest, createdAt: m.createdAt, channels: ["stable"])]
        let out = Output(name: m.name, kind: m.kind, manifest: digest, source: m.source, createdAt: m.createdAt, tool: m.tool,
                         size: m.totalSize, files: m.files.map {
                             .init(path: $0.path, size: $0.size, sha256: $0.sha256, blob: store.blobPath($0.sha256), lfs: $0.lfs)
                         }, version: number, versions: versions, routing: state?.routing ?? Routing(stable: 1, canary: nil, weight: 0),
                         tags: state?.tags ?? [:])
        if global.json {
            try Console.json(out)
            return
        }
        if m.kind == "gguf" {
            Console.out("""
            name:     \(out.name)
            kind:     GGUF, \(["dsm quantize": "quantized", "dsm create": "registered"][m.source.endpoint] ?? "converted") from \(m.source.repo) (\(m.source.commit.count == 64 ? "sha256:" : "")\(m.source.commit)), \(m.source.revision)
            manifest: sha256:\(digest)
            created:  \(m.createdAt) by \(m.tool)
            size:     \(ByteFormat.string(out.size))

            """)
        } else {
            Console.out("""
            name:     \(out.name)
            source:   \(m.source.repo) @ \(m.source.revision) (commit \(m.source.commit))
            endpoint: \(m.source.endpoint)
            manifest: sha256:\(digest)
            pulled:   \(m.createdAt) by \(m.tool)
            size:     \(ByteFormat.string(out.size)) in \(out.files.count) files

            """)
        }
        Console.out(Table.render(header: ["PATH", "SIZE", "SHA256", "BLOB"], rows: out.files.map {
            [$0.path, ByteFormat.string($0.size), $0.sha256, $0.blob]
        }))
        Console.out("")
        Console.out(Table.render(header: ["VERSION", "MANIFEST", "CREATED", "CHANNELS"], rows: versions.map {
            [($0.version == number ? "*v" : "v") + "\($0.version)", "sha256:" + $0.manifest.prefix(12), $0.createdAt,
             $0.channels.map { $0 == "canary" ? "canary (\(out.routing?.weight ?? 0)%)" : $0 }.joined(separator: ", ")]
        }))
    }
}
