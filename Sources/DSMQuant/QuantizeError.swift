/// Why a quantization was refused; the message says what to do instead.
public struct QuantizeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ message: String) { description = message }
}
