/// Where a version came from, typed. It is stored in the manifest's `source` fields (endpoint, repo, revision,
/// commit) exactly as earlier manifests spell them, so digests and older files stay what they are; this type is
/// the one place that knows those spellings.
public enum Provenance: Equatable, Sendable {
    /// Pulled from a Hugging Face compatible hub (`endpoint` is its base URL) at `commit`; `revision` is what was asked for;
    /// `selection` says which files were taken when not the whole repo (`tag UD-IQ1_S`, `include 'Q4_K_M/*'`).
    case pulled(endpoint: String, repo: String, revision: String, commit: String, selection: String? = nil)
    /// `dsm convert` of `from` (a stored name, or a folder's path) to `outType` (`f16`, `bf16`, `f32`); `input` is the
    /// source version's manifest digest, or nil for a folder.
    case converted(from: String, outType: String, input: String?)
    /// `dsm quantize` of `from` (a stored name or a path) to the file type `fileType` (`Q4_K_M`); `input` is the
    /// source's manifest digest (stored) or the file's SHA-256, nil for a folder.
    case quantized(from: String, fileType: String, input: String?)
    /// `dsm create` from the file or folder at `path`; `contentKey` identifies the files.
    case created(path: String, contentKey: String)

    static let convertEndpoint = "dsm convert", quantizeEndpoint = "dsm quantize", createEndpoint = "dsm create"
    static let local = "local"

    /// The stored fields.
    public var source: Manifest.Source {
        switch self {
        case .pulled(let endpoint, let repo, let revision, let commit, let selection):
            var source = Manifest.Source(endpoint: endpoint, repo: repo, revision: revision, commit: commit)
            source.selection = selection
            return source
        case .converted(let from, let outType, let input):
            return .init(endpoint: Self.convertEndpoint, repo: from, revision: "outtype=\(outType)", commit: input ?? Self.local)
        case .quantized(let from, let fileType, let input):
            return .init(endpoint: Self.quantizeEndpoint, repo: from, revision: "file_type=\(fileType)", commit: input ?? Self.local)
        case .created(let path, let key):
            return .init(endpoint: Self.createEndpoint, repo: path, revision: Self.local, commit: key)
        }
    }

    /// Reads the stored fields back.
    public init(_ s: Manifest.Source) {
        let input = s.commit == Self.local ? nil : s.commit
        switch s.endpoint {
        case Self.convertEndpoint:
            self = .converted(from: s.repo, outType: Self.value(of: "outtype=", in: s.revision), input: input)
        case Self.quantizeEndpoint:
            self = .quantized(from: s.repo, fileType: Self.value(of: "file_type=", in: s.revision), input: input)
        case Self.createEndpoint:
            self = .created(path: s.repo, contentKey: s.commit)
        default:
            self = .pulled(endpoint: s.endpoint, repo: s.repo, revision: s.revision, commit: s.commit, selection: s.selection)
        }
    }

    private static func value(of key: String, in text: String) -> String {
        text.hasPrefix(key) ? String(text.dropFirst(key.count)) : text
    }

    /// The stored name a GGUF was made from, when it was converted from one (its quantizations register under it).
    public var convertedFromName: ModelName? {
        if case .converted(let from, _, _) = self { return try? ModelName(parsing: from) }
        return nil
    }

    /// One word for how the version was made: `pulled`, `converted`, `quantized`, `registered`.
    public var verb: String {
        switch self {
        case .pulled: return "pulled"
        case .converted: return "converted"
        case .quantized: return "quantized"
        case .created: return "registered"
        }
    }
}

extension Manifest {
    /// The typed reading of `source`.
    public var provenance: Provenance { Provenance(source) }

    /// A manifest for `files` made as `provenance` says.
    public init(name: String, kind: Kind, provenance: Provenance, files: [File], createdAt: String, tool: String) {
        self.init(name: name, kind: kind, source: provenance.source, files: files, createdAt: createdAt, tool: tool)
    }
}
