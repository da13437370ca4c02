#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An operating-system or C-library failure, keeping the name of the call that failed,
/// its error code, and the path involved so the message tells the user what to check.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    /// The C function that failed, for example `open` or `pwrite`.
    public var call: String
    /// `errno` (or the library's own code) at the time of failure.
    public var code: Int32
    /// The file or URL involved, if any.
    public var path: String?
    /// A readable explanation.
    public var message: String

    public init(call: String, code: Int32, path: String? = nil, message: String? = nil) {
        self.call = call
        self.code = code
        self.path = path
        self.message = message ?? String(cString: strerror(code))
    }

    /// Captures the current `errno` for `call`.
    public static func errno(_ call: String, path: String? = nil) -> SystemError {
        SystemError(call: call, code: Glibc.errno, path: path)
    }

    public var description: String {
        var text = "\(call) failed: \(message)"
        if let path { text += " (\(path))" }
        if code == ENOSPC { text += "; the disk is full: free some space and run the command again" }
        return text
    }
}
