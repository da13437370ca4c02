import DSMServeCore
import Foundation
import HTTPTypes
import Hummingbird

extension Gateway {
    /// The authentication stage: the label of the request's API key (`anonymous` when the gateway has no keys).
    /// A request without a valid key is refused with 401, or with 429 once its address has sent too many of them
    /// (checked before keys, so guessing costs time). Never sees the key in a log: only its label travels on.
    func authenticate(_ request: Request, connection: ClientConnection) throws(GatewayRefusal) -> String {
        guard let keys = options.keys else { return "anonymous" }
        let presented = APIKeyRing.presentedKey(authorization: request.headers[.authorization],
                                                xAPIKey: request.headers[HTTPField.Name("x-api-key")!])
        if let p = presented, let label = keys.match(p) { return label }
        let d = lock.withLock { unauthenticated.take(connection.address, now: Date().timeIntervalSince1970) }
        throw GatewayRefusal(error: GatewayLimitAnswer.unauthenticated(d))
    }
}
