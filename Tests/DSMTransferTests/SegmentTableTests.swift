import Testing
import DSMTransfer

@Suite struct SegmentTableTests {
    @Test func smallFilesAreOneSegment() {
        let t = SegmentTable(size: 1000, connections: 8, minSegment: 8 << 20)
        #expect(t.segments.count == 1)
        #expect(t.segments[0].start == 0 && t.segments[0].end == 1000)
    }

    @Test func largeFilesBecomeOrderedChunksThatCoverEveryByte() {
        let size: Int64 = (512 << 20) + 12345
        let t = SegmentTable(size: size, connections: 8, minSegment: 8 << 20)
        #expect(t.segments.count == 32)  // 16 MiB chunks, about four per connection; the remainder joins the last
        var expected: Int64 = 0
        for s in t.segments {
            #expect(s.start == expected)
            #expect(s.length >= 8 << 20)
            expected = s.end
        }
        #expect(expected == size)
    }

    @Test(arguments: [
        (Int64(1000), 8, Int64(1000)),                    // smaller than two minimum chunks: one piece
        (Int64(20 << 20), 8, Int64(8 << 20)),             // the minimum wins
        (Int64(512 << 20), 8, Int64(16 << 20)),           // size / (4 × connections)
        (Int64(16) << 30, 8, Int64(64 << 20)),            // capped for very large files
    ])
    func chunkSizes(size: Int64, connections: Int, expected: Int64) {
        #expect(SegmentTable.chunkSize(size: size, connections: connections, minSegment: 8 << 20, maxSegment: 64 << 20) == expected)
    }

    static let mib: Int64 = 1 << 20
    /// (file size, expected chunk) with the engine's defaults: 8 connections per file, 1 MiB minimum.
    static let defaultCases: [(Int64, Int64)] = [
        (48 * mib, 6 * mib),                  // tens of MiB: one range per connection, not 6 of 8 MiB
        (40 * mib, 5 * mib),
        (100 * mib, 8 * mib),                 // one per connection would pass the preferred 8 MiB
        (683 * mib, 683 * mib / 32),          // large: about four per connection
        (3 * mib, 1 * mib),                   // a few MiB: 1 MiB ranges
        (1_500_000, 1_500_000),               // under two minimum ranges: whole
    ]

    @Test(arguments: defaultCases)
    func chunkSizesWithTheDefaults(size: Int64, expected: Int64) {
        #expect(SegmentTable.chunkSize(size: size, connections: 8, minSegment: 1 << 20, maxSegment: 64 << 20) == expected)
    }

    @Test func aFileOfTensOfMiBGivesEveryConnectionARange() {
        let t = SegmentTable(size: 48 << 20, connections: 8, minSegment: 1 << 20)
        #expect(t.segments.count == 8)
        #expect(t.segments.allSatisfy { $0.length == 6 << 20 })
    }

    @Test func workIsHandedOutInFileOrder() {
        var t = SegmentTable(size: 100 << 20, connections: 2, minSegment: 8 << 20)
        let starts = (0..<3).map { _ in t.segments[t.claim(minSplit: 1 << 20)!].start }
        #expect(starts == [0, 13_107_200, 26_214_400])  // 12.5 MiB chunks
    }

    @Test func contiguousPrefixStopsAtTheFirstGap() {
        var t = SegmentTable(size: 300, connections: 3, minSegment: 100)
        let a = t.claim(minSplit: 10)!, b = t.claim(minSplit: 10)!, c = t.claim(minSplit: 10)!
        t.advance(b, by: 100)
        #expect(t.contiguousPrefix == 0)
        t.advance(a, by: 60)
        #expect(t.contiguousPrefix == 60)
        t.advance(a, by: 40)
        #expect(t.contiguousPrefix == 200)
        t.advance(c, by: 100)
        #expect(t.contiguousPrefix == 300)
        #expect(t.isComplete)
    }

    @Test func idleConnectionSplitsTheLargestRemainingRange() {
        var t = SegmentTable(size: 1000, connections: 2, minSegment: 500)
        let a = t.claim(minSplit: 100)!
        let b = t.claim(minSplit: 100)!
        t.advance(a, by: 500)          // a done
        t.release(a)
        t.advance(b, by: 100)          // b has 400 left
        let c = t.claim(minSplit: 100)!
        let seg = t.segments[c]
        #expect(seg.start == 800 && seg.end == 1000)  // b's remainder 600..<1000 halved at 800
        #expect(t.segments[t.index(ofStart: 500)!].end == 800)
        #expect(t.claim(minSplit: 150) == nil)  // halves of the 200 bytes left would go under minSplit
    }

    @Test func bytesPastASplitPointAreNotCounted() {
        var t = SegmentTable(size: 400, connections: 1, minSegment: 400)
        let a = t.claim(minSplit: 50)!
        _ = t.claim(minSplit: 50)  // splits at 200
        #expect(t.advance(a, by: 300) == 200)
        #expect(t.segments[a].isComplete)
    }

    @Test func restoreRejectsStateThatDoesNotFit() {
        var t = SegmentTable(size: 1000, connections: 4, minSegment: 100)
        t.advance(0, by: 10)
        #expect(SegmentTable.restored(t, size: 1000) == t)
        #expect(SegmentTable.restored(t, size: 999) == nil)
    }

    @Test func restoredSegmentsAreIdle() {
        var t = SegmentTable(size: 1000, connections: 4, minSegment: 100)
        _ = t.claim(minSplit: 100)
        #expect(t.inFlightCount == 1)
        #expect(SegmentTable.restored(t, size: 1000)!.inFlightCount == 0)
    }

    @Test func collapseKeepsOnlyTheContiguousPrefix() {
        var t = SegmentTable(size: 400, connections: 4, minSegment: 100)
        t.advance(0, by: 100)
        t.advance(1, by: 30)
        t.advance(3, by: 100)
        t.collapseToSequential()
        #expect(t.segments.count == 2)
        #expect(t.contiguousPrefix == 130)
        #expect(t.segments[1].start == 130 && t.segments[1].end == 400)
    }

    @Test func compactMergesFinishedNeighbours() {
        var t = SegmentTable(size: 400, connections: 4, minSegment: 100)
        for i in 0..<3 { t.advance(i, by: 100) }
        t.compact()
        #expect(t.segments.count == 2)
        #expect(t.segments[0].end == 300 && t.segments[0].isComplete)
    }

    @Test func emptyFile() {
        let t = SegmentTable(size: 0, connections: 8, minSegment: 1)
        #expect(t.isComplete)
        #expect(t.contiguousPrefix == 0)
    }
}

@Suite struct RetryPolicyTests {
    @Test func exponentialBackoffIsCapped() {
        let p = RetryPolicy(baseDelay: 0.5, maxDelay: 8, maxAttempts: 8)
        let delays = (1...7).map { p.delay(afterFailure: $0, serverDelay: nil, jitter: 0.5) }
        #expect(delays == [0.5, 1, 2, 4, 8, 8, 8])
    }

    @Test func jitterStaysWithinHalfToOneAndAHalf() {
        let p = RetryPolicy(baseDelay: 1, maxDelay: 8)
        #expect(p.delay(afterFailure: 2, serverDelay: nil, jitter: 0) == 1)
        #expect(p.delay(afterFailure: 2, serverDelay: nil, jitter: 1) == 3)
    }

    @Test func serverDelayWinsButIsCapped() {
        let p = RetryPolicy(maxServerDelay: 60)
        #expect(p.delay(afterFailure: 1, serverDelay: 7, jitter: 0.9) == 7)
        #expect(p.delay(afterFailure: 1, serverDelay: 3600, jitter: 0.9) == 60)
    }

    @Test func attemptsAreLimited() {
        let p = RetryPolicy(maxAttempts: 3)
        #expect(p.shouldRetry(afterFailure: 2))
        #expect(!p.shouldRetry(afterFailure: 3))
    }
}
