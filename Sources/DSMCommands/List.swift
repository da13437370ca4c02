import ArgumentParser
import DSMStore
import DSMPull

/// `dsm list`: the models in the local store.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models in the local store.")

    @OptionGroup var global: GlobalOptions

    struct Row: Codable {
        var name: String
        var kind: String
        var repo: String
        var commit: String
        var files: Int
        var size: Int64
        var manifest: String
        var createdAt: String
        enum CodingKeys: String, CodingKey { case name, kind, repo, commit, files, size, manifest, createdAt = "created_at" }
    }

    func run() throws {
        let store = global.store
        var rows: [Row] = []
        for name in store.names() {
            guard let (m, digest) = try? store.manifest(for: name) else { continue }
            rows.append(Row(name: name.description, kind: m.kind, repo: m.source.repo, commit: m.source.commit, files: m.files.count,
                            size: m.totalSize, manifest: digest, createdAt: m.createdAt))
        }
        if global.json {
            try Console.json(rows)
            return
        }
        if rows.isEmpty {
            if !global.quiet { Console.error("no models in \(store.root) yet; try `dsm pull deepseek-r1:7b`") }
            return
        }
        Console.out(Table.render(header: ["NAME", "REPO", "COMMIT", "FILES", "SIZE", "PULLED"], rows: rows.map {
            [$0.name, $0.repo, String($0.commit.prefix(12)), "\($0.files)", ByteFormat.string($0.size), $0.createdAt]
        }))
    }
}

/// Plain left-aligned text tables.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                parts.append(i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count))
            }
            return parts.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
