import DSMServeCore
import Testing

/// The gateway's route and limit decisions without sockets.
@Suite struct GatewayEndpointTests {
    @Test(arguments: ["GET", "POST", "HEAD", "DELETE"])
    func healthIsAnsweredForAnyMethod(method: String) {
        #expect(GatewayEndpoint(method: method, path: "/health") == .health)
        #expect(GatewayEndpoint(method: method, path: "/v1/health") == .health)
    }

    @Test func knownEndpoints() {
        #expect(GatewayEndpoint(method: "GET", path: "/metrics") == .metrics)
        #expect(GatewayEndpoint(method: "GET", path: "/v1/models") == .models)
        #expect(GatewayEndpoint(method: "POST", path: "/v1/chat/completions") == .completions)
        #expect(GatewayEndpoint(method: "POST", path: "/v1/completions") == .completions)
    }

    @Test(arguments: [("GET", "/v1/chat/completions"), ("PUT", "/v1/completions"), ("POST", "/v1/models"), ("DELETE", "/metrics")])
    func wrongMethodIs405(method: String, path: String) {
        let expected = OpenAIError(status: 405, message: "\(method) is not allowed on \(path)", type: "invalid_request_error")
        #expect(GatewayEndpoint(method: method, path: path) == .refused(expected))
    }

    @Test func unknownPathIs404WithACappedEcho() {
        guard case .refused(let e) = GatewayEndpoint(method: "GET", path: "/v2/" + String(repeating: "x", count: 1000)) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(e.status == 404 && e.code == "unknown_url" && e.type == "invalid_request_error")
        #expect(e.message.count < 400)
        #expect(e.message.hasSuffix("the gateway serves /v1/chat/completions, /v1/completions, /v1/models, /health and /metrics"))
    }

    @Test func metricsLabelsAreBounded() {
        for path in GatewayEndpoint.labelledPaths { #expect(GatewayEndpoint.metricsLabel(path) == path) }
        #expect(GatewayEndpoint.metricsLabel("/v1/embeddings") == "other")
        #expect(GatewayEndpoint.metricsLabel("/health") == "other")
        #expect(GatewayEndpoint.metricsLabel("/random/\u{1}") == "other")
    }

    @Test func rateLimitHeadersAndRefusal() {
        var limiter = RateLimiter(perMinute: 60, burst: 1)
        let first = limiter.take("k", now: 0)
        #expect(GatewayLimitAnswer.refusal(first, perKey: true) == nil)
        let h = GatewayLimitAnswer.headers(first)
        #expect(h.map(\.0) == ["x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"])
        #expect(h.map(\.1) == ["60", "0", "1s"])
        let second = limiter.take("k", now: 0)
        let refusal = GatewayLimitAnswer.refusal(second, perKey: true)
        #expect(refusal == OpenAIError(status: 429, message: "Rate limit of 60 requests per minute reached for this key; retry in 1 s",
                                       type: "rate_limit_error", code: "rate_limit_exceeded"))
        #expect(refusal?.headers.last.map { [$0.0, $0.1] } == ["retry-after", "1"])
        #expect(refusal?.headers.count == 4)
        #expect(GatewayLimitAnswer.refusal(second, perKey: false)?.message.contains("for this address") == true)
    }

    @Test func requestsWithoutAValidKey() {
        var limiter = RateLimiter(perMinute: 1, burst: 1)
        #expect(GatewayLimitAnswer.unauthenticated(limiter.take("10.0.0.1", now: 0)) == .unauthorized())
        let e = GatewayLimitAnswer.unauthenticated(limiter.take("10.0.0.1", now: 0))
        #expect(e.status == 429 && e.code == "rate_limit_exceeded")
        #expect(e.message == "too many requests without a valid API key from this address; retry in 60 s")
        #expect(e.headers.map { [$0.0, $0.1] } == [["retry-after", "60"]])
    }
}
