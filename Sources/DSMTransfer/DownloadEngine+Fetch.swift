import Foundation
import DSMSystem
import DSMHub

extension DownloadEngine {
    /// Fetches one segment until it is complete, retrying with backoff. Progress resets the attempt count,
    /// so a flaky connection that keeps delivering bytes is never given up on.
    func fetch(_ file: ActiveFile, segmentStart: Int64, claimedGeneration: Int) throws {
        defer {
            lock.lock()
            if file.generation == claimedGeneration, let i = file.table.index(ofStart: segmentStart) { file.table.release(i) }
            lock.unlock()
            lock.broadcast()
        }
        var failures = 0
        var redirects = 0
        while true {
            try cancel.check()
            lock.lock()
            guard file.generation == claimedGeneration, let i = file.table.index(ofStart: segmentStart),
                  !file.table.segments[i].isComplete else {
                lock.unlock()
                return
            }
            let segment = file.table.segments[i]
            let generation = file.generation
            let refresh = file.needsFreshSource
            file.needsFreshSource = false
            var source = file.source
            lock.unlock()

            if refresh || source == nil {
                source = try delegate?.source(for: file.item, refresh: true, cancel: cancel)
                lock.lock()
                file.source = source
                lock.unlock()
            }
            guard let source else { return }

            var request = HTTPRequest(method: .get, url: source.url, headers: source.headers)
            request.headers.append("Range: bytes=\(segment.cursor)-\(segment.end - 1)")
            request.headers.append("Accept-Encoding: identity")
            request.headers.append("User-Agent: \(userAgent)")
            request.stallSeconds = options.stallSeconds
            request.maxReceiveSpeed = options.maxSpeedPerConnection
            request.proxy = proxies.proxy(for: source.url)
            let sink = SegmentSink(engine: self, active: file, segmentStart: segmentStart, cursor: segment.cursor, generation: generation)

            var transportError: CurlError?
            do {
                _ = try curl.handle().perform(request, sink: sink)
            } catch {
                transportError = error
            }
            if let writeError = sink.writeError {
                throw DownloadError(item: file.item.name, message: "cannot write the partial file \(file.item.partialPath): \(writeError)")
            }
            if sink.wroteBytes > 0 { failures = 0 }
            if cancel.isCancelled { throw CancellationFlag.Cancelled() }
            if shouldStop(file, generation: generation) { return }

            var serverDelay: Double?
            var reason: String
            switch sink.verdict {
            case .ok:
                if sink.reachedEnd || transportError == nil {
                    if isSegmentComplete(file, segmentStart: segmentStart) { return }
                    reason = "the server ended the response early"
                } else {
                    reason = transportError!.isTimeout
                        ? "no data for \(options.stallSeconds) s (stalled connection)"
                        : transportError!.message
                    if !transportError!.isTransient && !transportError!.isAbortedByCallback {
                        throw DownloadError(item: file.item.name, message: transportError!.description)
                    }
                }
            case .rangesIgnored:
                switchToSequential(file)
                delegate?.notice("\(file.item.name): the server ignored a byte-range request; downloading the rest as one stream")
                return
            case .mismatch(let text):
                reason = text
                if text.contains("bytes, the listing said") {
                    throw DownloadError(item: file.item.name, message: "\(text); the file changed upstream: run the command again")
                }
            case .status(let head):
                reason = "HTTP \(head.status)"
                serverDelay = RetryHints.serverDelay(headers: head.headers)
                switch head.status {
                case 301, 302, 303, 307, 308:
                    // A mirror may send the download on (hf-mirror answers 308 to huggingface.co for files it has
                    // not cached): follow it, keeping extra headers only on the same host.
                    guard let location = head["location"] else { break }
                    let target = HubEndpoint.resolveRedirect(location, from: source.url)
                    let sameHost = HubEndpoint.origin(of: target) == HubEndpoint.origin(of: source.url)
                    lock.lock()
                    file.source = DownloadSource(url: target, headers: sameHost ? source.headers : [])
                    lock.unlock()
                    redirects += 1
                    guard redirects <= 10 else {
                        throw DownloadError(item: file.item.name, message: "more than 10 redirects, last to \(CurlError.redact(target))")
                    }
                    continue
                case 401, 403, 404, 410:
                    // Expired or revoked signed URL: resolve the file again before the next attempt.
                    lock.lock()
                    file.needsFreshSource = true
                    lock.unlock()
                case 416:
                    let range = ContentRange(head["content-range"])
                    if let total = range?.total, total != file.item.size {
                        throw DownloadError(item: file.item.name, message: "the server says the file has \(total) bytes, the listing said \(file.item.size) (HTTP 416); the file changed upstream: run the command again")
                    }
                case 408, 429, 500...599:
                    break
                default:
                    throw DownloadError(item: file.item.name, message: "unexpected HTTP \(head.status) from \(CurlError.redact(source.url))")
                }
            }
            failures += 1
            guard options.policy.shouldRetry(afterFailure: failures) else {
                throw DownloadError(item: file.item.name, message: "gave up after \(failures) attempts without progress; last error: \(reason). Run the command again to resume.")
            }
            let wait = options.policy.delay(afterFailure: failures, serverDelay: serverDelay, jitter: Double.random(in: 0...1))
            delegate?.notice("\(file.item.name): \(reason); retrying in \(String(format: "%.1f", wait)) s (attempt \(failures + 1) of \(options.policy.maxAttempts))")
            try cancel.sleep(wait)
        }
    }

    /// The server ignores `Range`: keep the written prefix and fetch the rest as one stream.
    func switchToSequential(_ file: ActiveFile) {
        lock.lock()
        if !file.sequential {
            file.sequential = true
            file.generation += 1
            file.table.collapseToSequential()
        }
        lock.unlock()
        lock.broadcast()
    }
}
