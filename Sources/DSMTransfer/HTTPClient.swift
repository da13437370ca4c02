import Foundation
import DSMSystem
import DSMHub

/// Small request/response exchanges (API JSON, `HEAD` metadata) with retries on transient failures.
/// Bodies are collected in memory up to a limit; large downloads go through `DownloadEngine` instead.
public final class HTTPClient: @unchecked Sendable {
    public struct Response: Sendable {
        public var head: HTTPResponseHead
        public var body: [UInt8]
        public var status: Int { head.status }
    }

    public let proxies: ProxySettings
    public let policy: RetryPolicy
    public let userAgent: String
    private let cancel: CancellationFlag
    private let easyHandles = ThreadLocalCurl()

    public init(proxies: ProxySettings, policy: RetryPolicy, userAgent: String, cancel: CancellationFlag) {
        self.proxies = proxies
        self.policy = policy
        self.userAgent = userAgent
        self.cancel = cancel
    }

    /// Sends `request` once (no retry). Throws `CurlError` when no response arrived.
    public func sendOnce(_ request: HTTPRequest, bodyLimit: Int = 64 << 20, cancel: CancellationFlag? = nil) throws(CurlError) -> Response {
        var req = request
        req.proxy = proxies.proxy(for: request.url)
        req.headers.append("User-Agent: \(userAgent)")
        let sink = CollectingSink(limit: bodyLimit, cancel: cancel ?? self.cancel)
        let head = try easyHandles.handle().perform(req, sink: sink)
        return Response(head: head, body: sink.bytes)
    }

    /// Sends `request`, retrying network errors and 408/429/5xx with the retry policy (honouring
    /// `Retry-After` and `RateLimit`). Returns the last response, which may still be an error status.
    /// `cancel` overrides the client's flag for this call (the download engine passes its own).
    public func send(_ request: HTTPRequest, bodyLimit: Int = 64 << 20, cancel override: CancellationFlag? = nil) throws -> Response {
        let cancel = override ?? self.cancel
        var attempt = 0
        while true {
            try cancel.check()
            do {
                let response = try sendOnce(request, bodyLimit: bodyLimit, cancel: cancel)
                if HubError.isRetryable(status: response.status), policy.shouldRetry(afterFailure: attempt + 1) {
                    attempt += 1
                    let hint = RetryHints.serverDelay(headers: response.head.headers)
                    try cancel.sleep(policy.delay(afterFailure: attempt, serverDelay: hint, jitter: Double.random(in: 0...1)))
                    continue
                }
                return response
            } catch let error as CurlError {
                if cancel.isCancelled { throw CancellationFlag.Cancelled() }
                attempt += 1
                guard error.isTransient, policy.shouldRetry(afterFailure: attempt) else { throw error }
                try cancel.sleep(policy.delay(afterFailure: attempt, serverDelay: nil, jitter: Double.random(in: 0...1)))
            }
        }
    }
}

/// One curl handle per thread, so connections are reused without sharing a handle between threads.
final class ThreadLocalCurl: @unchecked Sendable {
    private let key = "dsm.curl.easy"
    func handle() -> CurlEasy {
        if let existing = Thread.current.threadDictionary[key] as? CurlEasy { return existing }
        let created = CurlEasy()
        Thread.current.threadDictionary[key] = created
        return created
    }
}

/// Collects a body in memory, refusing more than `limit` bytes.
final class CollectingSink: HTTPBodySink {
    var bytes: [UInt8] = []
    let limit: Int
    let cancel: CancellationFlag
    init(limit: Int, cancel: CancellationFlag) {
        self.limit = limit
        self.cancel = cancel
    }
    func responseStarted(_ head: HTTPResponseHead) -> Bool { true }
    func received(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count + chunk.count <= limit else { return false }
        bytes.append(contentsOf: chunk)
        return true
    }
    func shouldCancel() -> Bool { cancel.isCancelled }
}
