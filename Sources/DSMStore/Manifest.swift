import Foundation

/// What a pulled model is made of: where it came from and every file with its size and SHA-256.
/// Stored as canonical JSON (sorted keys); its own SHA-256 is the manifest digest.
public struct Manifest: Codable, Equatable, Sendable {
    public static let schemaVersion = 1

    /// Where the files came from.
    public struct Source: Codable, Equatable, Sendable {
        public var endpoint: String
        public var repo: String
        public var revision: String
        public var commit: String
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
    /// `hf-snapshot` for pulled checkpoints.
    public var kind: String
    public var source: Source
    public var files: [File]
    /// ISO 8601 UTC.
    public var createdAt: String
    /// `dsm <version>`.
    public var tool: String

    public init(name: String, kind: String = "hf-snapshot", source: Source, files: [File], createdAt: String, tool: String) {
        schema = Manifest.schemaVersion
        self.name = name
        self.kind = kind
        self.source = source
        self.files = files.sorted { $0.path < $1.path }
        self.createdAt = createdAt
        self.tool = tool
    }

    enum CodingKeys: String, CodingKey { case schema, name, kind, source, files, createdAt = "created_at", tool }

    /// Total bytes of all files.
    public var totalSize: Int64 { files.reduce(0) { $0 + $1.size } }

    /// Canonical bytes: sorted keys, no extra whitespace, trailing newline.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    /// Decodes and checks the schema version.
    public static func decode(_ bytes: [UInt8]) throws -> Manifest {
        let m = try JSONDecoder().decode(Manifest.self, from: Data(bytes))
        guard m.schema == schemaVersion else {
            throw StoreError(message: "manifest schema \(m.schema) is not supported by this dsm (it reads schema \(schemaVersion)); upgrade dsm")
        }
        return m
    }
}

/// A store problem with a message that says what to do.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

extension Manifest {
    /// The GGUF a runtime loads: the first `.gguf` file by path (the first shard of a split file), or nil for a
    /// checkpoint.
    public var firstGGUF: File? { files.filter { $0.path.hasSuffix(".gguf") }.min { $0.path < $1.path } }
}
