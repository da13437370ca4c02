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
    private let lock = NSLock()
    private var limiter: RateLimiter?
    private var canaryOutcomes: [String: [Bool]] = [:]
    let started = Date()

    init(fleet: Fleet, options: GatewayOptions, client: HTTPClient, metrics: MetricsBox, log: @escaping @Sendable (String) -> Void) throws {
        self.fleet = fleet
        self.options = options
        self.client = client
        self.metrics = metrics
        self.log = log
        accessLog = try options.accessLogPath.map(AccessLog.init)
        cloud = options.cloud.map { CloudRoute(options: $0, client: client) }
        limiter = options.rateLimit.map { RateLimiter(perMinute: $0, burst: options.burst) }
    }

    /// Answers one request (never throws: every failure is an OpenAI-shaped error response).
    func respond(_ request: Request) async -> Response {
        let began = Date()
        let path = request.uri.path
        if path == "/health" || path == "/v1/health" { return health() }
        var keyLabel = "anonymous"
        if let keys = options.keys {
            let presented = APIKeyRing.presentedKey(authorization: request.headers[.authorization],
                                                    xAPIKey: request.headers[HTTPField.Name("x-api-key")!])
            guard let p = presented, let label = keys.match(p) else {
                return finish(error: .unauthorized(), route: path, model: "-", began: began, key: "-", request: request)
            }
            keyLabel = label
        }
        var limitHeaders: [(String, String)] = []
        if limiter != nil {
            let d = lock.withLock { limiter!.take(keyLabel, now: Date().timeIntervalSince1970) }
            limitHeaders = [("x-ratelimit-limit-requests", String(d.limit)), ("x-ratelimit-remaining-requests", String(d.remaining)),
                            ("x-ratelimit-reset-requests", String(format: "%.0fs", d.resetSeconds.rounded(.up)))]
            if !d.allowed {
                let e = OpenAIError(status: 429, message: "Rate limit of \(d.limit) requests per minute reached for this key; retry in \(d.retryAfter) s",
                                    type: "rate_limit_error", code: "rate_limit_exceeded",
                                    headers: limitHeaders + [("retry-after", String(d.retryAfter))])
                return finish(error: e, route: path, model: "-", began: began, key: keyLabel, request: request)
            }
        }
        var response: Response
        switch (request.method, path) {
        case (.get, "/metrics"):
            response = Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                                body: .init(byteBuffer: ByteBuffer(string: metrics.with { $0.render() })))
        case (.get, "/v1/models"):
            response = json(200, models())
        case (.post, "/v1/chat/completions"), (.post, "/v1/completions"):
            response = await proxy(request, path: path, key: keyLabel, began: began)
        case (_, "/v1/chat/completions"), (_, "/v1/completions"), (_, "/v1/models"), (_, "/metrics"):
            response = finish(error: OpenAIError(status: 405, message: "\(request.method) is not allowed on \(path)", type: "invalid_request_error"),
                              route: path, model: "-", began: began, key: keyLabel, request: request)
        default:
            response = finish(error: OpenAIError(status: 404, message: "no route \(path); the gateway serves /v1/chat/completions, /v1/completions, /v1/models, /health and /metrics",
                                                 type: "invalid_request_error", code: "unknown_url"),
                              route: "other", model: "-", began: began, key: keyLabel, request: request)
        }
        for (n, v) in limitHeaders { response.headers[HTTPField.Name(n)!] = v }
        return response
    }

    // MARK: - Proxy

    private func proxy(_ incoming: Request, path: String, key: String, began: Date) async -> Response {
        var request = incoming
        let bytes: ByteBuffer
        do {
            bytes = try await request.collectBody(upTo: options.maxBodyBytes)
        } catch {
            return finish(error: OpenAIError(status: 413, message: "the request body is larger than \(options.maxBodyBytes) bytes (--max-body-bytes)",
                                             type: "invalid_request_error", code: "request_too_large"),
                          route: path, model: "-", began: began, key: key, request: incoming)
        }
        guard let fields = bytes.withUnsafeReadableBytes({ RequestFields.scan($0) }) else {
            return finish(error: .badRequest("the body must be a JSON object"), route: path, model: "-", began: began, key: key, request: incoming)
        }
        guard let requested = fields.model else {
            return finish(error: .badRequest("`model` is required: one of \(fleet.names.joined(separator: ", "))"),
                          route: path, model: "-", began: began, key: key, request: incoming)
        }
        let (namePart, selector) = VersionSelector.split(requested)
        var pinned: Int?
        if let selector {
            guard case .number(let n) = selector else {
                return finish(error: .badRequest("pin a version as NAME@vN (got \(requested))"), route: path, model: requested, began: began, key: key, request: incoming)
            }
            pinned = n
        }
        guard let name = (try? ModelName(parsing: namePart))?.description else {
            return finish(error: .notFound("'\(requested)' is not a model name; served: \(fleet.names.joined(separator: ", "))"),
                          route: path, model: requested, began: began, key: key, request: incoming)
        }
        let stream = fields.stream
        let userKey = fields.user ?? incoming.headers[HTTPField.Name("x-session-id")!] ?? (key == "anonymous" ? UUID().uuidString : key)
        // The whole tree only where it is needed: a changed `model` (Ollama, vLLM, the cloud).
        let object = { (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]) ?? [:] }
        let context = Exchange(name: name, path: path, key: key, began: began, stream: stream,
                               body: options.logPrompts ? String(buffer: bytes) : nil,
                               userBucket: TrafficSplit.bucket(name: "user", userKey: userKey))

        var attempt = 0
        while true {
            attempt += 1
            let route = fleet.route(name, userKey: userKey, pinned: pinned)
            guard route.known else {
                return finish(error: .notFound("the model '\(name)' is not served here; served: \(fleet.names.joined(separator: ", "))"),
                              route: path, model: name, began: began, key: key, request: incoming)
            }
            if let cloud, cloud.isCanary(name: name, userKey: userKey) || (route.instance == nil && cloud.options.fallback) {
                do {
                    let r = try await cloud.send(path: path, body: object(), accept: incoming.headers[.accept])
                    return relay(r, version: "cloud", instance: nil, context)
                } catch {
                    return finish(error: .unavailable("DeepSeek's API could not be reached: \(error)"), route: path, model: name, began: began, key: key, request: incoming)
                }
            }
            // The split chose a version whose runtime is down and another one answers: for the canary that counts
            // as a failure (a canary that keeps crashing should be rolled back even though users are served).
            if let chosen = route.version, let served = route.instance?.model.version, chosen != served {
                watchCanary(name, version: chosen, failed: true)
            }
            guard let instance = route.instance, let version = route.instance?.model.version ?? route.version else {
                return finish(error: .unavailable("no runtime of \(name)\(route.version.map { "@v\($0)" } ?? "") is ready (starting or restarting); retry shortly"),
                              route: path, model: name, began: began, key: key, request: incoming, headers: [("retry-after", "1")])
            }
            var upstream = HTTPClientRequest(url: "http://127.0.0.1:\(instance.port)\(path)")
            upstream.method = .POST
            upstream.headers.add(name: "content-type", value: "application/json")
            if let a = incoming.headers[.accept] { upstream.headers.add(name: "accept", value: a) }
            if let k = options.runtimeKey { upstream.headers.add(name: "authorization", value: "Bearer " + k) }
            if let m = instance.plan.upstreamModel {
                var o = object()
                o["model"] = m
                upstream.body = .bytes(ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: o)) ?? Data(bytes.readableBytesView)))
            } else {
                upstream.body = .bytes(bytes)
            }
            instance.begin()
            do {
                let r = try await client.execute(upstream, timeout: .seconds(3600))
                return relay(r, version: "v\(version)", instance: instance, context)
            } catch {
                instance.end()
                // The runtime went away between routing and sending (it died, or is being replaced): route again.
                if attempt < 3 {
                    try? await Task.sleep(nanoseconds: 200_000_000)
                    continue
                }
                return finish(error: .unavailable("the runtime of \(name)@v\(version) did not answer: \(error)"), route: path, model: name,
                              began: began, key: key, request: incoming, headers: [("retry-after", "1")], version: "v\(version)")
            }
        }
    }

    /// What one proxied request carries from routing to its last byte.
    struct Exchange: Sendable {
        var name: String, path: String, key: String, began: Date, stream: Bool
        /// The request body, when prompts are logged.
        var body: String?
        var userBucket: Int
    }

    private func relay(_ r: HTTPClientResponse, version: String, instance: RuntimeInstance?, _ x: Exchange) -> Response {
        var headers: HTTPFields = [:]
        for name in ["content-type", "cache-control"] { if let v = r.headers.first(name: name) { headers[HTTPField.Name(name)!] = v } }
        headers[HTTPField.Name("x-dsm-model")!] = x.name
        headers[HTTPField.Name("x-dsm-version")!] = version
        let status = Int(r.status.code)
        metrics.with { $0.inFlight += 1 }
        let body = ResponseBody { [self] writer in
            var sent = 0
            var kept: [UInt8] = []
            var failure: String?
            do {
                for try await chunk in r.body {
                    sent += chunk.readableBytes
                    if !x.stream, kept.count < 1 << 20 { kept += chunk.readableBytesView }
                    if x.stream, chunk.readableBytesView.count > 8 { self.countStreamUsage(chunk, x.name, version) }
                    try await writer.write(chunk)
                }
            } catch {
                failure = "\(error)"
                // The runtime died mid-response: end an event stream with an error event, as runtimes do.
                if x.stream {
                    let e = OpenAIError(status: 502, message: "the runtime of \(x.name)@\(version) stopped in the middle of the response", type: "server_error", code: "runtime_failed")
                    try? await writer.write(ByteBuffer(string: "data: \(e.body)\n\n"))
                }
            }
            if !x.stream, let o = try? JSONSerialization.jsonObject(with: Data(kept)) as? [String: Any] { self.countUsage(o, x.name, version) }
            instance?.end()
            try? await writer.finish(nil)
            self.completed(x, version: version, status: failure == nil ? status : 502, bytes: sent, failure: failure)
        }
        return Response(status: .init(code: status), headers: headers, body: body)
    }

    private func countUsage(_ o: [String: Any], _ name: String, _ version: String) {
        guard let u = o["usage"] as? [String: Any] else { return }
        metrics.with {
            if let p = u["prompt_tokens"] as? Int { $0.addTokens(model: name, version: version, kind: "prompt", count: p) }
            if let c = u["completion_tokens"] as? Int { $0.addTokens(model: name, version: version, kind: "completion", count: c) }
        }
    }

    private func countStreamUsage(_ chunk: ByteBuffer, _ name: String, _ version: String) {
        let text = String(buffer: chunk)
        guard text.contains("\"usage\"") else { return }
        for line in text.split(separator: "\n") where line.hasPrefix("data: {") {
            if let o = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any] { countUsage(o, name, version) }
        }
    }

    private func completed(_ x: Exchange, version: String, status: Int, bytes: Int, failure: String?) {
        let seconds = Date().timeIntervalSince(x.began)
        metrics.with {
            $0.inFlight -= 1
            $0.record(model: x.name, version: version, route: x.path, status: status, seconds: seconds)
        }
        if let accessLog {
            var line = AccessLog.Line(key: x.key, route: x.path, model: x.name, version: version, status: status, seconds: seconds)
            line.add("bytes", bytes)
            line.add("stream", x.stream)
            line.add("user_bucket", x.userBucket)
            if let failure { line.add("error", failure) }
            if let b = x.body { line.add("request", json: b) }
            accessLog.write(line)
        }
        if version.hasPrefix("v") { watchCanary(x.name, version: Int(version.dropFirst()) ?? 0, failed: status >= 500) }
    }

    // MARK: - Automatic rollback

    func watchCanary(_ name: String, version: Int, failed: Bool) {
        guard let threshold = options.autoRollbackErrorRate,
              let split = fleet.split(of: name), split.canary == version, split.weight > 0 else { return }
        let window = options.autoRollbackWindow
        let trip: Double? = lock.withLock {
            var o = canaryOutcomes["\(name)@\(version)", default: []]
            o.append(failed)
            if o.count > window { o.removeFirst(o.count - window) }
            canaryOutcomes["\(name)@\(version)"] = o
            let rate = Double(o.filter { $0 }.count) / Double(o.count)
            guard o.count >= window, rate > threshold else { return nil }
            canaryOutcomes["\(name)@\(version)"] = []
            return rate
        }
        guard let rate = trip, let model = try? ModelName(parsing: name) else { return }
        let why = "dsm serve: automatic rollback: canary v\(version) failed \(Int(rate * 100))% of the last \(window) requests (threshold \(Int(threshold * 100))%)"
        do {
            try fleet.registry.change(model, .release(canary: nil, weight: 0), command: why)
            log(why + "; its weight is now 0")
        } catch {
            log("automatic rollback of \(name) failed: \(error)")
        }
    }

    // MARK: - Plain answers

    private func models() -> [String: Any] {
        let created = Int(started.timeIntervalSince1970)
        return ["object": "list", "data": fleet.snapshot().map { e -> [String: Any] in
            ["id": e.name, "object": "model", "created": created, "owned_by": "dsm",
             "dsm": ["stable": e.split.stable as Any, "canary": e.split.canary as Any, "weight": e.split.weight]]
        }]
    }

    private func health() -> Response {
        var allReady = true
        var models: [String: Any] = [:]
        for e in fleet.snapshot() {
            let runtimes = e.instances.map { i -> [String: Any] in
                ["version": i.model.version, "phase": i.phase.rawValue, "port": i.port, "pid": i.pid as Any, "in_flight": i.inFlight]
            }
            if !e.instances.contains(where: { $0.model.version == e.split.stable && $0.phase == .ready }) { allReady = false }
            models[e.name] = ["stable": e.split.stable as Any, "canary": e.split.canary as Any, "weight": e.split.weight, "runtimes": runtimes]
        }
        return json(allReady ? 200 : 503, ["status": allReady ? "ok" : "degraded", "models": models])
    }

    private func json(_ status: Int, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func finish(error e: OpenAIError, route: String, model: String, began: Date, key: String, request: Request,
                        headers extra: [(String, String)] = [], version: String = "-") -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        for (n, v) in e.headers + extra { headers[HTTPField.Name(n)!] = v }
        let known = ["/v1/chat/completions", "/v1/completions", "/v1/models", "/metrics"].contains(route) ? route : "other"
        metrics.with { $0.record(model: model, version: version, route: known, status: e.status, seconds: Date().timeIntervalSince(began)) }
        if let accessLog {
            var line = AccessLog.Line(key: key, route: request.uri.path, model: model, version: version, status: e.status,
                                      seconds: Date().timeIntervalSince(began))
            line.add("error", e.message)
            accessLog.write(line)
        }
        return Response(status: .init(code: e.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: e.body)))
    }
}
