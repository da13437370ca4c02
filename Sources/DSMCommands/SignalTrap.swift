import Foundation
import DSMTransfer

/// Turns SIGINT and SIGTERM into a cancellation, so an interrupted pull checkpoints its progress and
/// exits cleanly (a second Ctrl-C still exits at once through the default action).
final class SignalTrap: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []

    init(cancel: CancellationFlag) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                cancel.cancel()
                signal(sig, SIG_DFL)
            }
            source.resume()
            sources.append(source)
        }
    }
}
