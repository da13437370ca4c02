import Foundation

/// What the gateway's limit stages answer, from a `RateLimiter.Decision`. Pure.
public enum GatewayLimitAnswer {
    /// The `x-ratelimit-*` headers every answer to a limited caller carries.
    public static func headers(_ d: RateLimiter.Decision) -> [(String, String)] {
        [("x-ratelimit-limit-requests", String(d.limit)), ("x-ratelimit-remaining-requests", String(d.remaining)),
         ("x-ratelimit-reset-requests", String(format: "%.0fs", d.resetSeconds.rounded(.up)))]
    }

    /// The 429 for a caller over `--rate-limit`, or nil when the request may go on. `perKey` says whether the
    /// bucket is the API key's (keys configured) or the client address's.
    public static func refusal(_ d: RateLimiter.Decision, perKey: Bool) -> OpenAIError? {
        guard !d.allowed else { return nil }
        let who = perKey ? "this key" : "this address"
        return OpenAIError(status: 429, message: "Rate limit of \(d.limit) requests per minute reached for \(who); retry in \(d.retryAfter) s",
                           type: "rate_limit_error", code: "rate_limit_exceeded", headers: headers(d) + [("retry-after", String(d.retryAfter))])
    }

    /// The answer to a request without a valid key: 429 while the address is over its budget for such requests
    /// (guessing keys costs time), else 401.
    public static func unauthenticated(_ d: RateLimiter.Decision) -> OpenAIError {
        guard d.allowed else {
            return OpenAIError(status: 429, message: "too many requests without a valid API key from this address; retry in \(d.retryAfter) s",
                               type: "rate_limit_error", code: "rate_limit_exceeded", headers: [("retry-after", String(d.retryAfter))])
        }
        return .unauthorized()
    }
}
