import DSMHub
import DSMCatalog
import DSMStore

/// A reference resolved to a repo, a revision and the local name it is stored under.
public struct PullTarget: Sendable, Equatable {
    public var repo: RepoID
    public var revision: String
    public var name: ModelName
    /// The catalog name, when the reference came from the catalog.
    public var catalogName: String?

    /// Resolves `reference` (see `ModelReference`) against the catalog.
    public static func resolve(_ reference: String, revision override: String?, name: String?, catalog: Catalog) throws -> PullTarget {
        let parsed: ModelReference
        do {
            parsed = try ModelReference.parse(reference)
        } catch {
            throw PullError("\(error). Use a catalog name such as deepseek-r1:7b (see `dsm catalog`) or a Hugging Face repo such as hf.co/deepseek-ai/DeepSeek-R1-Distill-Qwen-7B.")
        }
        if let override, !Revision.isValid(override) { throw PullError("'\(override)' is not a valid revision") }
        var target: PullTarget
        switch parsed {
        case .catalog(let family, let tag):
            guard let match = catalog.lookup(family: family, tag: tag) else {
                let wanted = tag.map { "\(family):\($0)" } ?? family
                let close = catalog.suggestions(for: wanted)
                let hint = close.isEmpty ? "" : " Close matches: \(close.joined(separator: ", "))."
                throw PullError("'\(wanted)' is not in the catalog.\(hint) Run `dsm catalog` to list models, or pull any Hugging Face repo as ORG/NAME.")
            }
            guard let repo = RepoID(match.entry.repo) else { throw PullError("catalog entry \(match.canonicalName) has an invalid repo id") }
            let storeName = try ModelName(parsing: match.canonicalName)
            target = PullTarget(repo: repo, revision: override ?? match.entry.revision, name: storeName, catalogName: match.canonicalName)
        case .repository(let repo, let inline):
            if let inline, let override, inline != override {
                throw PullError("the reference names revision '\(inline)' but --revision says '\(override)'; give only one")
            }
            let rev = override ?? inline ?? "main"
            let tag = rev == "main" ? "latest" : PullTarget.tagFor(revision: rev)
            target = PullTarget(repo: repo, revision: rev, name: try ModelName(path: ["hf.co", repo.namespace, repo.name], tag: tag))
        }
        if let name { target.name = try ModelName(parsing: name) }
        return target
    }

    /// A tag for a revision: `refs/pr/1` → `refs-pr-1`.
    static func tagFor(revision: String) -> String {
        let mapped = revision.map { ch -> Character in
            ch.isLetter || ch.isNumber || ch == "." || ch == "_" || ch == "-" ? ch : "-"
        }
        var tag = String(mapped)
        while tag.hasPrefix(".") || tag.hasPrefix("-") { tag.removeFirst() }
        return String(tag.prefix(128)).isEmpty ? "rev" : String(tag.prefix(128))
    }
}
