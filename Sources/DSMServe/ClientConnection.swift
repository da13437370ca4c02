import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The connection a request came on: the client's address (for per-address limits and the log) and a way to
/// stop waiting for a runtime when the client hangs up, so the runtime's work is cancelled instead of finished
/// for nobody.
struct ClientConnection: Sendable {
    let channel: any Channel

    /// The peer's IP address (or `unknown`).
    var address: String { channel.remoteAddress?.ipAddress ?? "unknown" }

    /// Whether the client has gone.
    var isClosed: Bool { !channel.isActive }

    /// Runs `work`, cancelling it when the connection closes first (AsyncHTTPClient then drops the upstream
    /// request, which makes the runtime stop generating).
    func untilClosed<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await work() }
        channel.closeFuture.whenComplete { _ in task.cancel() }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }
}

/// The gateway's request context: Hummingbird's basic one plus the connection.
struct GatewayContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
