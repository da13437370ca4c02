/// Which of the gateway's endpoints a request asks for, from its method and path alone. Pure: the gateway's
/// route stage carries it out; a refusal (405, 404) comes back as the OpenAI-style error to answer with.
public enum GatewayEndpoint: Sendable, Equatable {
    /// `GET /health` or `GET /v1/health` (any method, before authentication: load balancers probe it).
    case health
    /// `GET /metrics`.
    case metrics
    /// `GET /v1/models`.
    case models
    /// `POST /v1/chat/completions` or `POST /v1/completions`: proxied to a runtime or the cloud.
    case completions
    /// Any other request: answered with this error.
    case refused(OpenAIError)

    /// The paths that are their own metrics label; every other path is counted as `other`, so clients cannot
    /// create series.
    public static let labelledPaths = ["/v1/chat/completions", "/v1/completions", "/v1/models", "/metrics"]

    /// True for the health paths, which are answered before authentication and limits.
    public static func isHealth(_ path: String) -> Bool { path == "/health" || path == "/v1/health" }

    /// The endpoint for `method` (upper case, e.g. `GET`) on `path`.
    public init(method: String, path: String) {
        switch (method, path) {
        case (_, _) where GatewayEndpoint.isHealth(path): self = .health
        case ("GET", "/metrics"): self = .metrics
        case ("GET", "/v1/models"): self = .models
        case ("POST", "/v1/chat/completions"), ("POST", "/v1/completions"): self = .completions
        case (_, _) where GatewayEndpoint.labelledPaths.contains(path):
            self = .refused(OpenAIError(status: 405, message: "\(method) is not allowed on \(path)", type: "invalid_request_error"))
        default:
            self = .refused(OpenAIError(status: 404, message: "no route \(LogText.capped(path, limit: 200)); the gateway serves /v1/chat/completions, "
                                            + "/v1/completions, /v1/models, /health and /metrics",
                                        type: "invalid_request_error", code: "unknown_url"))
        }
    }

    /// The `route` label of a request's metrics: its path when that is one of `labelledPaths`, else `other`.
    public static func metricsLabel(_ path: String) -> String { labelledPaths.contains(path) ? path : "other" }
}
