import DSMSystem

/// What one ranged GET for one segment ended with, as plain values: the input of `SegmentDecision.decide`.
/// The engine fills it in after the transfer; nothing here touches curl, the file or the lock.
public struct SegmentOutcome: Sendable {
    /// How the response looked before its first body byte (`SegmentSink`'s check).
    public enum Response: Sendable {
        /// A usable 200/206 (or no response at all: see `transport`).
        case ok
        /// A 200 without Content-Range for a range not starting at 0: the server ignores `Range`.
        case rangesIgnored
        /// The server answered with a status other than 200/206.
        case status(HTTPResponseHead)
        /// The server describes a different file (size) or a different range.
        case mismatch(String)
    }

    /// The transfer failure curl reported, reduced to what the decision needs (tests build it without curl).
    public struct TransportFailure: Sendable, Equatable {
        /// curl's short text, e.g. "Connection reset by peer".
        public var message: String
        /// The full text with the curl code and the redacted URL.
        public var description: String
        /// No bytes for the stall window, or another timeout.
        public var isTimeout: Bool
        /// A later attempt may not hit it (reset, timeout, truncated body, DNS hiccup).
        public var isTransient: Bool
        /// dsm's own body or progress callback stopped the transfer.
        public var isAbortedByCallback: Bool

        public init(message: String, description: String, isTimeout: Bool, isTransient: Bool, isAbortedByCallback: Bool) {
            self.message = message
            self.description = description
            self.isTimeout = isTimeout
            self.isTransient = isTransient
            self.isAbortedByCallback = isAbortedByCallback
        }

        public init(_ error: CurlError) {
            self.init(message: error.message, description: error.description, isTimeout: error.isTimeout,
                      isTransient: error.isTransient, isAbortedByCallback: error.isAbortedByCallback)
        }
    }

    public var response: Response
    /// The transfer error, nil when curl finished the response normally.
    public var transport: TransportFailure?
    /// The sink stopped on purpose because the body went past the segment's end (the segment is filled).
    public var reachedEnd: Bool
    /// The segment has every byte now (read under the engine's lock after the attempt).
    public var segmentComplete: Bool
    /// The URL this attempt asked (redirect targets resolve against it; error messages show it redacted).
    public var sourceURL: String
    /// The size the listing gave for the file.
    public var expectedSize: Int64
    /// Consecutive attempts without progress before this one (already reset to 0 when this attempt wrote bytes).
    public var failures: Int
    /// Redirects followed so far for this segment.
    public var redirects: Int

    public init(response: Response, transport: TransportFailure? = nil, reachedEnd: Bool = false, segmentComplete: Bool = false,
                sourceURL: String, expectedSize: Int64, failures: Int = 0, redirects: Int = 0) {
        self.response = response
        self.transport = transport
        self.reachedEnd = reachedEnd
        self.segmentComplete = segmentComplete
        self.sourceURL = sourceURL
        self.expectedSize = expectedSize
        self.failures = failures
        self.redirects = redirects
    }
}
