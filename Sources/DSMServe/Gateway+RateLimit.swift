import DSMServeCore
import Foundation

extension Gateway {
    /// The rate-limit stage (`--rate-limit`): takes one request from the caller's bucket (the key's, or the client
    /// address's when the gateway has no keys) and returns the `x-ratelimit-*` headers every answer carries.
    /// Refuses with 429 and `Retry-After` when the bucket is empty.
    func takeRateLimit(key: String, connection: ClientConnection) throws(GatewayRefusal) -> [(String, String)] {
        guard limiter != nil else { return [] }
        let perKey = options.keys != nil
        let bucket = perKey ? "key " + key : "address " + connection.address
        let d = lock.withLock { limiter!.take(bucket, now: Date().timeIntervalSince1970) }
        if let refusal = GatewayLimitAnswer.refusal(d, perKey: perKey) { throw GatewayRefusal(error: refusal) }
        return GatewayLimitAnswer.headers(d)
    }
}
