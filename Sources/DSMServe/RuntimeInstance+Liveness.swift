import AsyncHTTPClient
import DSMServeCore
import Foundation
import NIOCore
import NIOHTTP1

extension RuntimeInstance {
    /// While `c` serves: a health check every `liveness.interval` seconds; after `liveness.failures` misses in a
    /// row (no 200 within `liveness.timeout`), the runtime is hung (stopped, deadlocked): it leaves routing, its
    /// process group is killed, and the exit handler restarts it with the usual backoff. Requests waiting on it
    /// fail at once then, instead of waiting out the gateway's first-byte timeout.
    func watchLiveness(_ c: ChildProcess, port: Int, healthPath: String) async {
        var tracker = LivenessTracker(policy: liveness)
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(healthPath)")
        request.method = .GET
        let timeout = TimeAmount.milliseconds(Int64(liveness.timeout * 1000))
        while true {
            try? await Task.sleep(nanoseconds: UInt64(liveness.interval * 1e9))
            guard c.exitStatus == nil, isServing(c) else { return }
            var ok = false
            if let r = try? await client.execute(request, timeout: timeout) {
                ok = r.status.code == 200
                _ = try? await r.body.collect(upTo: 1 << 20)
            }
            switch tracker.record(ok: ok) {
            case .healthy:
                continue
            case .suspect(let n):
                events("\(model.label) (pid \(c.pid)) did not pass its health check (\(n) of \(liveness.failures) in a row)")
            case .hung:
                guard markHung(c) else { return }
                events("\(model.label) (pid \(c.pid)) is hung: no answer to \(liveness.failures) health checks in a row "
                       + "(every \(liveness.interval) s, \(liveness.timeout) s each); killing its process group and restarting it")
                c.signal(SIGKILL)
                return
            }
        }
    }
}
