/// How long to wait before restarting a runtime that died: doubling from `base` to `cap`, reset once a run has
/// stayed up for `stableAfter` seconds (so a runtime that crashes once a day restarts at once, and one that crashes
/// on start does not spin).
public struct RestartBackoff: Sendable, Equatable {
    public var base: Double = 0.5
    public var cap: Double = 30
    public var stableAfter: Double = 60
    public private(set) var failures = 0

    public init(base: Double = 0.5, cap: Double = 30, stableAfter: Double = 60) {
        self.base = base
        self.cap = cap
        self.stableAfter = stableAfter
    }

    /// The delay before the next start, given how long the last run lasted.
    public mutating func delay(afterRunOf seconds: Double) -> Double {
        if seconds >= stableAfter { failures = 0 }
        let d = min(cap, base * Double(1 << min(failures, 20)))
        failures += 1
        return d
    }
}
