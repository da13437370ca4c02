import AsyncHTTPClient
import DSMRegistry
import DSMServeCore
import DSMStore
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix

/// `dsm serve` end to end: start the runtimes of the chosen names, listen, follow the registry, and on SIGINT or
/// SIGTERM stop accepting, let in-flight requests finish, then stop the runtimes.
public enum Server {
    /// Runs Swift concurrency's jobs on NIO's event loop threads, so a request does not hop between the
    /// concurrency pool and the event loops on every await (measured with bench-serve's setup: 2,660 → 3,670 requests/s).
    /// Call once, from the main thread, before any task starts.
    public static func adoptEventLoopsForConcurrency() {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    public static func run(registry: Registry, names: [ModelName], fleetOptions: Fleet.Options, gatewayOptions: GatewayOptions,
                           log: @escaping @Sendable (String) -> Void) async throws {
        var fleetOptions = fleetOptions, gatewayOptions = gatewayOptions
        // A fresh key per run, known to the gateway and to the runtimes only (RuntimeKey.swift).
        let runtimeKey = try RuntimeKey.make(for: fleetOptions.kind, serveDirectory: registry.store.root + "/serve")
        runtimeKey?.apply(to: &fleetOptions.settings, &gatewayOptions)
        defer { runtimeKey?.remove() }
        var config = HTTPClient.Configuration()
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        config.decompression = .disabled
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        let metrics = MetricsBox()
        let fleet = try Fleet(registry: registry, options: fleetOptions, client: client, metrics: metrics, log: log)
        do {
            for name in names {
                log("starting \(fleetOptions.kind.rawValue) for \(name)")
                try await fleet.add(name)
            }
            let gateway = try Gateway(fleet: fleet, options: gatewayOptions, client: client, metrics: metrics, log: log)
            var logger = Logger(label: "dsm-serve")
            logger.logLevel = .warning
            let host = gatewayOptions.host, port = gatewayOptions.port
            let counter = gateway.connections
            let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [PerClientConnectionLimit(counter: counter)],
                                                   idleTimeout: .milliseconds(Int64(gatewayOptions.idleTimeout * 1000)))
            let app = Application(
                responder: CallbackResponder<GatewayContext> { request, context in
                    await gateway.respond(request, client: ClientConnection(channel: context.channel))
                },
                server: .http1(configuration: http1),
                configuration: .init(address: .hostname(host, port: port), serverName: nil,
                                     availableConnectionsDelegate: MaximumAvailableConnections(gatewayOptions.maxConnections)),
                onServerRunning: { _ in log("gateway listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port) (OpenAI-compatible: /v1/chat/completions, /v1/completions, /v1/models; /health, /metrics)") },
                logger: logger)
            try await app.runService()
            log("shutting down: in-flight requests finished; stopping runtimes")
        } catch {
            await fleet.stopAll()
            try? await client.shutdown()
            throw error
        }
        await fleet.stopAll()
        try await client.shutdown()
        log("stopped")
    }
}
