import Foundation
import DSMSystem
import DSMHub

extension DownloadEngine {
    /// Fetches one segment until it is complete. Each attempt's result goes to `SegmentDecision.decide`, which
    /// says what the status, headers and transport error mean; this function only carries the decision out
    /// (source refresh under the lock, redirect, sequential switch, backoff sleep). Progress resets the attempt
    /// count, so a flaky connection that keeps delivering bytes is never given up on.
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

            let outcome = SegmentOutcome(
                response: sink.verdict, transport: transportError.map { SegmentOutcome.TransportFailure($0) },
                reachedEnd: sink.reachedEnd, segmentComplete: isSegmentComplete(file, segmentStart: segmentStart),
                sourceURL: source.url, expectedSize: file.item.size, failures: failures, redirects: redirects)
            switch SegmentDecision.decide(outcome, policy: options.policy, stallSeconds: options.stallSeconds,
                                          jitter: Double.random(in: 0...1)) {
            case .done:
                return
            case .switchToSequential:
                switchToSequential(file)
                delegate?.notice("\(file.item.name): the server ignored a byte-range request; downloading the rest as one stream")
                return
            case .followRedirect(let target, let keepHeaders):
                lock.lock()
                file.source = DownloadSource(url: target, headers: keepHeaders ? source.headers : [])
                lock.unlock()
                redirects += 1
            case .fail(let message):
                throw DownloadError(item: file.item.name, message: message)
            case .retry(let wait, let count, let reason, let refreshSource):
                if refreshSource {
                    lock.lock()
                    file.needsFreshSource = true
                    lock.unlock()
                }
                failures = count
                delegate?.notice("\(file.item.name): \(reason); retrying in \(String(format: "%.1f", wait)) s (attempt \(failures + 1) of \(options.policy.maxAttempts))")
                try cancel.sleep(wait)
            }
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
