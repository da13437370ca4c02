/// Server hints on when to retry: `Retry-After` (seconds only, as huggingface_hub) and the
/// IETF draft `RateLimit: "resolvers";r=<remaining>;t=<seconds to reset>` header.
public enum RetryHints {
    /// Seconds from `Retry-After`, when it is a non-negative integer (HTTP-dates are ignored).
    public static func retryAfter(_ value: String?) -> Double? {
        guard let value, let seconds = Int(value.trimmingSpaces()), seconds >= 0 else { return nil }
        return Double(seconds)
    }

    /// Parsed `RateLimit` header: remaining requests and seconds until the window resets.
    public struct RateLimit: Equatable, Sendable {
        public var policy: String?
        public var remaining: Int?
        public var resetSeconds: Int?

        public init(policy: String? = nil, remaining: Int? = nil, resetSeconds: Int? = nil) {
            self.policy = policy
            self.remaining = remaining
            self.resetSeconds = resetSeconds
        }
    }

    /// Parses `"resolvers";r=2998;t=172` (parameters may come in any order; quotes optional).
    public static func rateLimit(_ value: String?) -> RateLimit? {
        guard let value, !value.isEmpty else { return nil }
        var result = RateLimit()
        for item in value.split(separator: ";") {
            let part = item.trimmingSpacesSub()
            if let eq = part.firstIndex(of: "=") {
                let key = part[..<eq]
                let number = Int(part[part.index(after: eq)...])
                if key == "r" { result.remaining = number }
                if key == "t" { result.resetSeconds = number }
            } else {
                result.policy = part.replacingQuotes()
            }
        }
        return result
    }

    /// How long the server asks us to wait, if it asks: `Retry-After`, or the reset time plus one
    /// second when the rate-limit window is exhausted (`r=0`), as huggingface_hub does.
    public static func serverDelay(headers: [String: String]) -> Double? {
        // In Double: a reset time of Int.max seconds plus one would overflow (and trap) in Int.
        if let rl = rateLimit(headers["ratelimit"]), rl.remaining == 0, let t = rl.resetSeconds { return Double(t) + 1 }
        return retryAfter(headers["retry-after"])
    }
}

extension Substring {
    func trimmingSpacesSub() -> String { String(self).trimmingSpaces() }
}

extension String {
    func replacingQuotes() -> String { String(filter { $0 != "\"" }) }
}
