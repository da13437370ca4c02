import DSMHub
import DSMCatalog
import DSMStore

/// A reference resolved to a repo, a revision, what to take from it and the local name it is stored under.
public struct PullTarget: Sendable, Equatable {
    public var repo: RepoID
    public var revision: String
    /// Whether the revision was named (`--revision`, `@REV`, `/tree/REV`, the catalog) rather than defaulted to `main`.
    public var revisionIsExplicit: Bool
    /// The `:TAG` of a repo reference (or a catalog entry's GGUF source): a quantization on a GGUF repo, else, when no
    /// revision was named, the revision (dsm's older `ORG/NAME:REV` grammar).
    public var tag: String?
    public var filter: RepoFileFilter = RepoFileFilter()
    /// Also pull the repo's importance matrix (`--with-imatrix`).
    public var withImatrix = false
    public var name: ModelName
    /// Whether `name` came from `--name` or the catalog (else it follows what the pull chooses, see `named(_:)`).
    public var nameIsFixed: Bool
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
            let storeName = try ModelName(parsing: match.canonicalName)
            if match.entry.pullsGGUF, let gguf = match.entry.gguf {
                guard let repo = RepoID(gguf.repo) else { throw PullError("catalog entry \(match.canonicalName) has an invalid GGUF repo id") }
                target = PullTarget(repo: repo, revision: override ?? gguf.revision, revisionIsExplicit: true, tag: gguf.tag,
                                    name: storeName, nameIsFixed: true, catalogName: match.canonicalName)
            } else {
                guard let repo = RepoID(match.entry.repo) else { throw PullError("catalog entry \(match.canonicalName) has an invalid repo id") }
                target = PullTarget(repo: repo, revision: override ?? match.entry.revision, revisionIsExplicit: true, tag: nil,
                                    name: storeName, nameIsFixed: true, catalogName: match.canonicalName)
            }
        case .repository(let repo, let inline, let tag):
            if let inline, let override, inline != override {
                throw PullError("the reference names revision '\(inline)' but --revision says '\(override)'; give only one")
            }
            let rev = override ?? inline ?? "main"
            target = PullTarget(repo: repo, revision: rev, revisionIsExplicit: override != nil || inline != nil, tag: tag,
                                name: try ModelName(path: ["hf.co", repo.namespace, repo.name], tag: "latest"), nameIsFixed: false)
            target.name = try target.named(nil)
        }
        if let name {
            target.name = try ModelName(parsing: name)
            target.nameIsFixed = true
        }
        return target
    }

    /// The store name for what the pull chose: `hf.co/ORG/NAME:LABEL` for a quantization (`:Q4_K_M`), else
    /// `:latest` at `main` or a tag made from the revision. A fixed name stays.
    public func named(_ label: String?) throws -> ModelName {
        if nameIsFixed { return name }
        let tag = label ?? (revision == "main" ? "latest" : PullTarget.tagFor(revision: revision))
        return try ModelName(path: ["hf.co", repo.namespace, repo.name], tag: tag)
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
