import DSMSystem
import DSMHub

/// What the download engine does after one segment attempt. Decided by `decide(_:policy:stallSeconds:jitter:)`,
/// a pure function of the attempt's `SegmentOutcome`; the engine only carries it out (lock, file, sleep, curl).
public enum SegmentDecision: Sendable, Equatable {
    /// The segment has every byte.
    case done
    /// The server ignores `Range`: keep the written prefix and fetch the rest of the file as one stream.
    case switchToSequential
    /// Follow a redirect (a mirror sending the download on). `keepHeaders` is false when the target is on
    /// another origin, so `Authorization` never leaves the host it was meant for. Not counted as a failure.
    case followRedirect(url: String, keepHeaders: Bool)
    /// Try again after `wait` seconds; `failures` is the new count of attempts without progress. With
    /// `refreshSource` the file's URL is resolved again first (an expired or revoked signed CDN URL).
    case retry(after: Double, failures: Int, reason: String, refreshSource: Bool)
    /// Give up on the file with this message.
    case fail(String)

    /// Most redirects followed for one segment before giving up.
    public static let maxRedirects = 10

    /// The decision for `outcome`. `jitter` (0...1) spreads the backoff; random in production, fixed in tests.
    public static func decide(_ outcome: SegmentOutcome, policy: RetryPolicy, stallSeconds: Int, jitter: Double) -> SegmentDecision {
        let reason: String
        var serverDelay: Double?
        var refreshSource = false
        switch outcome.response {
        case .ok:
            if outcome.reachedEnd || outcome.transport == nil {
                if outcome.segmentComplete { return .done }
                reason = "the server ended the response early"
            } else {
                let transport = outcome.transport!
                reason = transport.isTimeout ? "no data for \(stallSeconds) s (stalled connection)" : transport.message
                if !transport.isTransient && !transport.isAbortedByCallback { return .fail(transport.description) }
            }
        case .rangesIgnored:
            return .switchToSequential
        case .mismatch(let text):
            if text.contains("bytes, the listing said") {
                return .fail("\(text); the file changed upstream: run the command again")
            }
            reason = text
        case .status(let head):
            reason = "HTTP \(head.status)"
            serverDelay = RetryHints.serverDelay(headers: head.headers)
            switch head.status {
            case 301, 302, 303, 307, 308:
                // A mirror may send the download on (hf-mirror answers 308 to huggingface.co for files it has
                // not cached): follow it, keeping extra headers only on the same host. Without a Location it
                // is an ordinary failed attempt.
                if let location = head["location"] {
                    let target = HubEndpoint.resolveRedirect(location, from: outcome.sourceURL)
                    guard outcome.redirects + 1 <= maxRedirects else {
                        return .fail("more than \(maxRedirects) redirects, last to \(CurlError.redact(target))")
                    }
                    let sameHost = HubEndpoint.origin(of: target) == HubEndpoint.origin(of: outcome.sourceURL)
                    return .followRedirect(url: target, keepHeaders: sameHost)
                }
            case 401, 403, 404, 410:
                // Expired or revoked signed URL: resolve the file again before the next attempt.
                refreshSource = true
            case 416:
                if let total = ContentRange(head["content-range"])?.total, total != outcome.expectedSize {
                    return .fail("the server says the file has \(total) bytes, the listing said \(outcome.expectedSize) (HTTP 416); "
                                 + "the file changed upstream: run the command again")
                }
            case 408, 429, 500...599:
                break
            default:
                return .fail("unexpected HTTP \(head.status) from \(CurlError.redact(outcome.sourceURL))")
            }
        }
        let failures = outcome.failures + 1
        guard policy.shouldRetry(afterFailure: failures) else {
            return .fail("gave up after \(failures) attempts without progress; last error: \(reason). Run the command again to resume.")
        }
        let wait = policy.delay(afterFailure: failures, serverDelay: serverDelay, jitter: jitter)
        return .retry(after: wait, failures: failures, reason: reason, refreshSource: refreshSource)
    }
}
