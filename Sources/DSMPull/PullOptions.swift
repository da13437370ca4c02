import DSMHub
import DSMTransfer

/// Everything a pull needs besides the reference.
public struct PullOptions: Sendable {
    public var endpoint: HubEndpoint
    public var token: HubToken?
    public var proxies: ProxySettings
    public var storeRoot: String
    /// Connections for the whole pull (`--connections`); see `DownloadEngine.Options` for the defaults' reasons.
    public var connections: Int = 32
    /// Connections one file may use at once (`--connections-per-file`).
    public var connectionsPerFile: Int = 16
    public var stallSeconds: Int = 30
    public var retries: Int = 8
    public var maxSpeedPerConnection: Int64 = 0
    /// Store name override (`--name`).
    public var name: String?
    /// Revision override (`--revision`).
    public var revision: String?
    public var toolVersion: String

    public init(endpoint: HubEndpoint, token: HubToken?, proxies: ProxySettings, storeRoot: String, toolVersion: String) {
        self.endpoint = endpoint
        self.token = token
        self.proxies = proxies
        self.storeRoot = storeRoot
        self.toolVersion = toolVersion
    }
}

/// What a finished pull reports (`--json`).
public struct PullResult: Codable, Sendable {
    public struct File: Codable, Sendable {
        public var path: String
        public var size: Int64
        public var sha256: String
        public var blob: String
    }
    public var name: String
    public var repo: String
    public var revision: String
    public var commit: String
    public var endpoint: String
    public var manifest: String
    public var files: [File]
    public var downloadedBytes: Int64
    public var reusedBytes: Int64
    public var seconds: Double
    /// Wall seconds between the last byte arriving and the last file verified and stored.
    public var verifyTailSeconds: Double
    /// Seconds spent computing digests (overlapped with the download).
    public var hashSeconds: Double
    /// The registry version this pull is (v1, v2, …), and the name's stable version.
    public var version: Int = 0
    public var stable: Int?
    /// `gguf` or `hf-snapshot` (the manifest kind).
    public var kind: String = ""
    /// The quantization pulled from a GGUF repo (`Q4_K_M`), if one was.
    public var tag: String?
    /// How the files were chosen (`tag Q4_K_M`, `include '…'`), nil for the whole repo.
    public var selection: String?

    enum CodingKeys: String, CodingKey {
        case name, repo, revision, commit, endpoint, manifest, files, seconds, version, stable, kind, tag, selection
        case verifyTailSeconds = "verify_tail_seconds", hashSeconds = "hash_seconds"
        case downloadedBytes = "downloaded_bytes", reusedBytes = "reused_bytes"
    }
}

/// What a pull would take (`dsm pull --dry-run --json`).
public struct PullPreview: Codable, Sendable {
    public struct File: Codable, Sendable {
        public var path: String
        public var size: Int64
    }
    public var name: String
    public var repo: String
    public var revision: String
    public var commit: String
    public var kind: String
    public var tag: String?
    public var selection: String?
    public var files: [File]
    public var totalBytes: Int64

    enum CodingKeys: String, CodingKey { case name, repo, revision, commit, kind, tag, selection, files, totalBytes = "total_bytes" }
}
