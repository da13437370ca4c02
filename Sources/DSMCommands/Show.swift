import ArgumentParser
import DSMStore
import DSMPull

/// `dsm show NAME`: one model's source and files.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a stored model: its source, files, sizes, digests and blob paths.")

    @Argument(help: "A name from `dsm list`, e.g. deepseek-r1:7b.")
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
        enum CodingKeys: String, CodingKey { case name, kind, manifest, source, createdAt = "created_at", tool, size, files }
    }

    func run() throws {
        let store = global.store
        let parsed: ModelName
        do { parsed = try ModelName(parsing: name) } catch { throw CommandFailure(message: "\(error)") }
        guard let (m, digest) = try store.manifest(for: parsed) else {
            throw CommandFailure(message: "no model named \(parsed) in \(store.root); `dsm list` shows what is there")
        }
        let out = Output(name: m.name, kind: m.kind, manifest: digest, source: m.source, createdAt: m.createdAt, tool: m.tool,
                         size: m.totalSize, files: m.files.map {
                             .init(path: $0.path, size: $0.size, sha256: $0.sha256, blob: store.blobPath($0.sha256), lfs: $0.lfs)
                         })
        if global.json {
            try Console.json(out)
            return
        }
        if m.kind == "gguf" {
            Console.out("""
            name:     \(out.name)
            kind:     GGUF, \(m.source.endpoint == "dsm quantize" ? "quantized" : "converted") from \(m.source.repo) (\(m.source.commit.count == 64 ? "sha256:" : "")\(m.source.commit)), \(m.source.revision)
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
    }
}
