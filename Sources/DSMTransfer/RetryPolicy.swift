/// When to try again and how long to wait: capped exponential backoff with full jitter,
/// overridden by a server's explicit delay (`Retry-After`, or `RateLimit` with `r=0`).
///
/// With the defaults the waits are about 0.5, 1, 2, 4, 8, 8, … seconds (times a jitter factor
/// in 0.5–1.5), and a segment gives up after `maxAttempts` consecutive attempts that made no progress.
public struct RetryPolicy: Sendable, Equatable {
    public var baseDelay: Double
    public var maxDelay: Double
    public var maxAttempts: Int
    /// Longest server-requested wait dsm honours; beyond it the request fails with the server's message.
    public var maxServerDelay: Double

    public init(baseDelay: Double = 0.5, maxDelay: Double = 8, maxAttempts: Int = 8, maxServerDelay: Double = 300) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
        self.maxServerDelay = maxServerDelay
    }

    /// The wait before attempt number `attempt + 1`, after `attempt` failures (1-based).
    /// `jitter` is a number in 0...1 (random in production, fixed in tests).
    public func delay(afterFailure attempt: Int, serverDelay: Double?, jitter: Double) -> Double {
        if let serverDelay { return min(serverDelay, maxServerDelay) }
        let exponent = Double(max(0, attempt - 1))
        let raw = min(maxDelay, baseDelay * pow2(exponent))
        return raw * (0.5 + jitter)
    }

    /// True while another attempt is allowed.
    public func shouldRetry(afterFailure attempt: Int) -> Bool { attempt < maxAttempts }

    private func pow2(_ e: Double) -> Double {
        var v = 1.0
        var i = 0.0
        while i < e && v < 1e9 { v *= 2; i += 1 }
        return v
    }
}
