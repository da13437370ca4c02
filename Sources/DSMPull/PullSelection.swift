import DSMFormats
import DSMStore

/// Which files of a repo listing a pull takes, and what they make: the whole repo (a checkpoint), the files that
/// `--include`/`--exclude` keep, or, on a repo of GGUF files, one quantization (`:TAG`) with its small companions.
/// Pure: decided from the listing before anything is downloaded.
public struct PullSelection: Sendable, Equatable {
    public var files: [PullPlan.File]
    /// `.gguf` when the files hold one GGUF model (single or split), else `.checkpoint`.
    public var kind: Manifest.Kind
    /// The model's parts in order (one for a single file), empty for a checkpoint.
    public var modelParts: [PullPlan.File]
    /// The quantization's label (`Q4_K_M`, `UD-IQ1_S`) when a GGUF model was chosen.
    public var label: String?
    /// How the files were chosen, for provenance and messages: `tag UD-IQ1_S`, `include 'A/*'`; nil for the whole repo.
    public var how: String?

    /// What a pull of a repo without GGUF models does with a `:TAG`: it is the revision (dsm's older grammar).
    public struct TagIsRevision: Error, Sendable { public let revision: String }

    /// Chooses from `files` (a listing at one commit) for `tag` (nil: none given), `filter` and `withImatrix`.
    /// Throws `TagIsRevision` when the repo has no GGUF models and `tagMayBeRevision`; throws `PullError` for a tag
    /// that names no quantization (listing those there are), an incomplete split set, filters that keep nothing or
    /// several GGUF models.
    public static func choose(from files: [PullPlan.File], repo: String, tag: String?, tagMayBeRevision: Bool,
                              filter: RepoFileFilter, withImatrix: Bool) throws -> PullSelection {
        let choices = GGUFChoices(files)
        guard choices.isGGUFRepo else {
            if let tag {
                if tagMayBeRevision { throw TagIsRevision(revision: tag) }
                throw PullError("\(repo) holds no GGUF files, so ':\(tag)' names no quantization; give a revision with --revision or @REV")
            }
            return try filtered(files, repo: repo, filter: filter, choices: choices)
        }
        if tag == nil && !filter.include.isEmpty {
            return try filtered(files, repo: repo, filter: filter, choices: choices)
        }
        let choice = try choices.pick(tag, repo: repo)
        var chosen = choice.files + choices.companions(of: choice) + (withImatrix ? choices.imatrices : [])
        chosen = chosen.filter { filter.keeps($0.path) }
        let dropped = choice.files.filter { !filter.keeps($0.path) }
        guard dropped.isEmpty else {
            throw PullError("the filters (\(filter.summary)) leave out \(dropped[0].path), a part of the quantization \(choice.label); "
                            + "a model is pulled whole: change the patterns")
        }
        if withImatrix && choices.imatrices.isEmpty {
            throw PullError("--with-imatrix: \(repo) has no importance matrix (a .gguf or .dat file named *imatrix*)")
        }
        try checkSet(choice, repo: repo)
        var how = "tag \(choice.label)"
        if !filter.isEmpty { how += ", " + filter.summary }
        return PullSelection(files: chosen.sorted { $0.path < $1.path }, kind: .gguf, modelParts: choice.files, label: choice.label, how: how)
    }

    /// The files the filter keeps; a GGUF model among them makes the selection that model (and only one may be kept).
    static func filtered(_ files: [PullPlan.File], repo: String, filter: RepoFileFilter, choices: GGUFChoices) throws -> PullSelection {
        let kept = files.filter { filter.keeps($0.path) }
        guard !kept.isEmpty else {
            throw PullError("the filters (\(filter.summary)) match none of the \(files.count) files of \(repo); nothing to pull")
        }
        let how = filter.isEmpty ? nil : filter.summary
        let keptPaths = Set(kept.map(\.path))
        let models = choices.choices.filter { $0.files.contains { keptPaths.contains($0.path) } }
        guard let model = models.first else { return PullSelection(files: kept, kind: .checkpoint, modelParts: [], label: nil, how: how) }
        guard models.count == 1 else {
            throw PullError("the filters (\(filter.summary)) keep \(models.count) GGUF models of \(repo) (\(choices.listing(models))); "
                            + "a dsm version holds one model: narrow --include, or pull a tag")
        }
        if let missing = model.files.first(where: { !keptPaths.contains($0.path) }) {
            throw PullError("the filters (\(filter.summary)) keep only some parts of \(model.label) (not \(missing.path)); a model is pulled whole")
        }
        try checkSet(model, repo: repo)
        return PullSelection(files: kept, kind: .gguf, modelParts: model.files, label: model.label, how: how)
    }

    /// A split set must be complete in the listing.
    static func checkSet(_ choice: GGUFChoices.Choice, repo: String) throws {
        let names = choice.files.compactMap { GGUFFileName($0.path) }
        if let problem = GGUFFileName.problem(withSet: names) {
            throw PullError("\(repo): the quantization \(choice.label) is incomplete: \(problem). Nothing was downloaded.")
        }
    }
}
