/// The first entry of every bundle (`dsm-bundle.json`): what it holds, so import can check each entry as it reads
/// it. Format in docs/bundle.md.
public struct BundleTOC: Codable, Sendable, Equatable {
    public static let formatName = "dsm-bundle"
    public static let currentVersion = 1

    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int64
        public var sha256: String
        public init(path: String, size: Int64, sha256: String) {
            self.path = path
            self.size = size
            self.sha256 = sha256
        }
    }

    public struct Version: Codable, Sendable, Equatable {
        /// The version's number where it was exported (import numbers versions anew per name).
        public var number: Int
        /// SHA-256 of the manifest bytes (`manifests/sha256-<manifest>.json`).
        public var manifest: String
        public var createdAt: String
        enum CodingKeys: String, CodingKey { case number, manifest, createdAt = "created_at" }
        public init(number: Int, manifest: String, createdAt: String) {
            self.number = number
            self.manifest = manifest
            self.createdAt = createdAt
        }
    }

    public struct Name: Codable, Sendable, Equatable {
        public var name: String
        /// Oldest first.
        public var versions: [Version]
        public var stable: Int?
        public var canary: Int?
        public var weight: Int
        public var tags: [String: Int]
        public init(name: String, versions: [Version], stable: Int?, canary: Int?, weight: Int, tags: [String: Int]) {
            self.name = name
            self.versions = versions
            self.stable = stable
            self.canary = canary
            self.weight = weight
            self.tags = tags
        }
    }

    public var format: String = BundleTOC.formatName
    public var version: Int = BundleTOC.currentVersion
    public var createdAt: String
    public var tool: String
    public var names: [Name]
    /// Every entry after this one, in bundle order.
    public var entries: [Entry]

    enum CodingKeys: String, CodingKey { case format, version, createdAt = "created_at", tool, names, entries }

    public init(createdAt: String, tool: String, names: [Name], entries: [Entry]) {
        self.createdAt = createdAt
        self.tool = tool
        self.names = names
        self.entries = entries
    }

    public var totalBytes: Int64 { entries.reduce(0) { $0 + $1.size } }
}
