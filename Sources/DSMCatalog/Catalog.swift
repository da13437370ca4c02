import Foundation

/// The model catalog: every family file, looked up by `family:tag`.
public struct Catalog: Sendable {
    public let families: [String: CatalogFamily]

    /// A catalog file that cannot be used.
    public struct LoadError: Error, CustomStringConvertible {
        public let file: String
        public let reason: String
        public var description: String { "catalog file \(file): \(reason)" }
    }

    public init(families: [CatalogFamily]) {
        var map: [String: CatalogFamily] = [:]
        for f in families { map[f.family] = f }
        self.families = map
    }

    /// Parses catalog files given as (file name, JSON bytes).
    public static func parse(_ files: [(name: String, bytes: [UInt8])]) throws -> Catalog {
        var families: [CatalogFamily] = []
        for file in files {
            let family: CatalogFamily
            do {
                family = try JSONDecoder().decode(CatalogFamily.self, from: Data(file.bytes))
            } catch {
                throw LoadError(file: file.name, reason: "not valid catalog JSON: \(error)")
            }
            guard family.schema == CatalogFamily.schemaVersion else {
                throw LoadError(file: file.name, reason: "schema \(family.schema) is not supported (this dsm reads schema \(CatalogFamily.schemaVersion))")
            }
            guard family.resolve(tag: nil) != nil else {
                throw LoadError(file: file.name, reason: "default tag '\(family.defaultTag)' does not resolve to a tag")
            }
            families.append(family)
        }
        return Catalog(families: families)
    }

    /// The catalog compiled into dsm, or the folder named by `DSM_CATALOG_DIR`.
    public static func load(environment: [String: String]) throws -> Catalog {
        if let dir = environment["DSM_CATALOG_DIR"], !dir.isEmpty {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.hasSuffix(".json") }.sorted() ?? []
            guard !names.isEmpty else { throw LoadError(file: dir, reason: "DSM_CATALOG_DIR has no .json files") }
            return try parse(names.map { name in
                (name, Array(FileManager.default.contents(atPath: dir + "/" + name) ?? Data()))
            })
        }
        return try parse(BundledCatalog.files.map { ($0.name, Array($0.json.utf8)) })
    }

    /// A resolved catalog reference.
    public struct Match: Sendable {
        public var family: CatalogFamily
        public var tag: String
        public var entry: CatalogEntry
        /// `family:tag` with the real (non-alias) tag.
        public var canonicalName: String { "\(family.family):\(tag)" }
    }

    /// Looks up `family[:tag]`, following aliases.
    public func lookup(family: String, tag: String?) -> Match? {
        guard let fam = families[family], let real = fam.resolve(tag: tag), let entry = fam.tags[real] else { return nil }
        return Match(family: fam, tag: real, entry: entry)
    }

    /// Every tag of every family, sorted by family then parameter count.
    public func allEntries() -> [Match] {
        families.values.sorted { $0.family < $1.family }.flatMap { fam in
            fam.tags.keys.sorted { (fam.tags[$0]!.parameters, $0) < (fam.tags[$1]!.parameters, $1) }.map {
                Match(family: fam, tag: $0, entry: fam.tags[$0]!)
            }
        }
    }

    /// Names close to `query`, for "did you mean" messages.
    public func suggestions(for query: String) -> [String] {
        let q = query.lowercased()
        let all = allEntries().map(\.canonicalName)
        let family = q.split(separator: ":").first.map(String.init) ?? q
        return all.filter { $0.hasPrefix(family) || $0.contains(q) }.prefix(8).map { $0 }
    }
}
