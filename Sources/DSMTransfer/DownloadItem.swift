import DSMSystem

/// One file to download and what it must hash to.
public struct DownloadItem: Sendable {
    /// What the content is checked against.
    public enum Expectation: Sendable, Equatable {
        /// An LFS file: its SHA-256 (`lfs.oid` / `X-Linked-Etag`).
        case sha256(String)
        /// A small file kept in git: its blob SHA-1 (`oid` / `ETag`); its SHA-256 is computed while downloading.
        case gitBlob(String)

        /// A stable key for partial files: the same content resumes whichever repo it comes from.
        public var key: String {
            switch self {
            case .sha256(let h): return "sha256-\(h)"
            case .gitBlob(let h): return "gitblob-\(h)"
            }
        }
    }

    /// The path inside the repo, for messages and progress.
    public var name: String
    public var size: Int64
    public var expected: Expectation
    /// Where the partial file and its state live while downloading.
    public var partialPath: String
    public var statePath: String { partialPath + ".state" }
    /// Whether progress is checkpointed for a later run (off for small files, which restart from zero).
    public var resumable: Bool

    public init(name: String, size: Int64, expected: Expectation, partialPath: String, resumable: Bool = true) {
        self.name = name
        self.size = size
        self.expected = expected
        self.partialPath = partialPath
        self.resumable = resumable
    }
}

/// Where to GET the bytes of an item, after redirects have been resolved.
public struct DownloadSource: Sendable {
    public var url: String
    /// Extra request headers, e.g. `Authorization` for same-host hops (never for a CDN on another host).
    public var headers: [String]

    public init(url: String, headers: [String]) {
        self.url = url
        self.headers = headers
    }
}

/// What the store says before an item is downloaded.
public enum Preparation {
    /// Go ahead; `token` (for example a file lock) is kept until the item is finished.
    case start(token: AnyObject?)
    /// The content is already stored (by an earlier run or another process); nothing to fetch.
    case alreadyStored(sha256: String)
    /// Another process is downloading it right now; ask again later.
    case busy
}

/// The store-facing side of a download, called from worker threads.
public protocol DownloadDelegate: AnyObject, Sendable {
    /// Takes the per-content lock and checks whether the content is already stored.
    func prepare(_ item: DownloadItem) throws -> Preparation
    /// Resolves the URL to fetch (`refresh` after the previous one was refused, e.g. an expired signature).
    /// Requests made for it must stop when `cancel` is raised (the engine raises it on a fatal error).
    func source(for item: DownloadItem, refresh: Bool, cancel: CancellationFlag) throws -> DownloadSource
    /// Moves the verified partial file into the store. Called once per item, after verification.
    func commit(_ item: DownloadItem, partialPath: String, sha256: String) throws
    /// A message worth showing the user (a retry, a discarded corrupt download).
    func notice(_ message: String)
}

/// Why a download failed for good.
public struct DownloadError: Error, CustomStringConvertible, Sendable {
    public var item: String
    public var message: String
    public init(item: String, message: String) {
        self.item = item
        self.message = message
    }
    public var description: String { "\(item): \(message)" }
}

/// The result of a finished item.
public struct DownloadOutcome: Sendable {
    public var name: String
    public var sha256: String
    /// Body bytes written by this run (0 when reused).
    public var downloadedBytes: Int64
    /// Bytes that were already present (an earlier partial, or the stored blob).
    public var reusedBytes: Int64
}
