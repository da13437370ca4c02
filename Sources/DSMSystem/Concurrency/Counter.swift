import Foundation

/// An integer several threads add to and take from under a lock.
public final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int

    public init(start: Int = 0) { value = start }

    /// Adds `n`; returns the new total.
    public func add(_ n: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += n
        return value
    }
    /// Takes the next value if it is below `limit` (and counts it), else nil: hands out work items once each.
    public func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
