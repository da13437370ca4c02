import AsyncHTTPClient
import DSMRegistry
import DSMServeCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// What one proxied request carries from routing to its last byte.
struct Exchange: Sendable {
    var name: String, path: String, key: String, began: Date, stream: Bool
    /// The request body, when prompts are logged.
    var body: [UInt8]?
    var userBucket: Int
}

/// HTTP status recorded when the client went away before the whole answer was sent (nginx's convention). It is
/// neither a runtime failure nor a canary failure.
let clientClosedStatus = 499

/// Accounts for one proxied request exactly once: metrics, the access log, the runtime's in-flight count and the
/// canary watch. It is completed by the relay when the last byte is sent (or the stream breaks), and by `deinit`
/// when the server dropped the response without sending its body (the client reset the connection before the
/// head was written), so no path leaves `in_flight` raised or a request unlogged.
final class ExchangeRecord: @unchecked Sendable {
    private unowned let gateway: Gateway
    let exchange: Exchange
    let version: String
    private let instance: RuntimeInstance?
    private let lock = NSLock()
    private var done = false

    /// Counts the request in flight; the caller has already called `instance.begin()`.
    init(gateway: Gateway, exchange: Exchange, version: String, instance: RuntimeInstance?) {
        self.gateway = gateway
        self.exchange = exchange
        self.version = version
        self.instance = instance
        gateway.metrics.with { $0.inFlight += 1 }
    }

    /// Records the outcome; calls after the first do nothing.
    func complete(status: Int, bytes: Int, failure: String?) {
        let first = lock.withLock { () -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        instance?.end()
        gateway.completed(exchange, version: version, status: status, bytes: bytes, failure: failure)
    }

    deinit {
        complete(status: clientClosedStatus, bytes: 0, failure: "the client closed the connection before the response started")
    }
}

/// The upstream body, held so the relay can drop it as soon as the client leaves: releasing the last reference
/// makes AsyncHTTPClient cancel the upstream request, which stops the runtime's generation.
final class UpstreamBody: @unchecked Sendable {
    var body: HTTPClientResponse.Body?
    init(_ body: HTTPClientResponse.Body) { self.body = body }
}

extension Gateway {
    /// Streams the runtime's (or the cloud's) answer to the client. A failure reading upstream is the runtime's
    /// (502, an error event on streams, counted against a canary); a failure writing to the client means it hung
    /// up (499, not counted), and the upstream request is cancelled at once.
    func relay(_ r: HTTPClientResponse, version: String, instance: RuntimeInstance?, _ x: Exchange) -> Response {
        var headers: HTTPFields = [:]
        for name in ["content-type", "cache-control"] { if let v = r.headers.first(name: name) { headers[HTTPField.Name(name)!] = v } }
        headers[HTTPField.Name("x-dsm-model")!] = x.name
        headers[HTTPField.Name("x-dsm-version")!] = version
        let status = Int(r.status.code)
        let record = ExchangeRecord(gateway: self, exchange: x, version: version, instance: instance)
        let upstream = UpstreamBody(r.body)
        let body = ResponseBody { [self] writer in
            var sent = 0
            var kept: [UInt8] = []
            var failure: String?
            var clientGone = false
            if let source = upstream.body {
                var chunks = source.makeAsyncIterator()
                upstream.body = nil
                while true {
                    let next: ByteBuffer?
                    do { next = try await chunks.next() } catch {
                        failure = "\(error)"
                        break
                    }
                    guard let chunk = next else { break }
                    sent += chunk.readableBytes
                    if !x.stream, kept.count < 1 << 20 { kept += chunk.readableBytesView }
                    if x.stream, chunk.readableBytesView.count > 8 { self.countStreamUsage(chunk, x.name, version) }
                    do { try await writer.write(chunk) } catch {
                        clientGone = true
                        break
                    }
                }
            }
            // The iterator is gone here: if the client left, AsyncHTTPClient has cancelled the upstream request.
            if failure != nil, x.stream, !clientGone {
                // The runtime died mid-response: end an event stream with an error event, as runtimes do.
                let e = OpenAIError(status: 502, message: "the runtime of \(x.name)@\(version) stopped in the middle of the response",
                                    type: "server_error", code: "runtime_failed")
                do { try await writer.write(ByteBuffer(string: "data: \(e.body)\n\n")) } catch { clientGone = true }
            }
            if !x.stream, !clientGone, let o = try? JSONSerialization.jsonObject(with: Data(kept)) as? [String: Any] {
                self.countUsage(o, x.name, version)
            }
            if !clientGone {
                do { try await writer.finish(nil) } catch { clientGone = true }
            }
            if clientGone {
                record.complete(status: clientClosedStatus, bytes: sent, failure: "the client closed the connection during the response")
            } else {
                record.complete(status: failure == nil ? status : 502, bytes: sent, failure: failure)
            }
        }
        return Response(status: .init(code: status), headers: headers, body: body)
    }

    func countUsage(_ o: [String: Any], _ name: String, _ version: String) {
        guard let u = o["usage"] as? [String: Any] else { return }
        metrics.with {
            if let p = u["prompt_tokens"] as? Int { $0.addTokens(model: name, version: version, kind: "prompt", count: p) }
            if let c = u["completion_tokens"] as? Int { $0.addTokens(model: name, version: version, kind: "completion", count: c) }
        }
    }

    func countStreamUsage(_ chunk: ByteBuffer, _ name: String, _ version: String) {
        let text = String(buffer: chunk)
        guard text.contains("\"usage\"") else { return }
        for line in text.split(separator: "\n") where line.hasPrefix("data: {") {
            if let o = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any] { countUsage(o, name, version) }
        }
    }

    /// The bookkeeping of a finished proxied request (called once, by its `ExchangeRecord`).
    func completed(_ x: Exchange, version: String, status: Int, bytes: Int, failure: String?) {
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
            if let b = x.body { line.add("request", body: b) }
            accessLog.write(line)
        }
        // A client that hangs up says nothing about the runtime: only the runtime's own answers count.
        if status != clientClosedStatus, version.hasPrefix("v") {
            watchCanary(x.name, version: Int(version.dropFirst()) ?? 0, failed: status >= 500)
        }
    }
}
