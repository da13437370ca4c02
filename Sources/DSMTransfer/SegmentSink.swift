import DSMSystem
import DSMHub

/// Receives one ranged GET for one segment and writes it into the partial file at the right offset.
/// It checks the response before the first byte: a 206 (or a 200 with `Content-Range`) must start at the
/// requested byte and describe a file of the expected size; a 200 without it is the whole file from byte 0.
final class SegmentSink: HTTPBodySink {
    /// How the response looked before its first body byte; `.ok` until a check fails.
    typealias Verdict = SegmentOutcome.Response

    private unowned let engine: DownloadEngine
    private let active: ActiveFile
    private let segmentStart: Int64
    private let generation: Int
    /// Absolute file offset of the next body byte.
    private var offset: Int64 = 0
    /// Bytes before this offset are discarded (streaming a Range-ignoring server from byte 0).
    private var skipUntil: Int64 = 0
    private(set) var verdict: Verdict = .ok
    private(set) var reachedEnd = false
    private(set) var wroteBytes: Int64 = 0
    private(set) var writeError: (any Error)?

    init(engine: DownloadEngine, active: ActiveFile, segmentStart: Int64, cursor: Int64, generation: Int) {
        self.engine = engine
        self.active = active
        self.segmentStart = segmentStart
        self.generation = generation
        offset = cursor
        skipUntil = cursor
    }

    func responseStarted(_ head: HTTPResponseHead) -> Bool {
        let size = active.item.size
        guard head.status == 200 || head.status == 206 else {
            verdict = .status(head)
            return false
        }
        // Where does this body start? A Content-Range says so (also on a 200); a bare 200 is the whole file.
        let start: Int64
        if let header = head["content-range"] {
            guard let range = ContentRange(header), let s = range.start else {
                verdict = .mismatch("the server sent HTTP \(head.status) without a usable Content-Range")
                return false
            }
            if let total = range.total, total != size {
                verdict = .mismatch("the server says the file has \(total) bytes, the listing said \(size)")
                return false
            }
            start = s
        } else if head.status == 206 {
            verdict = .mismatch("the server sent HTTP 206 without Content-Range")
            return false
        } else {
            if let length = head["content-length"].flatMap(Int64.init), length != size {
                verdict = .mismatch("the server sent \(length) bytes, the listing said \(size)")
                return false
            }
            start = 0
        }
        if start == skipUntil {
            offset = start
            return true
        }
        if start == 0 && head.status == 200 {
            // The server ignored Range. In one-stream mode that is expected: skip what we already have.
            if engine.isSequential(active) {
                offset = 0
                return true
            }
            verdict = .rangesIgnored
            return false
        }
        verdict = .mismatch("asked for bytes from \(skipUntil), the server sent from \(start)")
        return false
    }

    func received(_ chunk: UnsafeRawBufferPointer) -> Bool {
        var bytes = chunk
        if offset < skipUntil {
            let skip = Int(min(Int64(bytes.count), skipUntil - offset))
            offset += Int64(skip)
            bytes = UnsafeRawBufferPointer(rebasing: bytes[skip...])
            if bytes.isEmpty { return true }
        }
        guard let allowed = engine.writableBytes(active, segmentStart: segmentStart, generation: generation, at: offset) else {
            return false  // the plan changed under us
        }
        let n = Int(min(Int64(bytes.count), allowed))
        if n > 0 {
            do {
                try active.file.write(UnsafeRawBufferPointer(rebasing: bytes[..<n]), at: offset)
            } catch {
                writeError = error
                return false
            }
            engine.recordWritten(active, segmentStart: segmentStart, generation: generation, count: Int64(n))
            offset += Int64(n)
            wroteBytes += Int64(n)
        }
        if n < bytes.count {
            // More body than this segment wants (the segment shrank in a split, or a 200 sends the whole
            // file): stop here. When the body ends exactly at the segment's end, curl finishes normally
            // and keeps the connection alive.
            reachedEnd = true
            return false
        }
        return true
    }

    func shouldCancel() -> Bool {
        engine.shouldStop(active, generation: generation)
    }
}
