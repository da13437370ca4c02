/// The byte ranges of one file and how far each has been written: the pure planning core of a
/// segmented download. It decides how a file is split over connections, hands out work, splits the
/// largest unfinished range when a connection would otherwise sit idle (no crawl at the end), and
/// says how far the file is complete from its start (the prefix that can be hashed).
///
/// Segments never overlap and together cover `0..<size`. A segment's `done` bytes, counted from its
/// `start`, have been written; `inFlight` marks a segment a connection is fetching.
public struct SegmentTable: Codable, Equatable, Sendable {
    public struct Segment: Codable, Equatable, Sendable {
        public var start: Int64
        public var end: Int64
        public var done: Int64
        public var inFlight: Bool = false

        public var length: Int64 { end - start }
        public var remaining: Int64 { end - start - done }
        public var isComplete: Bool { done >= end - start }
        /// The next byte to fetch.
        public var cursor: Int64 { start + done }

        enum CodingKeys: String, CodingKey { case start, end, done }
    }

    public private(set) var size: Int64
    public private(set) var segments: [Segment]

    /// Plans a fresh download of `size` bytes as consecutive chunks fetched in file order (see `chunkSize`).
    /// `connections` is how many connections the file may use at once (the per-file limit). Fetching in
    /// order keeps the written prefix growing, so the digest keeps up with the download instead of having
    /// most of the file left to hash after the last byte; small chunks also bound what a crash can lose.
    public init(size: Int64, connections: Int, minSegment: Int64, maxSegment: Int64 = 64 << 20,
                preferredSegment: Int64 = 8 << 20) {
        precondition(size >= 0 && connections >= 1 && minSegment >= 1 && maxSegment >= minSegment)
        self.size = size
        let chunk = SegmentTable.chunkSize(size: size, connections: connections, minSegment: minSegment,
                                           maxSegment: maxSegment, preferredSegment: preferredSegment)
        var segs: [Segment] = []
        var start: Int64 = 0
        repeat {
            var end = min(size, start + chunk)
            if size - end < minSegment { end = size }  // no runt chunk at the end
            segs.append(Segment(start: start, end: end, done: 0))
            start = end
        } while start < size
        segments = segs
    }

    /// The chunk length for a file: about four chunks per connection (`size / (4 × connections)`), but never
    /// fewer chunks than connections while a chunk stays under `preferredSegment` (so a file of tens of MiB
    /// still gives every one of its connections a range: 48 MiB over 8 connections is 8 chunks of 6 MiB,
    /// not 6 of 8 MiB), clamped to `minSegment...maxSegment`; the whole file when it is smaller than two
    /// minimum chunks. `preferredSegment` is a request long enough that its fixed cost (one round trip
    /// plus the server's first-byte latency) is small next to its transfer time.
    public static func chunkSize(size: Int64, connections: Int, minSegment: Int64, maxSegment: Int64,
                                 preferredSegment: Int64 = 8 << 20) -> Int64 {
        if size < 2 * minSegment { return max(size, 1) }
        let c = Int64(connections)
        let onePerConnection = (size + c - 1) / c
        let ordered = size / (4 * c)
        return min(maxSegment, max(minSegment, ordered, min(preferredSegment, onePerConnection)))
    }

    /// Restores a saved table, validating that it still describes a file of `size` bytes.
    /// Returns nil when the saved state does not fit (then the download starts over).
    public static func restored(_ saved: SegmentTable, size: Int64) -> SegmentTable? {
        guard saved.size == size, !saved.segments.isEmpty else { return nil }
        var expected: Int64 = 0
        for s in saved.segments {
            guard s.start == expected, s.end > s.start || size == 0, s.done >= 0, s.done <= s.length else { return nil }
            expected = s.end
        }
        guard expected == size else { return nil }
        var copy = saved
        for i in copy.segments.indices { copy.segments[i].inFlight = false }
        return copy
    }

    /// Bytes written so far.
    public var completedBytes: Int64 { segments.reduce(0) { $0 + $1.done } }

    /// True when every byte has been written.
    public var isComplete: Bool { segments.allSatisfy(\.isComplete) }

    /// Length of the written prefix `0..<n`: everything before it may be hashed.
    public var contiguousPrefix: Int64 {
        var prefix: Int64 = 0
        for s in segments {
            prefix = s.start + s.done
            if !s.isComplete { return prefix }
        }
        return size
    }

    /// Number of segments being fetched.
    public var inFlightCount: Int { segments.filter(\.inFlight).count }

    /// Takes the next piece of work: the first idle unfinished segment, else a split of the in-flight
    /// segment with the most bytes left (when both halves would keep at least `minSplit` bytes).
    /// Marks the returned segment in flight and returns its index.
    public mutating func claim(minSplit: Int64) -> Int? {
        if let idle = firstIdle {
            claimIdle(idle)
            return idle
        }
        guard let largest = splittable(minSplit: minSplit) else { return nil }
        return split(largest)
    }

    /// The first segment (in file order) that is unfinished and not being fetched.
    public var firstIdle: Int? { segments.firstIndex { !$0.inFlight && !$0.isComplete } }

    /// The in-flight segment with the most bytes left, if halving what it has left keeps at least
    /// `minSplit` bytes on each side.
    public func splittable(minSplit: Int64) -> Int? {
        guard let largest = segments.indices.filter({ segments[$0].inFlight }).max(by: { segments[$0].remaining < segments[$1].remaining }),
              segments[largest].remaining >= 2 * minSplit else { return nil }
        return largest
    }

    /// Marks the idle segment `index` in flight.
    public mutating func claimIdle(_ index: Int) {
        segments[index].inFlight = true
    }

    /// Halves what in-flight segment `index` has left: its connection keeps the lower half, and the upper
    /// half becomes a new in-flight segment for the caller. Returns the new segment's index.
    public mutating func split(_ index: Int) -> Int {
        let s = segments[index]
        let cut = s.cursor + s.remaining / 2
        segments[index].end = cut
        segments.insert(Segment(start: cut, end: s.end, done: 0, inFlight: true), at: index + 1)
        return index + 1
    }

    /// The index of the segment that starts at `start` (starts never move, indices may).
    public func index(ofStart start: Int64) -> Int? {
        segments.firstIndex { $0.start == start }
    }

    /// Records `count` bytes written at the cursor of segment `index`; returns how many of them fell
    /// inside the segment (bytes past a segment's end, after a split, are not counted).
    @discardableResult
    public mutating func advance(_ index: Int, by count: Int64) -> Int64 {
        let accepted = min(count, segments[index].remaining)
        segments[index].done += accepted
        return accepted
    }

    /// Marks segment `index` idle again (its connection finished or failed).
    public mutating func release(_ index: Int) {
        segments[index].inFlight = false
    }

    /// Drops all progress beyond the contiguous prefix and plans the rest as one sequential range,
    /// for servers that ignore `Range` (the rest must then be streamed from byte 0).
    public mutating func collapseToSequential() {
        let prefix = contiguousPrefix
        var segs: [Segment] = []
        if prefix > 0 { segs.append(Segment(start: 0, end: prefix, done: prefix)) }
        if prefix < size || segs.isEmpty { segs.append(Segment(start: prefix, end: size, done: 0)) }
        segments = segs
    }

    /// Merges neighbouring complete segments so saved state stays small.
    public mutating func compact() {
        var merged: [Segment] = []
        for s in segments {
            if let last = merged.last, last.isComplete, s.isComplete, !last.inFlight, !s.inFlight {
                merged[merged.count - 1].end = s.end
                merged[merged.count - 1].done = s.end - last.start
            } else {
                merged.append(s)
            }
        }
        segments = merged
    }
}
