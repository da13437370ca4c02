import ArgumentParser
import DSMStore
import DSMRegistry
import DSMSystem

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
        let (parsed, selector) = try RegistryCommandSupport.parse(name)
        let registry = Registry(store: global.store)
        let found: ResolvedVersion?
        do { found = try registry.lookup(parsed, selector) } catch let e as ReleaseError { throw CommandFailure(message: e.description) }
        guard let found else {
            throw CommandFailure(message: "no model named \(parsed) in \(global.store.root); `dsm list` shows what is there")
        }
        let out = Output(found, state: try registry.state(of: parsed), store: global.store)
        if global.json { return try Console.json(out) }
        Console.out(out.text(found.manifest))
    }
}

extension Show.Output {
    /// What `show` reports of `found`, with every version of its name from `state`.
    init(_ found: ResolvedVersion, state: ReleaseState?, store: Store) {
        let (m, digest) = (found.manifest, found.digest)
        let versions = state?.versions.map { Show.VersionInfo(version: $0.number, manifest: $0.manifest, createdAt: $0.createdAt,
                                                              channels: state!.references(to: $0.number)) }
            ?? [Show.VersionInfo(version: 1, manifest: digest, createdAt: m.createdAt, channels: ["stable"])]
        self.init(name: m.name, kind: m.kind.rawValue, manifest: digest, source: m.source, createdAt: m.createdAt, tool: m.tool,
                  size: m.totalSize, files: m.files.map {
                      .init(path: $0.path, size: $0.size, sha256: $0.sha256, blob: store.blobPath($0.sha256), lfs: $0.lfs)
                  }, version: found.number, versions: versions, routing: state?.routing ?? Routing(stable: 1, canary: nil, weight: 0),
                  tags: state?.tags ?? [:])
    }

    /// The text form. Everything in it comes from a manifest, which may come from a bundle made elsewhere: printed
    /// through TerminalText.escaped (tables escape every cell), so no control character reaches the terminal.
    func text(_ m: Manifest) -> String {
        let e = TerminalText.escaped
        let head: String
        let parts = m.ggufParts.count > 1 ? " (\(m.ggufParts.count) split parts)" : ""
        if m.kind == .gguf, case .pulled(let endpoint, let repo, let revision, let commit, let selection) = m.provenance {
            head = """
            name:     \(e(name))
            kind:     GGUF\(parts), pulled ready-made\(selection.map { ", " + e($0) } ?? "")
            source:   \(e(repo)) @ \(e(revision)) (commit \(e(commit)))
            endpoint: \(e(endpoint))
            manifest: sha256:\(manifest)
            pulled:   \(e(m.createdAt)) by \(e(m.tool))
            size:     \(ByteFormat.string(size)) in \(files.count) files

            """
        } else if m.kind == .gguf {
            head = """
            name:     \(e(name))
            kind:     GGUF\(parts), \(m.provenance.verb) from \(e(m.source.repo)) (\(m.source.commit.count == 64 ? "sha256:" : "")\(e(m.source.commit))), \(e(m.source.revision))
            manifest: sha256:\(manifest)
            created:  \(e(m.createdAt)) by \(e(m.tool))
            size:     \(ByteFormat.string(size))

            """
        } else {
            head = """
            name:     \(e(name))
            kind:     checkpoint (Hugging Face snapshot)\(m.source.selection.map { ", " + e($0) } ?? "")
            source:   \(e(m.source.repo)) @ \(e(m.source.revision)) (commit \(e(m.source.commit)))
            endpoint: \(e(m.source.endpoint))
            manifest: sha256:\(manifest)
            pulled:   \(e(m.createdAt)) by \(e(m.tool))
            size:     \(ByteFormat.string(size)) in \(files.count) files

            """
        }
        let fileTable = Table.render(header: ["PATH", "SIZE", "SHA256", "BLOB"], rows: files.map {
            [$0.path, ByteFormat.string($0.size), $0.sha256, $0.blob]
        })
        let versionTable = Table.render(header: ["VERSION", "MANIFEST", "CREATED", "CHANNELS"], rows: versions.map {
            [($0.version == version ? "*v" : "v") + "\($0.version)", "sha256:" + $0.manifest.prefix(12), $0.createdAt,
             $0.channels.map { $0 == "canary" ? "canary (\(routing?.weight ?? 0)%)" : $0 }.joined(separator: ", ")]
        })
        return head + "\n" + fileTable + "\n\n" + versionTable
    }
}
