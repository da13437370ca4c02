import Foundation

/// The first error of several worker threads (later ones are dropped).
public final class FailureBox: @unchecked Sendable {
    public init() {}
    private let lock = NSLock()
    private var stored: (any Error)?
    /// The first error set, if any.
    public var error: (any Error)? { lock.lock(); defer { lock.unlock() }; return stored }
    /// Keeps `e` unless an error is already kept.
    public func set(_ e: any Error) { lock.lock(); if stored == nil { stored = e }; lock.unlock() }
}
