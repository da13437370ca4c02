import DSMFormats
import DSMSystem

/// The quantizations a GGUF repo offers and which one a tag picks, as Ollama (`hf.co/USER/REPO:QUANT`) and llama.cpp
/// (`-hf USER/REPO:QUANT`) read tags. Pure.
///
/// Every model `.gguf` file is one choice, except that the parts of a split set count as one. A choice's label is
/// its folder when the folder holds that one model (`UD-IQ1_S/…`), else the quantization type at the end of its
/// name (`…-Q4_K_M.gguf`), else its stem. A tag matches a label case-insensitively; failing that, a choice whose
/// path names the tag bounded by `-`, `.`, `/` or an end. No tag means `Q4_K_M` when there is one
/// (llama.cpp's default), else the repo's only choice.
public struct GGUFChoices: Sendable {
    /// One quantization: a single file or all parts of a split set, in part order.
    public struct Choice: Sendable, Equatable {
        public var label: String
        public var files: [PullPlan.File]
        public var bytes: Int64 { files.reduce(0) { $0 + $1.size } }
        /// The folder the model lives in (empty at the top).
        public var folder: String
    }

    public let choices: [Choice]
    /// Importance matrices in the repo (pulled only when asked for).
    public let imatrices: [PullPlan.File]
    /// Files that are no model and no importance matrix: `.gguf` projectors and everything not `.gguf`.
    public let others: [PullPlan.File]

    /// Groups the repo's files. Split parts that do not make a complete set are still grouped (so the tag lists
    /// them); `GGUFFileName.problem(withSet:)` names what is missing when such a choice is picked.
    public init(_ files: [PullPlan.File]) {
        var groups: [String: [(GGUFFileName, PullPlan.File)]] = [:]
        var imatrices: [PullPlan.File] = [], others: [PullPlan.File] = []
        for file in files {
            guard let name = GGUFFileName(file.path) else {
                let base = file.path.split(separator: "/").last.map { $0.lowercased() } ?? ""
                if base.contains("imatrix") { imatrices.append(file) } else { others.append(file) }
                continue
            }
            switch name.role {
            case .imatrix: imatrices.append(file)
            case .mmproj: others.append(file)
            case .model:
                let key = name.part.map { "\(name.folder)/\(name.stem)#\($0.count)" } ?? file.path
                groups[key, default: []].append((name, file))
            }
        }
        let modelsPerFolder = Dictionary(grouping: groups.values.compactMap { $0.first?.0.folder }, by: { $0 }).mapValues(\.count)
        choices = groups.values.map { members in
            let sorted = members.sorted { ($0.0.part?.number ?? 0) < ($1.0.part?.number ?? 0) }
            let name = sorted[0].0
            let folderName = name.folder.split(separator: "/").last.map(String.init)
            let label = (modelsPerFolder[name.folder] == 1 ? folderName : nil) ?? name.quantization ?? name.stem
            return Choice(label: label, files: sorted.map(\.1), folder: name.folder)
        }.sorted { ($0.label.lowercased(), $0.files[0].path) < ($1.label.lowercased(), $1.files[0].path) }
        self.imatrices = imatrices
        self.others = others
    }

    /// True when the repo holds at least one model GGUF: its tags mean quantizations.
    public var isGGUFRepo: Bool { !choices.isEmpty }

    /// The tag llama.cpp picks when none is given.
    public static let defaultTag = "Q4_K_M"

    /// The choice `tag` names (nil: the default), or an error listing the tags there are.
    public func pick(_ tag: String?, repo: String) throws -> Choice {
        let wanted = tag ?? Self.defaultTag
        let exact = choices.filter { $0.label.lowercased() == wanted.lowercased() }
        var found = exact
        if found.isEmpty { found = choices.filter { Self.names($0, wanted) } }
        if tag == nil && found.isEmpty && choices.count == 1 { found = choices }
        if found.count == 1 { return found[0] }
        if found.isEmpty {
            let why = tag == nil ? "no tag was given and \(repo) has no \(Self.defaultTag) quantization; name one"
                                 : "\(repo) has no quantization tagged '\(wanted)'"
            throw PullError("\(why). Tags there: \(listing(choices)). Pull one as \(repo):TAG, or choose files with --include.")
        }
        throw PullError("the tag '\(wanted)' matches \(found.count) quantizations of \(repo): \(listing(found)). Use the full tag, or --include.")
    }

    /// `Q4_K_M (4.4 GiB), UD-IQ1_S (131 GiB, 3 parts)`.
    public func listing(_ list: [Choice]) -> String {
        list.map { c in
            "\(c.label) (\(ByteFormat.string(c.bytes))\(c.files.count > 1 ? ", \(c.files.count) parts" : ""))"
        }.joined(separator: ", ")
    }

    /// Whether `tag` appears in the choice's first path as whole words (`q4_k` does not name `Q4_K_M`).
    static func names(_ choice: Choice, _ tag: String) -> Bool {
        let separators: Set<Character> = ["-", ".", "/"]
        let path = Array(choice.files[0].path.lowercased()), want = Array(tag.lowercased())
        guard !want.isEmpty, want.count <= path.count else { return false }
        for start in 0...(path.count - want.count) where Array(path[start..<(start + want.count)]) == want {
            let before = start == 0 || separators.contains(path[start - 1])
            let end = start + want.count
            let after = end == path.count || separators.contains(path[end])
            if before && after { return true }
        }
        return false
    }

    /// The small files a quantization comes with: files that are not GGUF models or matrices, at the top or in the
    /// choice's folder, up to `smallFileLimit` bytes each (README, config, licence; not another format's weights).
    public func companions(of choice: Choice) -> [PullPlan.File] {
        others.filter { f in
            guard f.size <= Self.smallFileLimit, GGUFFileName(f.path) == nil else { return false }
            let folder = f.path.lastIndex(of: "/").map { String(f.path[..<$0]) } ?? ""
            return folder.isEmpty || folder == choice.folder
        }
    }

    /// Files above this size never come along with a quantization unless `--include` names them.
    public static let smallFileLimit: Int64 = 16 << 20
}
