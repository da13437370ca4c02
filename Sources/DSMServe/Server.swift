import AsyncHTTPClient
import DSMRegistry
import DSMServeCore
import DSMStore
import Foundation
import Hummingbird
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
        // A fresh key per run, known to the gateway and (through a 0600 file) to the llama.cpp runtimes only.
        var keyFile: String?
        if fleetOptions.kind == .llamaCpp {
            let key = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            let path = registry.store.root + "/serve/runtime-key-\(getpid())"
            try FileManager.default.createDirectory(atPath: registry.store.root + "/serve", withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw SpawnError("cannot write the runtime key file \(path)")
            }
            keyFile = path
            fleetOptions.settings.runtimeKeyFile = path
            gatewayOptions.runtimeKey = key
        }
        defer { if let keyFile { try? FileManager.default.removeItem(atPath: keyFile) } }
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
            let app = Application(
                responder: CallbackResponder<BasicRequestContext> { request, _ in await gateway.respond(request) },
                configuration: .init(address: .hostname(host, port: port), serverName: nil),
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
