/// Reads a tar stream fed in arbitrary pieces: calls `header` for each entry, `data` with its bytes (padding
/// removed), `end` after its last byte, and stops at the two zero blocks that end the archive.
public final class TarReader {
    public var header: (String, Int64) throws -> Void = { _, _ in }
    public var data: (UnsafeRawBufferPointer) throws -> Void = { _ in }
    public var end: () throws -> Void = {}

    private enum State { case header, data(left: Int64, pad: Int), padding(Int), finished }
    private var state = State.header
    private var pending: [UInt8] = []
    private var zeroBlocks = 0

    public init() {}

    /// True once the end-of-archive blocks were read.
    public var finished: Bool { if case .finished = state { return true } else { return false } }

    public func feed(_ bytes: UnsafeRawBufferPointer) throws {
        var i = 0
        while i < bytes.count {
            switch state {
            case .finished:
                // Anything after the end must be zero padding.
                guard bytes[i...].allSatisfy({ $0 == 0 }) else { throw TarFormat.Invalid("data after the end of the archive") }
                return
            case .header:
                let take = min(TarFormat.block - pending.count, bytes.count - i)
                pending += bytes[i..<i + take]
                i += take
                guard pending.count == TarFormat.block else { continue }
                let block = pending
                pending.removeAll(keepingCapacity: true)
                if block.allSatisfy({ $0 == 0 }) {
                    zeroBlocks += 1
                    if zeroBlocks == 2 { state = .finished }
                    continue
                }
                guard zeroBlocks == 0 else { throw TarFormat.Invalid("a lone zero block inside the archive") }
                let (name, size) = try block.withUnsafeBytes { p throws(TarFormat.Invalid) in try TarFormat.parse(p) }
                try header(name, size)
                state = .data(left: size, pad: TarFormat.padding(size))
                if size == 0 { try end(); state = .padding(0) }
            case .data(let left, let pad):
                let take = Int(min(left, Int64(bytes.count - i)))
                try data(UnsafeRawBufferPointer(rebasing: bytes[i..<i + take]))
                i += take
                if Int64(take) == left {
                    try end()
                    state = .padding(pad)
                } else {
                    state = .data(left: left - Int64(take), pad: pad)
                }
            case .padding(let n):
                let take = min(n, bytes.count - i)
                i += take
                state = n - take == 0 ? .header : .padding(n - take)
            }
            if case .padding(0) = state { state = .header }
        }
    }
}
