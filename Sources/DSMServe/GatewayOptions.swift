import DSMServeCore

/// What the gateway enforces and where it listens (defaults in docs/serving.md).
public struct GatewayOptions: Sendable {
    public var host = "127.0.0.1"
    /// dsm's default gateway port (Ollama uses 11434; dsm takes the next one).
    public var port = 11435
    public var keys: APIKeyRing?
    /// Requests per minute per key (per client address without keys); nil = no limit.
    public var rateLimit: Int?
    public var burst: Int?
    public var maxBodyBytes = 8 << 20
    /// JSON-lines access log; nil = none.
    public var accessLogPath: String?
    /// Include request bodies (prompts) in the access log.
    public var logPrompts = false
    public var cloud: CloudRoute.Options?
    /// Pause the canary (weight 0, recorded in the history) when its share of 5xx answers over the last
    /// `autoRollbackWindow` requests exceeds this fraction.
    public var autoRollbackErrorRate: Double?
    public var autoRollbackWindow = 20
    /// The per-run key the gateway sends to llama.cpp and vLLM runtimes (they are started with it, see
    /// `RuntimeKey`), so local users cannot bypass the gateway's keys and limits through the runtimes' loopback ports.
    public var runtimeKey: String?
    /// A connection that sends nothing (no complete request, no new request) for this long is closed.
    public var idleTimeout: Double = 60
    /// Longest time to receive a request's body once its head arrived.
    public var bodyTimeout: Double = 60
    /// Open connections accepted at once; more wait in the listen backlog.
    public var maxConnections = 1024
    /// Open connections accepted at once from one client address; more are closed at once.
    public var maxConnectionsPerClient = 128
    /// Requests without a valid key per minute per client address (when keys are required); beyond it, 429.
    public var unauthenticatedPerMinute = 60
    public init() {}
}
