/// What an idle connection does next, as decided by `WorkPlanner.pick`.
public enum WorkPick: Sendable, Equatable {
    /// Fetch the idle unfinished segment `segment` of active file `file`.
    case segment(file: Int, segment: Int)
    /// Split in-flight segment `segment` of active file `file` and fetch its upper half (work stealing).
    case split(file: Int, segment: Int)
    /// Start the next pending file (resolve it, open its partial file).
    case activate
    /// Nothing to do now: wait for a connection to finish or a file to become ready.
    case wait
}

/// The pure scheduling core of `DownloadEngine`: given the segment tables of the files being downloaded,
/// picks the next piece of work for a connection that just became free. No locks, sockets or files:
/// the engine calls it under its lock and carries the pick out.
///
/// The order is:
/// 1. start a pending file while fewer files are open than there are connections, so small files are
///    fetched alongside the large ones instead of after them;
/// 2. an idle segment of the file with the fewest connections (below its per-file limit), in file order
///    within the file, so every open file makes progress and its hashed prefix keeps growing;
/// 3. work stealing: split the in-flight range with the most bytes left, over all files below their
///    per-file limit, so no connection sits idle while a slow range holds up the end of a file.
public enum WorkPlanner {
    /// One active file as the planner sees it.
    public struct File: Sendable, Equatable {
        public var table: SegmentTable
        /// The server ignores `Range`: the file is one stream and is never split.
        public var sequential: Bool

        public init(table: SegmentTable, sequential: Bool = false) {
            self.table = table
            self.sequential = sequential
        }
    }

    /// The next piece of work. `opening` counts files being activated right now, `pendingReady` says
    /// whether a pending file may be started (one exists and is not waiting for another process).
    public static func pick(_ files: [File], limits: ConnectionLimits, pendingReady: Bool, opening: Int) -> WorkPick {
        if pendingReady && files.count + opening < limits.total { return .activate }
        var best: (file: Int, segment: Int, inFlight: Int)?
        for (i, file) in files.enumerated() {
            let inFlight = file.table.inFlightCount
            guard inFlight < limits.perFile, let idle = file.table.firstIdle else { continue }
            if best == nil || inFlight < best!.inFlight { best = (i, idle, inFlight) }
        }
        if let best { return .segment(file: best.file, segment: best.segment) }
        if pendingReady { return .activate }
        var steal: (file: Int, segment: Int, remaining: Int64)?
        for (i, file) in files.enumerated() where !file.sequential && file.table.inFlightCount < limits.perFile {
            guard let s = file.table.splittable(minSplit: limits.minSplit) else { continue }
            let remaining = file.table.segments[s].remaining
            if steal == nil || remaining > steal!.remaining { steal = (i, s, remaining) }
        }
        if let steal { return .split(file: steal.file, segment: steal.segment) }
        return .wait
    }
}
