import DSMSystem
import DSMTransfer

extension SignalTrap {
    /// Turns the signal into a cancellation: an interrupted pull checkpoints its progress and exits cleanly.
    convenience init(cancel: CancellationFlag) {
        self.init { cancel.cancel() }
    }
}
