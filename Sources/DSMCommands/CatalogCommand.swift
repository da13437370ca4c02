import ArgumentParser
import Foundation
import DSMSystem
import DSMCatalog

/// `dsm catalog` (alias `search`): the models dsm knows by name.
struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "List the model catalog (names you can pull), optionally filtered.",
        aliases: ["search"]
    )

    @Argument(help: "Only entries whose name, repo or architecture contains this text.")
    var filter: String?

    @OptionGroup var global: GlobalOptions

    struct Row: Codable {
        var name: String
        var aliases: [String]
        var repo: String
        var revision: String
        var architecture: String
        var parameters: Int64
        var activeParameters: Int64?
        var sourceDtype: String
        var downloadBytes: Int64
        var defaultQuantization: String
        var convertible: Bool
        var hardware: CatalogEntry.Hardware
        var notes: String?
        /// The ready-made GGUF of this tag, and whether a pull takes it instead of the checkpoint.
        var gguf: CatalogEntry.GGUFSource?
        var pullsGGUF: Bool
        enum CodingKeys: String, CodingKey {
            case name, aliases, repo, revision, architecture, parameters, activeParameters = "active_parameters"
            case sourceDtype = "source_dtype", downloadBytes = "download_bytes", defaultQuantization = "default_quantization"
            case convertible, hardware, notes, gguf, pullsGGUF = "pulls_gguf"
        }
    }

    func run() throws {
        let catalog: Catalog
        do { catalog = try Catalog.load(environment: global.environment) } catch { throw CommandFailure(message: "\(error)") }
        let needle = filter?.lowercased()
        let rows = catalog.allEntries().filter { m in
            guard let needle else { return true }
            return m.canonicalName.contains(needle) || m.entry.repo.lowercased().contains(needle) || m.entry.architecture.lowercased().contains(needle)
                || (m.entry.gguf?.repo.lowercased().contains(needle) ?? false)
        }.map { m in
            Row(name: m.canonicalName, aliases: m.family.aliases(of: m.tag).map { "\(m.family.family):\($0)" }, repo: m.entry.repo,
                revision: m.entry.revision, architecture: m.entry.architecture, parameters: m.entry.parameters,
                activeParameters: m.entry.activeParameters, sourceDtype: m.entry.sourceDtype, downloadBytes: m.entry.downloadBytes,
                defaultQuantization: m.entry.defaultQuantization, convertible: m.entry.convertible, hardware: m.entry.hardware,
                notes: m.entry.notes, gguf: m.entry.gguf, pullsGGUF: m.entry.pullsGGUF)
        }
        if global.json {
            try Console.json(rows)
            return
        }
        Console.out(Table.render(header: ["NAME", "REPO", "ARCH", "PARAMS", "DTYPE", "SIZE", "DEFAULT QUANT", "GGUF SOURCE"], rows: rows.map {
            [$0.name, $0.repo, $0.architecture, CatalogCommand.params($0.parameters, active: $0.activeParameters), $0.sourceDtype,
             ByteFormat.string($0.downloadBytes), $0.convertible ? $0.defaultQuantization : "-", CatalogCommand.ggufColumn($0)]
        }))
    }

    /// `unsloth/DeepSeek-R1-GGUF:UD-IQ1_S 122 GiB (pulled)`: the GGUF source, and whether `dsm pull` takes it.
    static func ggufColumn(_ row: Row) -> String {
        guard let g = row.gguf else { return "-" }
        return "\(g.repo):\(g.tag) \(ByteFormat.string(g.bytes))" + (row.pullsGGUF ? " (pulled)" : "")
    }

    /// `7.6B`, `671B (37B active)`.
    static func params(_ n: Int64, active: Int64?) -> String {
        func short(_ v: Int64) -> String {
            let b = Double(v) / 1e9
            return b >= 100 ? "\(Int(b.rounded()))B" : String(format: "%.1fB", b)
        }
        return active.map { "\(short(n)) (\(short($0)) active)" } ?? short(n)
    }
}
