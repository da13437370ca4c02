import DSMServeCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A stage's refusal of a request: the OpenAI-style error to answer with, and what the access log and the metrics
/// should say about the request (the requested model and the version it reached, when known).
struct GatewayRefusal: Error {
    var error: OpenAIError
    /// The requested name as sent (`-` before the body was read); metrics show it as `unknown` when not served.
    var model = "-"
    /// Headers on top of the error's own (e.g. `Retry-After: 1` when no runtime is ready).
    var headers: [(String, String)] = []
    /// `vN` when a runtime was chosen, else `-`.
    var version = "-"
}

extension Gateway {
    /// The single error path: turns a stage's refusal into the error body and status, one access-log line and one
    /// metrics sample. `key` is the key label (`-` when authentication refused the request).
    func answer(_ refusal: GatewayRefusal, key: String, request: Request, began: Date) -> Response {
        let e = refusal.error
        var headers: HTTPFields = [.contentType: "application/json"]
        for (n, v) in e.headers + refusal.headers { headers[HTTPField.Name(n)!] = v }
        let path = request.uri.path
        let seconds = Date().timeIntervalSince(began)
        metrics.with {
            $0.record(model: label(refusal.model), version: refusal.version, route: GatewayEndpoint.metricsLabel(path), status: e.status, seconds: seconds)
        }
        if let accessLog {
            var line = AccessLog.Line(key: key, route: path, model: refusal.model, version: refusal.version, status: e.status,
                                      seconds: seconds)
            line.add("error", e.message)
            accessLog.write(line)
        }
        return Response(status: .init(code: e.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: e.body)))
    }
}
