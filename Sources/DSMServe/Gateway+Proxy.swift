import AsyncHTTPClient
import DSMRegistry
import DSMServeCore
import DSMStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

extension Gateway {
    /// The proxy stage: reads the body, picks the version by the name's channels (or the cloud) and relays the
    /// answer. Throws the refusal to answer with when the request cannot be forwarded.
    func proxy(_ incoming: Request, path: String, key: String, began: Date, connection: ClientConnection) async throws(GatewayRefusal) -> Response {
        let request = incoming
        let bytes: ByteBuffer
        do {
            bytes = try await collectBody(request, connection: connection)
        } catch where error is BodyTimeout || connection.isClosed {
            // A body trickling in more slowly than --body-timeout allows (the connection is closed), or a client gone.
            throw GatewayRefusal(error: OpenAIError(status: 408, message: "the request body did not arrive within \(Int(options.bodyTimeout)) s (--body-timeout)",
                                             type: "invalid_request_error", code: "request_timeout"))
        } catch {
            throw GatewayRefusal(error: OpenAIError(status: 413, message: "the request body is larger than \(options.maxBodyBytes) bytes (--max-body-bytes)",
                                             type: "invalid_request_error", code: "request_too_large"))
        }
        guard let fields = bytes.withUnsafeReadableBytes({ RequestFields.scan($0) }) else {
            throw GatewayRefusal(error: .badRequest("the body must be a JSON object"))
        }
        guard let requested = fields.model else {
            throw GatewayRefusal(error: .badRequest("`model` is required: one of \(fleet.names.joined(separator: ", "))"))
        }
        let shown = LogText.capped(requested, limit: 200)
        let (namePart, selector) = VersionSelector.split(requested)
        var pinned: Int?
        if let selector {
            guard case .number(let n) = selector else {
                throw GatewayRefusal(error: .badRequest("pin a version as NAME@vN (got \(shown))"), model: requested)
            }
            pinned = n
        }
        guard let name = (try? ModelName(parsing: namePart))?.description else {
            throw GatewayRefusal(error: .notFound("'\(shown)' is not a model name; served: \(fleet.names.joined(separator: ", "))"), model: requested)
        }
        let stream = fields.stream
        let userKey = fields.user ?? incoming.headers[HTTPField.Name("x-session-id")!] ?? (key == "anonymous" ? UUID().uuidString : key)
        // The whole tree only where it is needed: a changed `model` (Ollama, vLLM, the cloud).
        let object = { (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]) ?? [:] }
        let context = Exchange(name: name, path: path, key: key, began: began, stream: stream,
                               body: options.logPrompts ? Array(bytes.readableBytesView) : nil,
                               userBucket: Routing.bucket(name: "user", userKey: userKey))

        var attempt = 0
        while true {
            attempt += 1
            let route = fleet.route(name, userKey: userKey, pinned: pinned)
            guard route.known else {
                throw GatewayRefusal(error: .notFound("the model '\(name)' is not served here; served: \(fleet.names.joined(separator: ", "))"), model: name)
            }
            if let cloud, cloud.isCanary(name: name, userKey: userKey) || (route.instance == nil && cloud.options.fallback) {
                do {
                    nonisolated(unsafe) let body = object()
                    let accept = incoming.headers[.accept]
                    let r = try await connection.untilClosed { try await cloud.send(path: path, body: body, accept: accept) }
                    return relay(r, version: "cloud", instance: nil, context)
                } catch {
                    if connection.isClosed { return clientLeft(context, version: "cloud") }
                    throw GatewayRefusal(error: .unavailable("DeepSeek's API could not be reached: \(error)"), model: name)
                }
            }
            // The split chose a version whose runtime is down and another one answers: for the canary that counts
            // as a failure (a canary that keeps crashing should be rolled back even though users are served).
            if let chosen = route.version, let served = route.instance?.model.version, chosen != served {
                watchCanary(name, version: chosen, failed: true)
            }
            guard let instance = route.instance, let version = route.instance?.model.version ?? route.version else {
                throw GatewayRefusal(error: .unavailable("no runtime of \(name)\(route.version.map { "@v\($0)" } ?? "") is ready (starting or restarting); retry shortly"), model: name, headers: [("retry-after", "1")])
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
                let request = upstream, timeout = instance.firstByteTimeout
                let r = try await connection.untilClosed { [client] in try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000))) }
                return relay(r, version: "v\(version)", instance: instance, context)
            } catch {
                instance.end()
                // The client hung up while the runtime was working: the request was cancelled, nobody is to blame.
                if connection.isClosed { return clientLeft(context, version: "v\(version)") }
                if let e = error as? HTTPClientError, e == .deadlineExceeded {
                    throw GatewayRefusal(error: OpenAIError(status: 504, message: "the runtime of \(name)@v\(version) sent no answer within \(Int(instance.firstByteTimeout)) s (--first-byte-timeout)",
                                                     type: "server_error", code: "runtime_timeout"), model: name, version: "v\(version)")
                }
                // The runtime went away between routing and sending (it died, or is being replaced): route again.
                if attempt < 3 {
                    try? await Task.sleep(nanoseconds: 200_000_000)
                    continue
                }
                throw GatewayRefusal(error: .unavailable("the runtime of \(name)@v\(version) did not answer: \(error)"), model: name, headers: [("retry-after", "1")], version: "v\(version)")
            }
        }
    }

    struct BodyTimeout: Error {}

    /// The request's body, at most `--max-body-bytes`, within `--body-timeout` (else the connection is closed).
    func collectBody(_ request: Request, connection: ClientConnection) async throws -> ByteBuffer {
        let limit = options.maxBodyBytes, seconds = options.bodyTimeout
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                var r = request
                return try await r.collectBody(upTo: limit)
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                // Closing ends the other task's read, so the group can finish.
                connection.channel.close(promise: nil)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let body = first else { throw BodyTimeout() }
            return body
        }
    }

    /// The answer to a request whose client left before the runtime answered: accounted for once (499), and
    /// nobody reads the response.
    func clientLeft(_ x: Exchange, version: String) -> Response {
        ExchangeRecord(gateway: self, exchange: x, version: version, instance: nil)
            .complete(status: clientClosedStatus, bytes: 0, failure: "the client closed the connection before the runtime answered")
        return Response(status: .init(code: clientClosedStatus))
    }

}
