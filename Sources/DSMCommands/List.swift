import ArgumentParser
import DSMStore
import DSMRegistry
import DSMSystem

/// `dsm list`: the models in the local store.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models in the local store.")

    @OptionGroup var global: GlobalOptions

    /// One name: its stable version's manifest, plus its versions and channels.
    struct Row: Codable {
        var name: String
        var kind: String
        var repo: String
        var commit: String
        var files: Int
        var size: Int64
        var manifest: String
        var createdAt: String
        var versions: [Int]
        var stable: Int?
        var canary: Int?
        var weight: Int
        var tags: [String: Int]
        enum CodingKeys: String, CodingKey {
            case name, kind, repo, commit, files, size, manifest, createdAt = "created_at", versions, stable, canary, weight, tags
        }
    }

    func run() throws {
        let store = global.store
        let registry = Registry(store: store)
        var rows: [Row] = []
        for name in registry.names() {
            let state = (try? registry.state(of: name)) ?? nil
            // The stable version's manifest (a name whose stable was deleted shows its newest version), read from the
            // committed state as `show` does: the stable view in manifests/ lags behind after a crash at the wrong moment.
            var manifest: (Manifest, String)?
            if let s = state, let v = s.stable.flatMap(s.version) ?? s.versions.last, let m = try? registry.manifest(of: v, in: name) {
                manifest = (m, v.manifest)
            }
            guard let (m, digest) = manifest else {
                // Every version deleted (`rm --force`): the name stays listed, its numbers and history are kept.
                if state != nil {
                    rows.append(Row(name: name.description, kind: "-", repo: "-", commit: "-", files: 0, size: 0, manifest: "-", createdAt: "-",
                                    versions: [], stable: nil, canary: nil, weight: 0, tags: [:]))
                }
                continue
            }
            rows.append(Row(name: name.description, kind: m.kind.rawValue, repo: m.source.repo, commit: m.source.commit, files: m.files.count,
                            size: m.totalSize, manifest: digest, createdAt: m.createdAt, versions: state?.versions.map(\.number) ?? [1],
                            stable: state.map { $0.stable } ?? 1, canary: state?.canary, weight: state?.routing.weight ?? 0,
                            tags: state?.tags ?? [:]))
        }
        let older = registry.namesFromOlderStores()
        if !older.isEmpty && !global.quiet {
            Console.error("note: \(older.count) name(s) stored by an older dsm are not listed (\(older.prefix(3).map(\.description).joined(separator: ", "))): "
                + Registry.olderStoreMessage(older[0]))
        }
        if global.json {
            try Console.json(rows)
            return
        }
        if rows.isEmpty {
            if !global.quiet { Console.error("no models in \(store.root) yet; try `dsm pull deepseek-r1:7b`") }
            return
        }
        Console.out(Table.render(header: ["NAME", "VERSIONS", "STABLE", "CANARY", "REPO", "COMMIT", "FILES", "SIZE", "CREATED"], rows: rows.map { row in
            [row.name, "\(row.versions.count)", row.stable.map { "v\($0)" } ?? "-", row.canary.map { "v\($0) at \(row.weight)%" } ?? "-",
             row.repo, String(row.commit.prefix(12)), "\(row.files)", ByteFormat.string(row.size), row.createdAt]
        }))
    }
}

/// Plain left-aligned text tables. Cells often hold text from manifests made elsewhere, so every cell is printed
/// through `TerminalText.escaped`: no control character reaches the terminal.
enum Table {
    static func render(header: [String], rows unescaped: [[String]]) -> String {
        let rows = unescaped.map { $0.map(TerminalText.escaped) }
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
