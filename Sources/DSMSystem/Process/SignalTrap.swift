import Dispatch
import Glibc

/// Runs `handler` on SIGINT or SIGTERM instead of dying at once, so a command can save progress or clean up
/// (a second signal still takes the default action and ends the process).
public final class SignalTrap: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []

    public init(_ handler: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                signal(sig, SIG_DFL)
                handler()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Stops trapping: from now on SIGINT and SIGTERM end the process as usual (for the part of a command whose
    /// every step is atomic, such as registering a finished file).
    public func disarm() {
        for s in sources { s.cancel() }
        sources = []
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
