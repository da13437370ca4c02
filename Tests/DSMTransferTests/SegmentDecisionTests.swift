import Testing
import DSMSystem
import DSMTransfer

/// The pull's decisions without curl: every status and fault the local test hub injects, and every branch of
/// `SegmentDecision.decide`.
@Suite struct SegmentDecisionTests {
    static let cdn = "https://cdn.example/repos/ab/cd/big.bin?X-Signature=secret&Expires=1"
    static let size: Int64 = 1000
    static let policy = RetryPolicy()

    static func outcome(_ response: SegmentOutcome.Response, transport: SegmentOutcome.TransportFailure? = nil,
                        reachedEnd: Bool = false, complete: Bool = false, url: String = cdn,
                        failures: Int = 0, redirects: Int = 0) -> SegmentOutcome {
        SegmentOutcome(response: response, transport: transport, reachedEnd: reachedEnd, segmentComplete: complete,
                       sourceURL: url, expectedSize: size, failures: failures, redirects: redirects)
    }

    static func status(_ code: Int, _ headers: [String: String] = [:]) -> SegmentOutcome.Response {
        .status(HTTPResponseHead(status: code, headers: headers))
    }

    static func decide(_ o: SegmentOutcome, jitter: Double = 0.5) -> SegmentDecision {
        SegmentDecision.decide(o, policy: policy, stallSeconds: 30, jitter: jitter)
    }

    static func curl(_ message: String, timeout: Bool = false, transient: Bool = true, aborted: Bool = false) -> SegmentOutcome.TransportFailure {
        .init(message: message, description: "\(message) (curl error 0) for https://cdn.example/big.bin",
              isTimeout: timeout, isTransient: transient, isAbortedByCallback: aborted)
    }

    // MARK: the segment is filled

    @Test func aCleanFinishWithEveryByteIsDone() {
        #expect(Self.decide(Self.outcome(.ok, complete: true)) == .done)
    }

    @Test func stoppingAtTheSegmentEndIsDoneEvenWithCurlsAbortError() {
        // The sink stops a body that runs past the segment's end; curl reports that as a write error.
        #expect(Self.decide(Self.outcome(.ok, transport: Self.curl("Failed writing", transient: false, aborted: true),
                                         reachedEnd: true, complete: true)) == .done)
    }

    // MARK: truncated bodies, resets, stalls

    @Test func aCleanFinishShortOfTheEndIsRetried() {
        #expect(Self.decide(Self.outcome(.ok)) == .retry(after: 0.5, failures: 1, reason: "the server ended the response early", refreshSource: false))
    }

    @Test func truncatedBodyIsRetried() {
        // testhub `truncate`: full Content-Length, then FIN: curl error 18.
        let d = Self.decide(Self.outcome(.ok, transport: Self.curl("Transferred a partial file")))
        #expect(d == .retry(after: 0.5, failures: 1, reason: "Transferred a partial file", refreshSource: false))
    }

    @Test func connectionResetIsRetried() {
        // testhub `reset`: curl error 56.
        let d = Self.decide(Self.outcome(.ok, transport: Self.curl("Connection reset by peer"), failures: 2))
        #expect(d == .retry(after: 2, failures: 3, reason: "Connection reset by peer", refreshSource: false))
    }

    @Test func stalledConnectionSaysSo() {
        // testhub `stall`: curl error 28 after the low-speed window.
        let d = Self.decide(Self.outcome(.ok, transport: Self.curl("Operation too slow", timeout: true)))
        #expect(d == .retry(after: 0.5, failures: 1, reason: "no data for 30 s (stalled connection)", refreshSource: false))
    }

    @Test func abortByOurOwnCallbackIsRetried() {
        // The plan changed under the sink (split or sequential switch) without the segment being filled.
        let d = Self.decide(Self.outcome(.ok, transport: Self.curl("Callback aborted", transient: false, aborted: true)))
        #expect(d == .retry(after: 0.5, failures: 1, reason: "Callback aborted", refreshSource: false))
    }

    @Test func permanentTransportErrorFailsAtOnceWithCurlsText() {
        let failure = Self.curl("SSL peer certificate was not OK", transient: false)
        #expect(Self.decide(Self.outcome(.ok, transport: failure, failures: 0)) == .fail(failure.description))
    }

    // MARK: statuses

    @Test(arguments: [408, 429, 500, 502, 503, 504, 599])
    func transientStatusesAreRetriedWithBackoff(code: Int) {
        #expect(Self.decide(Self.outcome(Self.status(code)), jitter: 0) == .retry(after: 0.25, failures: 1, reason: "HTTP \(code)", refreshSource: false))
        #expect(Self.decide(Self.outcome(Self.status(code), failures: 5), jitter: 1) == .retry(after: 12, failures: 6, reason: "HTTP \(code)", refreshSource: false))
    }

    @Test func retryAfterIsHonoured() {
        // testhub `status` 429 with `retry_after`.
        let d = Self.decide(Self.outcome(Self.status(429, ["retry-after": "2"])))
        #expect(d == .retry(after: 2, failures: 1, reason: "HTTP 429", refreshSource: false))
    }

    @Test func rateLimitResetIsHonoured() {
        // testhub `status` with `ratelimit_reset`.
        let d = Self.decide(Self.outcome(Self.status(503, ["ratelimit": "\"resolvers\";r=0;t=3"])))
        #expect(d == .retry(after: 4, failures: 1, reason: "HTTP 503", refreshSource: false))  // reset time + 1 s
    }

    @Test func serverDelayIsCapped() {
        let d = Self.decide(Self.outcome(Self.status(429, ["retry-after": "100000"])))
        #expect(d == .retry(after: Self.policy.maxServerDelay, failures: 1, reason: "HTTP 429", refreshSource: false))
    }

    @Test(arguments: [401, 403, 404, 410])
    func expiredOrRevokedSignedURLIsResolvedAgain(code: Int) {
        // testhub's signed CDN URLs answer 403 once `--url-ttl` has passed.
        #expect(Self.decide(Self.outcome(Self.status(code))) == .retry(after: 0.5, failures: 1, reason: "HTTP \(code)", refreshSource: true))
    }

    @Test(arguments: [400, 405, 409, 418, 451, 204, 304])
    func unexpectedStatusFailsWithoutTheSignature(code: Int) {
        let d = Self.decide(Self.outcome(Self.status(code)))
        #expect(d == .fail("unexpected HTTP \(code) from https://cdn.example/repos/ab/cd/big.bin"))
        if case .fail(let message) = d { #expect(!message.contains("secret")) }
    }

    @Test func rangeNotSatisfiableForTheSameFileIsRetried() {
        #expect(Self.decide(Self.outcome(Self.status(416, ["content-range": "bytes */1000"])))
                == .retry(after: 0.5, failures: 1, reason: "HTTP 416", refreshSource: false))
        #expect(Self.decide(Self.outcome(Self.status(416))) == .retry(after: 0.5, failures: 1, reason: "HTTP 416", refreshSource: false))
    }

    @Test func rangeNotSatisfiableForAnotherSizeMeansTheFileChanged() {
        let d = Self.decide(Self.outcome(Self.status(416, ["content-range": "bytes */999"])))
        #expect(d == .fail("the server says the file has 999 bytes, the listing said 1000 (HTTP 416); the file changed upstream: run the command again"))
    }

    // MARK: redirects

    @Test(arguments: [301, 302, 303, 307, 308])
    func redirectToAnotherHostDropsHeaders(code: Int) {
        let d = Self.decide(Self.outcome(Self.status(code, ["location": "https://huggingface.co/org/m/resolve/main/big.bin"]),
                                         url: "https://hf-mirror.example/org/m/resolve/main/big.bin"))
        #expect(d == .followRedirect(url: "https://huggingface.co/org/m/resolve/main/big.bin", keepHeaders: false))
    }

    @Test func relativeRedirectOnTheSameHostKeepsHeaders() {
        let d = Self.decide(Self.outcome(Self.status(302, ["location": "/other/big.bin"]), url: "https://hub.example/org/m/resolve/main/big.bin"))
        #expect(d == .followRedirect(url: "https://hub.example/other/big.bin", keepHeaders: true))
    }

    @Test func redirectsAreNotCountedAsFailures() {
        let d = Self.decide(Self.outcome(Self.status(307, ["location": "https://b.example/x"]), failures: 7, redirects: 9))
        #expect(d == .followRedirect(url: "https://b.example/x", keepHeaders: false))
    }

    @Test func theEleventhRedirectFails() {
        let d = Self.decide(Self.outcome(Self.status(302, ["location": "https://b.example/x?sig=secret"]), redirects: 10))
        #expect(d == .fail("more than 10 redirects, last to https://b.example/x"))
    }

    @Test func redirectWithoutLocationIsAFailedAttempt() {
        #expect(Self.decide(Self.outcome(Self.status(302))) == .retry(after: 0.5, failures: 1, reason: "HTTP 302", refreshSource: false))
    }

    // MARK: Range handling

    @Test func ignoredRangeSwitchesToOneStream() {
        // testhub `ignore_range`: 200 with the whole body for a range not starting at 0.
        #expect(Self.decide(Self.outcome(.rangesIgnored)) == .switchToSequential)
        #expect(Self.decide(Self.outcome(.rangesIgnored, failures: 7)) == .switchToSequential)
    }

    @Test func rangeMismatchIsRetried() {
        let text = "asked for bytes from 500, the server sent from 400"
        #expect(Self.decide(Self.outcome(.mismatch(text))) == .retry(after: 0.5, failures: 1, reason: text, refreshSource: false))
        let missing = "the server sent HTTP 206 without Content-Range"
        #expect(Self.decide(Self.outcome(.mismatch(missing))) == .retry(after: 0.5, failures: 1, reason: missing, refreshSource: false))
    }

    @Test(arguments: ["the server says the file has 999 bytes, the listing said 1000", "the server sent 999 bytes, the listing said 1000"])
    func sizeMismatchMeansTheFileChanged(text: String) {
        #expect(Self.decide(Self.outcome(.mismatch(text))) == .fail("\(text); the file changed upstream: run the command again"))
    }

    // MARK: giving up

    @Test func givesUpAfterMaxAttemptsWithoutProgress() {
        let d = Self.decide(Self.outcome(Self.status(503), failures: Self.policy.maxAttempts - 1))
        #expect(d == .fail("gave up after 8 attempts without progress; last error: HTTP 503. Run the command again to resume."))
        let last = Self.decide(Self.outcome(Self.status(503), failures: Self.policy.maxAttempts - 2))
        #expect(last == .retry(after: 8, failures: 7, reason: "HTTP 503", refreshSource: false))
    }

    @Test func givingUpOnAnExpiredURLAlsoSaysWhy() {
        let d = Self.decide(Self.outcome(Self.status(403), failures: 7))
        #expect(d == .fail("gave up after 8 attempts without progress; last error: HTTP 403. Run the command again to resume."))
    }
}
