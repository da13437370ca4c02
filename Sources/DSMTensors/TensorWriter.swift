import Foundation
import DSMFormats
import DSMSystem

/// Fills the tensors of a GGUF being written (`GGUFTensorSink`: one file or a split model's parts) from their row sources on several threads. Work is split into
/// chunks of about `chunkBytes` of output, so memory stays flat whatever the model size, and every chunk
/// is written at its own offset (`pwrite`), so the order of completion does not matter.
public struct TensorWriter: Sendable {
    /// Encodes float32 values into a storage type: `(values, count, type, output)`.
    public typealias Encoder = @Sendable (UnsafePointer<Float>, Int, GGMLType, UnsafeMutableRawPointer) -> Void

    public var threads: Int
    public var chunkBytes: Int
    /// Most float32 values staged per chunk (bounds memory when the output type is small, as quantized types are).
    public var chunkElements: Int
    public var encode: Encoder

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, chunkBytes: Int = 8 << 20, chunkElements: Int = 2 << 20,
                encode: @escaping Encoder = { RowEncoder.encode($0, count: $1, as: $2, into: $3) }) {
        self.threads = max(1, threads)
        self.chunkBytes = chunkBytes
        self.chunkElements = chunkElements
        self.encode = encode
    }

    struct Chunk {
        var tensor: Int
        var rows: Range<Int>
    }

    /// Writes every tensor; `progress` is called (from worker threads) with output bytes done, `finished` with
    /// the index of each tensor whose last chunk is written. Tensors with `raw` bytes are copied as they are.
    public func write(_ plan: [PlannedTensor], to writer: any GGUFTensorSink, progress: (@Sendable (Int) -> Void)? = nil,
                      finished: (@Sendable (Int) -> Void)? = nil) throws {
        var chunks: [Chunk] = []
        for (i, t) in plan.enumerated() {
            let rowBytes = max(1, t.type.byteCount(elements: t.source.rowLength))
            let step = max(1, min(chunkBytes / rowBytes, t.raw == nil ? chunkElements / max(1, t.source.rowLength) : .max))
            var r = 0
            while r < t.source.rowCount {
                chunks.append(Chunk(tensor: i, rows: r..<min(t.source.rowCount, r + step)))
                r += step
            }
        }
        let work = chunks
        let failure = FailureBox()
        let next = Counter()
        // Chunks left per tensor: when a tensor's last chunk is written, its mapped source pages are released,
        // so resident memory does not grow with the model (the page cache keeps the data for other readers).
        var perTensor = [Int](repeating: 0, count: plan.count)
        for c in work { perTensor[c.tensor] += 1 }
        let remaining = perTensor.map { Counter(start: $0) }
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            var floats = [Float]()
            var bytes = [UInt8]()
            while failure.error == nil, let k = next.take(below: work.count) {
                let chunk = work[k]
                let t = plan[chunk.tensor]
                let n = chunk.rows.count * t.source.rowLength
                let outBytes = t.type.byteCount(elements: n)
                if bytes.count < outBytes { bytes = [UInt8](repeating: 0, count: outBytes) }
                let offset = t.type.byteCount(elements: chunk.rows.lowerBound * t.source.rowLength)
                if let raw = t.raw {
                    do {
                        try writer.write(tensor: chunk.tensor, at: offset, UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + outBytes)]))
                        progress?(outBytes)
                    } catch {
                        failure.set(error)
                    }
                    MemoryAdvice.release(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + outBytes)]))
                    if remaining[chunk.tensor].add(-1) == 0 { finished?(chunk.tensor) }
                    continue
                }
                bytes.withUnsafeMutableBytes { out in
                    if let (src, dtype) = t.source.contiguous, ElementConverter.supports(from: dtype, to: t.type) {
                        let width = dtype.bits / 8
                        let start = chunk.rows.lowerBound * t.source.rowLength * width
                        ElementConverter.convert(UnsafeRawBufferPointer(rebasing: src[start..<(start + n * width)]), from: dtype, count: n,
                                                 to: t.type, into: out)
                    } else {
                        if floats.count < n { floats = [Float](repeating: 0, count: n) }
                        floats.withUnsafeMutableBufferPointer { f in
                            t.source.rows(chunk.rows, into: f.baseAddress!)
                            encode(f.baseAddress!, n, t.type, out.baseAddress!)
                        }
                    }
                }
                do {
                    try bytes.withUnsafeBytes { try writer.write(tensor: chunk.tensor, at: offset, UnsafeRawBufferPointer(rebasing: $0[..<outBytes])) }
                    progress?(outBytes)
                } catch {
                    failure.set(error)
                }
                t.source.backing(rows: chunk.rows).forEach(MemoryAdvice.release)
                if remaining[chunk.tensor].add(-1) == 0 {
                    t.source.backing.forEach(MemoryAdvice.release)
                    finished?(chunk.tensor)
                }
            }
        }
        if let error = failure.error { throw error }
    }
}
