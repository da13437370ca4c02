import Testing
import DSMTransfer

/// Which range an idle connection takes, without sockets or disks: `WorkPlanner.pick` on plain segment tables.
@Suite struct WorkPlannerTests {
    static let mib: Int64 = 1 << 20
    static let limits = ConnectionLimits(total: 16, perFile: 8, minSplit: 1 << 20)

    /// A fresh plan for a file of `mib` MiB, with its first `claimed` segments in flight.
    static func file(_ mib: Int64, claimed: Int = 0, sequential: Bool = false) -> WorkPlanner.File {
        var t = SegmentTable(size: mib << 20, connections: 8, minSegment: 1 << 20)
        for i in 0..<claimed { t.claimIdle(i) }
        return WorkPlanner.File(table: t, sequential: sequential)
    }

    /// Runs the planner the way the engine does (pick, carry it out) until it says wait; returns the picks.
    static func drain(_ files: inout [WorkPlanner.File], limits: ConnectionLimits = limits, max: Int = 100) -> [WorkPick] {
        var picks: [WorkPick] = []
        while picks.count < max {
            let pick = WorkPlanner.pick(files, limits: limits, pendingReady: false, opening: 0)
            switch pick {
            case .segment(let f, let s): files[f].table.claimIdle(s)
            case .split(let f, let s): _ = files[f].table.split(s)
            case .activate, .wait: return picks
            }
            picks.append(pick)
        }
        return picks
    }

    @Test func pendingFilesStartWhileFewerFilesAreOpenThanConnections() {
        let files = [Self.file(48, claimed: 8), Self.file(40, claimed: 7)]
        #expect(WorkPlanner.pick(files, limits: Self.limits, pendingReady: true, opening: 0) == .activate)
        // Sixteen files open or opening: take an idle range first, start the next file when none is left.
        #expect(WorkPlanner.pick(files, limits: Self.limits, pendingReady: true, opening: 14) == .segment(file: 1, segment: 7))
        let busy = [Self.file(48, claimed: 8), Self.file(40, claimed: 8)]
        #expect(WorkPlanner.pick(busy, limits: Self.limits, pendingReady: true, opening: 14) == .activate)
    }

    @Test func twoMidSizeShardsUseEveryConnection() {
        // The issue-15 shape: 48 and 40 MiB shards, 16 connections, 8 per file.
        var files = [Self.file(48), Self.file(40)]
        let picks = Self.drain(&files)
        #expect(picks.count == 16)
        #expect(files.map(\.table.inFlightCount) == [8, 8])
        #expect(picks.allSatisfy { if case .segment = $0 { true } else { false } })
    }

    @Test func theFileWithFewestConnectionsGoesFirst() {
        let files = [Self.file(48, claimed: 3), Self.file(40, claimed: 1), Self.file(40, claimed: 2)]
        #expect(WorkPlanner.pick(files, limits: Self.limits, pendingReady: false, opening: 0) == .segment(file: 1, segment: 1))
    }

    @Test func rangesAreTakenInFileOrderWithinAFile() {
        var files = [Self.file(683)]
        let picks = Self.drain(&files)
        #expect(picks == (0..<8).map { .segment(file: 0, segment: $0) })
    }

    @Test func thePerFileLimitHolds() {
        var files = [Self.file(683)]
        _ = Self.drain(&files)
        #expect(files[0].table.inFlightCount == 8)
        #expect(WorkPlanner.pick(files, limits: Self.limits, pendingReady: false, opening: 0) == .wait)
    }

    @Test func theTotalCapsThePerFileLimit() {
        #expect(ConnectionLimits(total: 4, perFile: 8, minSplit: 1).perFile == 4)
    }

    @Test func anIdleConnectionSplitsTheLargestRemainingRangeOfAnyFile() {
        // File 0 has 2 connections left on short ranges, file 1 one long range: the long one is split.
        var a = SegmentTable(size: 48 << 20, connections: 8, minSegment: 1 << 20)
        for i in a.segments.indices {
            a.claimIdle(i)
            a.advance(i, by: i < 6 ? a.segments[i].length : a.segments[i].length - Self.mib)
            if i < 6 { a.release(i) }
        }
        var b = SegmentTable(size: 40 << 20, connections: 8, minSegment: 1 << 20)
        for i in b.segments.indices {
            b.claimIdle(i)
            b.advance(i, by: i == 3 ? Self.mib : b.segments[i].length)
            if i != 3 { b.release(i) }
        }
        let files = [WorkPlanner.File(table: a), WorkPlanner.File(table: b)]
        #expect(WorkPlanner.pick(files, limits: Self.limits, pendingReady: false, opening: 0) == .split(file: 1, segment: 3))
    }

    @Test func stealingRespectsThePerFileLimitAndMinimumSplit() {
        var files = [Self.file(48)]
        _ = Self.drain(&files, limits: ConnectionLimits(total: 16, perFile: 8, minSplit: Self.mib))
        #expect(files[0].table.inFlightCount == 8)  // at the limit: no split although connections are free
        var small = [Self.file(48)]
        let picks = Self.drain(&small, limits: ConnectionLimits(total: 16, perFile: 12, minSplit: 4 * Self.mib))
        // 8 ranges of 6 MiB, then no split: halves of 6 MiB would be under 4 MiB.
        #expect(picks.count == 8)
        let loose = Self.drain(&small, limits: ConnectionLimits(total: 16, perFile: 12, minSplit: Self.mib))
        #expect(loose.count == 4)
        #expect(loose.allSatisfy { if case .split = $0 { true } else { false } })
        #expect(small[0].table.segments.allSatisfy { $0.length >= Self.mib })
    }

    @Test func aFileStreamedInOneRequestIsNeverSplit() {
        var t = SegmentTable(size: 48 << 20, connections: 8, minSegment: 1 << 20)
        t.collapseToSequential()
        t.claimIdle(0)
        let files = [WorkPlanner.File(table: t, sequential: true)]
        #expect(WorkPlanner.pick(files, limits: Self.limits, pendingReady: false, opening: 0) == .wait)
    }

    @Test func aPendingFileComesBeforeStealing() {
        var files = [Self.file(48)]
        _ = Self.drain(&files)
        // Every file slot taken (1 open + 15 opening): a waiting file still goes before splitting a range.
        let limits = ConnectionLimits(total: 16, perFile: 12, minSplit: Self.mib)
        #expect(WorkPlanner.pick(files, limits: limits, pendingReady: true, opening: 15) == .activate)
        #expect(WorkPlanner.pick(files, limits: limits, pendingReady: false, opening: 15) == .split(file: 0, segment: 0))
    }

    @Test func nothingLeftMeansWait() {
        #expect(WorkPlanner.pick([], limits: Self.limits, pendingReady: false, opening: 0) == .wait)
        var t = SegmentTable(size: 1000, connections: 8, minSegment: 1 << 20)
        t.claimIdle(0)
        t.advance(0, by: 1000)
        t.release(0)
        #expect(WorkPlanner.pick([WorkPlanner.File(table: t)], limits: Self.limits, pendingReady: false, opening: 0) == .wait)
    }
}
