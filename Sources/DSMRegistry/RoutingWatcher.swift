import Foundation
import DSMStore

/// Tells a long-running process (`dsm serve`) when a name's routing changes, without a restart: it re-reads the
/// name's committed state every `interval` seconds and calls `onChange` with the new routing whenever the
/// state's revision moves. `state.json` is replaced by rename, so every read sees a whole committed state.
public final class RoutingWatcher: @unchecked Sendable {
    public let registry: Registry
    public let name: ModelName
    private let lock = NSLock()
    private var revision: Int
    private var timer: (any DispatchSourceTimer)?

    /// The current routing, or nil when the name has no registry state.
    public private(set) var routing: Routing?

    public init(registry: Registry, name: ModelName) throws {
        self.registry = registry
        self.name = name
        let state = try registry.state(of: name)
        revision = state?.revision ?? -1
        routing = state?.routing
    }

    /// Re-reads the state now; returns the new routing if it changed.
    @discardableResult
    public func poll() throws -> Routing?? {
        let state = try registry.state(of: name)
        lock.lock()
        defer { lock.unlock() }
        guard (state?.revision ?? -1) != revision else { return .none }
        revision = state?.revision ?? -1
        routing = state?.routing
        return .some(routing)
    }

    /// Polls every `interval` seconds on a background queue until `stop()`.
    public func start(interval: Double = 1, onChange: @escaping @Sendable (Routing?) -> Void) {
        let t = DispatchSource.makeTimerSource(queue: .global())
        t.schedule(deadline: .now() + interval, repeating: interval)
        t.setEventHandler { [weak self] in
            if let change = try? self?.poll(), let routing = change { onChange(routing) }
        }
        t.resume()
        timer = t
    }

    public func stop() {
        timer?.cancel()
        timer = nil
    }
}
