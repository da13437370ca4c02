import AsyncHTTPClient
import DSMRegistry
import DSMServeCore
import DSMStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// The OpenAI-compatible gateway: `/v1/chat/completions`, `/v1/completions` (streaming passed through as it
/// arrives), `/v1/models`, `/health`, `/metrics`. It checks keys and limits, picks the version by the name's
/// channels, forwards to that version's runtime, and says which version answered (`x-dsm-version`).
public final class Gateway: @unchecked Sendable {
    let fleet: Fleet
    let options: GatewayOptions
    let client: HTTPClient
    let metrics: MetricsBox
    let accessLog: AccessLog?
    let cloud: CloudRoute?
    let log: @Sendable (String) -> Void
    let lock = NSLock()
    var limiter: RateLimiter?
    /// Requests without a valid key, per client address: checked before keys, so guessing costs time.
    var unauthenticated: RateLimiter
    var canaryOutcomes: [String: [Bool]] = [:]
    /// Open connections per client address (`--max-connections-per-client`).
    let connections: ConnectionCounter
    let started = Date()

    init(fleet: Fleet, options: GatewayOptions, client: HTTPClient, metrics: MetricsBox, log: @escaping @Sendable (String) -> Void) throws {
        self.fleet = fleet
        self.options = options
        self.client = client
        self.metrics = metrics
        self.log = log
        accessLog = try options.accessLogPath.map { try AccessLog(path: $0, report: log) }
        cloud = options.cloud.map { CloudRoute(options: $0, client: client) }
        limiter = options.rateLimit.map { RateLimiter(perMinute: $0, burst: options.burst) }
        unauthenticated = RateLimiter(perMinute: options.unauthenticatedPerMinute, burst: options.unauthenticatedPerMinute)
        connections = ConnectionCounter(perClient: options.maxConnectionsPerClient)
    }

    /// Answers one request (never throws: every failure is an OpenAI-shaped error response). `client` is the
    /// connection it came on: its address for limits, its closing to cancel the runtime's work.
    ///
    /// The request passes the stages in order: health (answered before anything else), authentication, rate
    /// limit, route, then the proxy (a runtime or the cloud). A stage refuses by throwing a `GatewayRefusal`;
    /// `answer(_:key:request:began:)` is the one place that turns it into a response, a log line and metrics.
    /// Proxied answers are accounted for by their `ExchangeRecord`.
    func respond(_ request: Request, client connection: ClientConnection) async -> Response {
        let began = Date()
        let path = request.uri.path
        let endpoint = GatewayEndpoint(method: request.method.rawValue, path: path)
        if endpoint == .health { return health() }
        var key = "-"
        var limitHeaders: [(String, String)] = []
        var response: Response
        do throws(GatewayRefusal) {
            key = try authenticate(request, connection: connection)
            limitHeaders = try takeRateLimit(key: key, connection: connection)
            switch endpoint {
            case .health: response = health()
            case .metrics: response = metricsAnswer()
            case .models: response = json(200, models())
            case .completions: response = try await proxy(request, path: path, key: key, began: began, connection: connection)
            case .refused(let e): throw GatewayRefusal(error: e)
            }
        } catch {
            response = answer(error, key: key, request: request, began: began)
        }
        for (n, v) in limitHeaders { response.headers[HTTPField.Name(n)!] = v }
        return response
    }

    /// The metrics label of a requested name: itself when it is served here, else `unknown`, so clients cannot
    /// create series.
    func label(_ model: String) -> String { model == "-" || fleet.serves(model) ? model : "unknown" }
}
