import Foundation
import NIOCore

/// Open connections per client address, shared by every connection's `PerClientConnectionLimit`.
final class ConnectionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var open: [String: Int] = [:]
    private var refusedCount = 0
    let perClient: Int

    init(perClient: Int) { self.perClient = max(1, perClient) }

    /// Counts a new connection from `address`; false (and not counted) when that address already has `perClient`.
    func admit(_ address: String) -> Bool {
        lock.withLock {
            let n = open[address, default: 0]
            guard n < perClient else {
                refusedCount += 1
                return false
            }
            open[address] = n + 1
            return true
        }
    }

    /// Forgets a connection `admit` counted.
    func release(_ address: String) {
        lock.withLock {
            let n = (open[address] ?? 1) - 1
            open[address] = n > 0 ? n : nil
        }
    }

    /// Connections closed at once because their address had too many open.
    var refused: Int { lock.withLock { refusedCount } }
}

/// Closes a new connection at once when its client address already has the most connections allowed, so one
/// client cannot hold every connection the gateway accepts (the total is capped by Hummingbird's
/// `MaximumAvailableConnections`, which stops accepting instead).
final class PerClientConnectionLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let counter: ConnectionCounter
    private var admitted: String?

    init(counter: ConnectionCounter) { self.counter = counter }

    func handlerAdded(context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if counter.admit(address) {
            admitted = address
        } else {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) { forget() }

    func channelInactive(context: ChannelHandlerContext) {
        forget()
        context.fireChannelInactive()
    }

    private func forget() {
        if let a = admitted { counter.release(a) }
        admitted = nil
    }
}

extension ConnectionCounter {
    /// This counter's series for `/metrics`.
    func metricsText() -> String {
        "# HELP dsm_connections_refused_total Connections closed at once because their client address had too many open.\n"
            + "# TYPE dsm_connections_refused_total counter\ndsm_connections_refused_total \(refused)\n"
    }
}
