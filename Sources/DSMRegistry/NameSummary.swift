import DSMStore

/// One stored name as `dsm list` shows it: its stable version's manifest (or, when the stable version was deleted,
/// its newest), plus its versions and channels. The `--json` field names are the coding keys.
public struct NameSummary: Codable, Sendable, Equatable {
    public var name: String
    public var kind: String
    public var repo: String
    public var commit: String
    public var files: Int
    public var size: Int64
    public var manifest: String
    public var createdAt: String
    public var versions: [Int]
    public var stable: Int?
    public var canary: Int?
    public var weight: Int
    public var tags: [String: Int]

    enum CodingKeys: String, CodingKey {
        case name, kind, repo, commit, files, size, manifest, createdAt = "created_at", versions, stable, canary, weight, tags
    }
}

extension Registry {
    /// Every name with a committed state, in name order. A name whose versions were all deleted (`rm --force`) stays
    /// listed with `-` fields: its numbers and history are kept. Manifests are read from the committed state, as
    /// `show` does.
    public func summaries() -> [NameSummary] {
        var rows: [NameSummary] = []
        for name in names() {
            let state = (try? self.state(of: name)) ?? nil
            guard let state else { continue }
            guard let v = state.stable.flatMap(state.version) ?? state.versions.last, let m = try? manifest(of: v, in: name) else {
                rows.append(NameSummary(name: name.description, kind: "-", repo: "-", commit: "-", files: 0, size: 0, manifest: "-",
                                        createdAt: "-", versions: [], stable: nil, canary: nil, weight: 0, tags: [:]))
                continue
            }
            rows.append(NameSummary(name: name.description, kind: m.kind.rawValue, repo: m.source.repo, commit: m.source.commit,
                                    files: m.files.count, size: m.totalSize, manifest: v.manifest, createdAt: m.createdAt,
                                    versions: state.versions.map(\.number), stable: state.stable, canary: state.canary,
                                    weight: state.routing.weight, tags: state.tags))
        }
        return rows
    }
}
