import Foundation
import Synchronization

/// A process-wide stop request (Ctrl-C, SIGTERM, or a fatal error in another worker), with
/// sleeps that wake up as soon as it is raised.
public final class CancellationFlag: Sendable {
    /// Thrown by `check()` and `sleep(_:)` once cancelled.
    public struct Cancelled: Error, CustomStringConvertible {
        public init() {}
        public var description: String { "interrupted" }
    }

    private let flag = Atomic<Bool>(false)
    private let condition = NSCondition()
    private let parent: CancellationFlag?

    public init() { parent = nil }

    /// A flag that is also raised whenever `parent` is (sleeps notice the parent within 0.25 s).
    public init(child parent: CancellationFlag) { self.parent = parent }

    public var isCancelled: Bool { flag.load(ordering: .acquiring) || (parent?.isCancelled ?? false) }

    /// Raises the flag and wakes every sleeper.
    public func cancel() {
        condition.lock()
        flag.store(true, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
    }

    /// Throws `Cancelled` if the flag is raised.
    public func check() throws {
        if isCancelled { throw Cancelled() }
    }

    /// Sleeps up to `seconds`, returning early (by throwing) when cancelled.
    public func sleep(_ seconds: Double) throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !isCancelled && Date() < deadline {
            _ = condition.wait(until: parent == nil ? deadline : min(deadline, Date(timeIntervalSinceNow: 0.25)))
        }
        if isCancelled { throw Cancelled() }
    }
}
