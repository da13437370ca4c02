import DSMFormats
import DSMSystem
import Foundation

/// What a pulled model is made of: where it came from and every file with its size and SHA-256.
/// Stored as canonical JSON (sorted keys); its own SHA-256 is the manifest digest. Decoding checks what later
/// becomes a path on disk (see `problem(with:)`), so a manifest from anywhere (the store, a bundle) that names a
/// file outside its model folder, or a blob by anything but its digest, never decodes.
public struct Manifest: Codable, Equatable, Sendable {
    public static let schemaVersion = 1

    /// Where the files came from.
    public struct Source: Codable, Equatable, Sendable {
        public var endpoint: String
        public var repo: String
        public var revision: String
        public var commit: String
        /// Which files of the repo were pulled, when not all (`tag UD-IQ1_S`, `include 'Q4_K_M/*'`); absent from
        /// manifests that took the whole repo, so their bytes and digests are what they always were.
        public var selection: String?
        public init(endpoint: String, repo: String, revision: String, commit: String) {
            self.endpoint = endpoint
            self.repo = repo
            self.revision = revision
            self.commit = commit
        }
    }

    /// One file of the model, stored as the blob `sha256`.
    public struct File: Codable, Equatable, Sendable {
        public var path: String
        public var size: Int64
        public var sha256: String
        /// The git blob id the Hub listed (small files), for re-pulls that skip unchanged files.
        public var gitOid: String?
        public var lfs: Bool
        public init(path: String, size: Int64, sha256: String, gitOid: String?, lfs: Bool) {
            self.path = path
            self.size = size
            self.sha256 = sha256
            self.gitOid = gitOid
            self.lfs = lfs
        }
        enum CodingKeys: String, CodingKey { case path, size, sha256, gitOid = "git_oid", lfs }
    }

    public var schema: Int
    public var name: String
    /// A checkpoint folder or one GGUF file.
    public var kind: Kind
    public var source: Source
    public var files: [File]
    /// ISO 8601 UTC.
    public var createdAt: String
    /// `dsm <version>`.
    public var tool: String

    public init(name: String, kind: Kind = .checkpoint, source: Source, files: [File], createdAt: String, tool: String) {
        schema = Manifest.schemaVersion
        self.name = name
        self.kind = kind
        self.source = source
        self.files = files.sorted { $0.path < $1.path }
        self.createdAt = createdAt
        self.tool = tool
    }

    enum CodingKeys: String, CodingKey { case schema, name, kind, source, files, createdAt = "created_at", tool }

    /// Decodes, refusing another schema version (with a message to upgrade) and unsafe files (`problem(with:)`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decode(Int.self, forKey: .schema)
        guard schema == Manifest.schemaVersion else {
            throw StoreError(message: "manifest schema \(schema) is not supported by this dsm (it reads schema \(Manifest.schemaVersion)); upgrade dsm")
        }
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(Kind.self, forKey: .kind)
        source = try c.decode(Source.self, forKey: .source)
        files = try c.decode([File].self, forKey: .files)
        createdAt = try c.decode(String.self, forKey: .createdAt)
        tool = try c.decode(String.self, forKey: .tool)
        if let problem = Manifest.problem(with: files) { throw StoreError(message: "the manifest of \(TerminalText.escaped(name)) \(problem)") }
    }

    /// Why `files` cannot be a manifest's file list, or nil when they can: every path passes `RepoPath` (the rule
    /// pull applies to a Hub listing) and appears once, every digest is 64 lowercase hex digits (it names a blob
    /// file), no size is negative. The reason quotes the offending value with control characters escaped.
    public static func problem(with files: [File]) -> String? {
        var seen = Set<String>()
        var total: Int64 = 0
        for f in files {
            let shown = "'\(TerminalText.escaped(f.path))'"
            if let reason = RepoPath.problem(with: f.path) { return "lists the unsafe file path \(shown) (\(reason)); refusing it" }
            guard seen.insert(f.path).inserted else { return "lists the file path \(shown) twice; refusing it" }
            guard Hex.isLowerHex(f.sha256, length: 64) else {
                return "gives the file \(shown) the digest '\(TerminalText.escaped(f.sha256))', not 64 lowercase hex digits; refusing it"
            }
            guard f.size >= 0 else { return "gives the file \(shown) a negative size; refusing it" }
            // `totalSize` (list, show) adds the sizes up: a sum past Int64 would trap there.
            let (sum, overflow) = total.addingReportingOverflow(f.size)
            guard !overflow else { return "gives sizes that add up to more than \(Int64.max) bytes; refusing it" }
            total = sum
        }
        return nil
    }

    /// Total bytes of all files.
    public var totalSize: Int64 { files.reduce(0) { $0 + $1.size } }

    /// Canonical bytes: sorted keys, no extra whitespace, trailing newline.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    /// Decodes and checks the schema version and the files (`init(from:)`).
    public static func decode(_ bytes: [UInt8]) throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(bytes))
    }
}

/// A store problem with a message that says what to do.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

extension Manifest {
    /// The GGUF model's files in load order: the parts of a split set by number, or the one model file. Importance
    /// matrices and vision projectors beside the model are not among them (`GGUFFileName.role`). Empty for a checkpoint.
    public var ggufParts: [File] {
        let models = files.compactMap { f in GGUFFileName(f.path).flatMap { $0.role == .model ? ($0, f) : nil } }
        return models.sorted { ($0.0.part?.number ?? 0, $0.1.path) < ($1.0.part?.number ?? 0, $1.1.path) }.map(\.1)
    }

    /// The GGUF a runtime opens: the first part (llama.cpp finds the others by name beside it), or nil for a checkpoint.
    public var firstGGUF: File? { ggufParts.first }
}
