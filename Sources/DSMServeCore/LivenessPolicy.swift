/// How a ready runtime is watched: every `interval` seconds a GET of its health path that must answer 200 within
/// `timeout` seconds; `failures` misses in a row mean the runtime is hung (stopped, deadlocked, swapping to death):
/// dsm kills its process group and restarts it. Worst case from hang to kill: `failures × (interval + timeout)`.
public struct LivenessPolicy: Sendable, Equatable {
    public var interval: Double
    public var timeout: Double
    public var failures: Int

    /// 5 s, 5 s, 3: a hung runtime is killed within 30 s; a busy one has 15 s of probes to answer one.
    public init(interval: Double = 5, timeout: Double = 5, failures: Int = 3) {
        self.interval = interval
        self.timeout = timeout
        self.failures = failures
    }

    /// Why the values cannot be used, or nil.
    public var problem: String? {
        if !(interval > 0) { return "--liveness-interval must be above 0 seconds (got \(interval))" }
        if !(timeout > 0) { return "--liveness-timeout must be above 0 seconds (got \(timeout))" }
        if failures < 1 { return "--liveness-failures must be at least 1 (got \(failures))" }
        return nil
    }

    /// The longest a hung runtime keeps its phase `ready` (seconds).
    public var worstCaseDetection: Double { Double(failures) * (interval + timeout) }
}

/// Counts one runtime's probe results under a `LivenessPolicy`.
public struct LivenessTracker: Sendable {
    public let policy: LivenessPolicy
    /// Failed probes since the last good one.
    public private(set) var missed = 0

    public init(policy: LivenessPolicy) { self.policy = policy }

    /// What to do after a probe.
    public enum Verdict: Sendable, Equatable {
        case healthy
        /// Missed `n` in a row, fewer than the policy allows.
        case suspect(Int)
        /// Missed the policy's number in a row: kill and restart.
        case hung
    }

    /// Records one probe (`ok`: it answered 200 within the timeout).
    public mutating func record(ok: Bool) -> Verdict {
        if ok { missed = 0; return .healthy }
        missed += 1
        return missed >= policy.failures ? .hung : .suspect(missed)
    }
}
