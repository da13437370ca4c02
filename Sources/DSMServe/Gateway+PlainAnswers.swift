import DSMRegistry
import DSMServeCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The gateway's answers that need no runtime: `/v1/models`, `/health` and `/metrics`.
extension Gateway {
    /// `/v1/models`: every served name with its channels.
    func models() -> [String: Any] {
        let created = Int(started.timeIntervalSince1970)
        return ["object": "list", "data": fleet.snapshot().map { e -> [String: Any] in
            ["id": e.name, "object": "model", "created": created, "owned_by": "dsm",
             "dsm": ["stable": e.split.stable as Any, "canary": e.split.canary as Any, "weight": e.split.weight]]
        }]
    }

    /// `/health`: 200 when every name's stable version has a ready runtime, else 503 (`degraded`), with each runtime's phase.
    func health() -> Response {
        var allReady = true
        var models: [String: Any] = [:]
        for e in fleet.snapshot() {
            let runtimes = e.instances.map { i -> [String: Any] in
                ["version": i.model.version, "phase": i.phase.rawValue, "in_flight": i.inFlight]
            }
            if !e.instances.contains(where: { $0.model.version == e.split.stable && $0.phase == .ready }) { allReady = false }
            models[e.name] = ["stable": e.split.stable as Any, "canary": e.split.canary as Any, "weight": e.split.weight, "runtimes": runtimes]
        }
        return json(allReady ? 200 : 503, ["status": allReady ? "ok" : "degraded", "models": models])
    }

    /// A JSON answer with sorted keys.
    func json(_ status: Int, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `/metrics`: copied under the lock, rendered outside it, so a scrape never holds up requests.
    func metricsAnswer() -> Response {
        let snapshot = metrics.with { $0 }
        var text = snapshot.render()
        text += AccessLog.metricsText(failures: accessLog?.failedWrites ?? 0) + connections.metricsText()
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
