/// Per-key request limits: a token bucket per key holding up to `burst` requests, refilled at `perMinute` / 60 a
/// second. Pure: the caller passes the time, so tests run without clocks.
public struct RateLimiter: Sendable {
    public let perMinute: Int
    public let burst: Int
    private var buckets: [String: (tokens: Double, at: Double)] = [:]

    /// What one request gets: allowed or not, and the numbers for the `x-ratelimit-*` and `Retry-After` headers.
    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        public var limit: Int
        public var remaining: Int
        /// Seconds until the bucket is full again.
        public var resetSeconds: Double
        /// Seconds until one request is allowed (0 when allowed), rounded up for `Retry-After`.
        public var retryAfter: Int
    }

    /// Most callers remembered at once (client addresses can be many): beyond it, callers whose bucket has refilled
    /// are forgotten (they lose nothing), then the longest idle half.
    public static let maxBuckets = 10_000

    /// Callers remembered now.
    public var trackedKeys: Int { buckets.count }

    private mutating func prune(now: Double) {
        let rate = Double(perMinute) / 60
        buckets = buckets.filter { $0.value.tokens + max(0, now - $0.value.at) * rate < Double(burst) }
        guard buckets.count >= RateLimiter.maxBuckets else { return }
        let newest = buckets.sorted { $0.value.at > $1.value.at }.prefix(RateLimiter.maxBuckets / 2)
        buckets = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
    }

    public init(perMinute: Int, burst: Int? = nil) {
        self.perMinute = max(1, perMinute)
        self.burst = max(1, burst ?? perMinute)
    }

    /// Takes one request from `key`'s bucket at time `now` (seconds).
    public mutating func take(_ key: String, now: Double) -> Decision {
        let rate = Double(perMinute) / 60
        if buckets[key] == nil, buckets.count >= RateLimiter.maxBuckets { prune(now: now) }
        var b = buckets[key] ?? (Double(burst), now)
        b.tokens = min(Double(burst), b.tokens + max(0, now - b.at) * rate)
        b.at = now
        let allowed = b.tokens >= 1
        if allowed { b.tokens -= 1 }
        buckets[key] = b
        let retry = allowed ? 0 : Int(((1 - b.tokens) / rate).rounded(.up))
        return Decision(allowed: allowed, limit: perMinute, remaining: Int(b.tokens.rounded(.down)),
                        resetSeconds: (Double(burst) - b.tokens) / rate, retryAfter: max(allowed ? 0 : 1, retry))
    }
}
