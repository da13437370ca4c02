import ArgumentParser
import DSMStore
import DSMRegistry
import DSMSystem

/// `dsm list`: the models in the local store.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models in the local store.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let store = global.store
        let registry = Registry(store: store)
        let rows = registry.summaries()
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
