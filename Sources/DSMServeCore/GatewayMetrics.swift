/// What `/metrics` reports, in Prometheus' text format: requests by model, version, route and status; latency
/// histograms; tokens from the runtimes' `usage`; runtime restarts; requests in flight. Pure: the gateway owns
/// one behind a lock.
public struct GatewayMetrics: Sendable {
    struct RequestKey: Hashable, Comparable {
        var model: String, version: String, route: String, status: Int
        static func < (a: Self, b: Self) -> Bool { (a.model, a.version, a.route, a.status) < (b.model, b.version, b.route, b.status) }
    }
    struct SeriesKey: Hashable, Comparable {
        var model: String, version: String, label: String
        static func < (a: Self, b: Self) -> Bool { (a.model, a.version, a.label) < (b.model, b.version, b.label) }
    }

    /// Latency bucket bounds in seconds.
    public static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    var requests: [RequestKey: Int] = [:]
    var latencyCounts: [SeriesKey: [Int]] = [:]
    var latencySums: [SeriesKey: Double] = [:]
    var tokens: [SeriesKey: Int] = [:]
    var restarts: [SeriesKey: Int] = [:]
    public var inFlight = 0

    public init() {}

    /// Records one finished request. `version` is `v3`, `cloud`, or `-` when none was chosen.
    public mutating func record(model: String, version: String, route: String, status: Int, seconds: Double) {
        requests[RequestKey(model: model, version: version, route: route, status: status), default: 0] += 1
        let key = SeriesKey(model: model, version: version, label: route)
        var counts = latencyCounts[key] ?? Array(repeating: 0, count: GatewayMetrics.bounds.count)
        for (i, b) in GatewayMetrics.bounds.enumerated() where seconds <= b { counts[i] += 1 }
        latencyCounts[key] = counts
        latencySums[key, default: 0] += seconds
    }

    /// Adds tokens a runtime reported (`kind` is `prompt` or `completion`).
    public mutating func addTokens(model: String, version: String, kind: String, count: Int) {
        tokens[SeriesKey(model: model, version: version, label: kind), default: 0] += count
    }

    public mutating func recordRestart(model: String, version: String) {
        restarts[SeriesKey(model: model, version: version, label: ""), default: 0] += 1
    }

    /// The exposition text.
    public func render() -> String {
        var out = "# HELP dsm_requests_total Requests answered by the gateway.\n# TYPE dsm_requests_total counter\n"
        for (k, n) in requests.sorted(by: { $0.key < $1.key }) {
            out += "dsm_requests_total{model=\"\(esc(k.model))\",version=\"\(k.version)\",route=\"\(k.route)\",status=\"\(k.status)\"} \(n)\n"
        }
        out += "# HELP dsm_request_errors_total Requests answered with a status of 400 or above.\n# TYPE dsm_request_errors_total counter\n"
        var errors: [SeriesKey: Int] = [:]
        for (k, n) in requests where k.status >= 400 { errors[SeriesKey(model: k.model, version: k.version, label: k.route), default: 0] += n }
        for (k, n) in errors.sorted(by: { $0.key < $1.key }) {
            out += "dsm_request_errors_total{model=\"\(esc(k.model))\",version=\"\(k.version)\",route=\"\(k.label)\"} \(n)\n"
        }
        out += "# HELP dsm_request_duration_seconds Time from request to the last byte of the response.\n# TYPE dsm_request_duration_seconds histogram\n"
        for (k, counts) in latencyCounts.sorted(by: { $0.key < $1.key }) {
            let labels = "model=\"\(esc(k.model))\",version=\"\(k.version)\",route=\"\(k.label)\""
            for (i, b) in GatewayMetrics.bounds.enumerated() { out += "dsm_request_duration_seconds_bucket{\(labels),le=\"\(b)\"} \(counts[i])\n" }
            let total = requests.filter { $0.key.model == k.model && $0.key.version == k.version && $0.key.route == k.label }.values.reduce(0, +)
            out += "dsm_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(total)\n"
            out += "dsm_request_duration_seconds_sum{\(labels)} \(latencySums[k] ?? 0)\n"
            out += "dsm_request_duration_seconds_count{\(labels)} \(total)\n"
        }
        out += "# HELP dsm_tokens_total Tokens the runtimes reported in usage.\n# TYPE dsm_tokens_total counter\n"
        for (k, n) in tokens.sorted(by: { $0.key < $1.key }) {
            out += "dsm_tokens_total{model=\"\(esc(k.model))\",version=\"\(k.version)\",kind=\"\(k.label)\"} \(n)\n"
        }
        out += "# HELP dsm_runtime_restarts_total Runtime processes restarted after they died.\n# TYPE dsm_runtime_restarts_total counter\n"
        for (k, n) in restarts.sorted(by: { $0.key < $1.key }) {
            out += "dsm_runtime_restarts_total{model=\"\(esc(k.model))\",version=\"\(k.version)\"} \(n)\n"
        }
        out += "# HELP dsm_requests_in_flight Requests being answered now.\n# TYPE dsm_requests_in_flight gauge\ndsm_requests_in_flight \(inFlight)\n"
        return out
    }

    func esc(_ s: String) -> String {
        String(s.flatMap { c -> [Character] in c == "\\" ? ["\\", "\\"] : c == "\"" ? ["\\", "\""] : c == "\n" ? ["\\", "n"] : [c] })
    }
}
