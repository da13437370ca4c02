import AsyncHTTPClient
import DSMRegistry
import DSMServeCore
import Foundation
import NIOCore
import NIOHTTP1

/// DeepSeek's cloud API (OpenAI-compatible) as a route of the gateway: a fallback when a name's local runtime is
/// down, or a canary share of users. The key comes from an environment variable and is sent only to that URL.
public struct CloudRoute: Sendable {
    public struct Options: Sendable {
        /// `https://api.deepseek.com`; paths are `/chat/completions` and `/completions` under it.
        public var baseURL = "https://api.deepseek.com"
        public var apiKey: String
        /// The cloud model requests are sent as (`deepseek-chat`, `deepseek-reasoner`).
        public var model = "deepseek-chat"
        /// Use the cloud when no local runtime of the name is ready.
        public var fallback = true
        /// Percent of users (by the same sticky buckets) sent to the cloud; 0 = none.
        public var canaryWeight = 0
        public var maxAttempts = 4
        public init(apiKey: String) { self.apiKey = apiKey }
    }

    public let options: Options
    let client: HTTPClient

    /// Whether a user of `name` belongs to the cloud canary (an independent bucket, so it does not overlap the local
    /// canary's users in a fixed way).
    func isCanary(name: String, userKey: String) -> Bool {
        options.canaryWeight > 0 && Routing.bucket(name: name + "\u{0}cloud", userKey: userKey) < options.canaryWeight * 100
    }

    /// Sends the request body (its `model` replaced by the cloud model), retrying 429 and 503 with backoff (honouring
    /// `Retry-After` up to 10 s) before any byte is relayed.
    func send(path: String, body: [String: Any], accept: String?) async throws -> HTTPClientResponse {
        var b = body
        b["model"] = options.model
        let data = try JSONSerialization.data(withJSONObject: b)
        let sub = path.hasPrefix("/v1/") ? String(path.dropFirst(3)) : path
        var request = HTTPClientRequest(url: options.baseURL.trimmingSuffixSlash() + sub)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "authorization", value: "Bearer " + options.apiKey)
        if let accept { request.headers.add(name: "accept", value: accept) }
        request.body = .bytes(ByteBuffer(bytes: data))
        var delay = 0.5
        var attempt = 1
        while true {
            let response = try await client.execute(request, timeout: .seconds(600))
            guard [429, 503].contains(response.status.code), attempt < options.maxAttempts else { return response }
            let wait = response.headers.first(name: "retry-after").flatMap(Double.init).map { min($0, 10) } ?? delay
            _ = try? await response.body.collect(upTo: 1 << 20)
            try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
            delay = min(delay * 2, 8)
            attempt += 1
        }
    }
}

extension String {
    func trimmingSuffixSlash() -> String { hasSuffix("/") ? String(dropLast()) : self }
}
