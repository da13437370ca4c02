import CZstd

/// Why libzstd refused.
public struct ZstdError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ code: Int, _ what: String) { description = "\(what): " + String(cString: ZSTD_getErrorName(code)) }
    init(_ text: String) { description = text }
}

/// Streaming compression through libzstd: bytes in, compressed bytes out to `sink`, with libzstd's worker
/// threads (`threads` > 0 compresses in parallel; 0 uses the calling thread only).
public final class ZstdCompressor {
    private let ctx: OpaquePointer
    private var out = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
    private let sink: ([UInt8]) throws -> Void

    public init(level: Int32, threads: Int, sink: @escaping ([UInt8]) throws -> Void) throws {
        guard let c = ZSTD_createCCtx() else { throw ZstdError("cannot create a zstd context") }
        ctx = c
        self.sink = sink
        var r = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)
        guard ZSTD_isError(r) == 0 else { ZSTD_freeCCtx(c); throw ZstdError(r, "zstd level \(level)") }
        r = ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)
        if threads > 0 {
            // Builds without thread support refuse; then compression stays single-threaded.
            _ = ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, Int32(threads))
        }
    }

    deinit { ZSTD_freeCCtx(ctx) }

    /// The valid level range of this libzstd.
    public static var levels: ClosedRange<Int32> { ZSTD_minCLevel()...ZSTD_maxCLevel() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var input = ZSTD_inBuffer(src: base, size: bytes.count, pos: 0)
        while input.pos < input.size { try step(&input, ZSTD_e_continue) }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Flushes everything and ends the frame.
    public func finish() throws {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&input, ZSTD_e_end) != 0 {}
    }

    @discardableResult
    private func step(_ input: inout ZSTD_inBuffer, _ mode: ZSTD_EndDirective) throws -> Int {
        let count = out.count
        let (left, produced): (Int, Int) = out.withUnsafeMutableBytes { o in
            var output = ZSTD_outBuffer(dst: o.baseAddress, size: count, pos: 0)
            let r = ZSTD_compressStream2(ctx, &output, &input, mode)
            return (r, output.pos)
        }
        guard ZSTD_isError(left) == 0 else { throw ZstdError(left, "zstd compression") }
        if produced > 0 { try sink(Array(out[0..<produced])) }
        return left
    }
}

/// Streaming decompression: compressed bytes in, plain bytes out to `sink`. `finish()` fails on a stream that
/// ends inside a frame (a truncated file).
public final class ZstdDecompressor {
    private let ctx: OpaquePointer
    private var out = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    private var lastHint = 0
    private var sawInput = false

    public init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let c = ZSTD_createDCtx() else { throw ZstdError("cannot create a zstd context") }
        ctx = c
        self.sink = sink
    }

    deinit { ZSTD_freeDCtx(ctx) }

    /// Recommended read size.
    public static var inputSize: Int { ZSTD_DStreamInSize() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        sawInput = true
        var input = ZSTD_inBuffer(src: base, size: bytes.count, pos: 0)
        let count = out.count
        var produced = 0
        // Until the input is used up and the output buffer was not filled (a full buffer may hide more output).
        repeat {
            let r: Int = out.withUnsafeMutableBytes { o in
                var output = ZSTD_outBuffer(dst: o.baseAddress, size: count, pos: 0)
                let r = ZSTD_decompressStream(ctx, &output, &input)
                produced = output.pos
                return r
            }
            guard ZSTD_isError(r) == 0 else { throw ZstdError(r, "zstd data") }
            lastHint = r
            if produced > 0 { try out.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
        } while input.pos < input.size || produced == count
    }

    /// Throws when the input ended inside a frame.
    public func finish() throws {
        guard sawInput else { throw ZstdError("the file is empty") }
        guard lastHint == 0 else { throw ZstdError("the compressed stream ends in the middle (the file is truncated)") }
    }
}
