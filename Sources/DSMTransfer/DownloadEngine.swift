import Foundation
import DSMSystem
import DSMHub

/// Downloads many files over a fixed number of connections (a total and a per-file limit): large files are
/// split into ranges fetched in parallel into a preallocated partial file (positioned writes), several files
/// progress at once (small ones alongside the large), idle connections split the largest unfinished range of
/// any file (`WorkPlanner` decides, under the lock), and a hasher thread feeds SHA-256 with the
/// contiguous written prefix while bytes arrive, so verification costs almost nothing at the end.
/// Progress is checkpointed durably; a later run resumes every range.
public final class DownloadEngine: @unchecked Sendable {
    public struct Options: Sendable {
        /// Connections for the whole download. 32 by default: two files of a checkpoint (or a file and the
        /// small files beside it) can each use the per-file limit at once, the top of the 16–32 range aria2c
        /// (`-j`×`-x`) and Ollama use for a pull, still far below what a CDN treats as abuse.
        public var connections: Int = 32
        /// Connections one file may use at once. 16 by default, aria2c's ceiling (`-x16`): under a
        /// per-connection cap one large file needs many streams (measured in docs/benchmarks.md: 8 left a
        /// single large file at half of what `hf_transfer` reaches).
        public var connectionsPerFile: Int = 16
        /// Smallest range worth its own connection (and the smallest half a split leaves). 1 MiB, so a file
        /// of a few MiB still spreads over several connections.
        public var minSegment: Int64 = 1 << 20
        /// A range long enough that one request's fixed cost (round trip, first-byte latency) is small
        /// next to its transfer: files are cut into at least one range per connection up to this length.
        public var preferredSegment: Int64 = 8 << 20
        public var stallSeconds: Int = 30
        public var policy = RetryPolicy()
        /// Per-connection receive cap in bytes/s, 0 for none.
        public var maxSpeedPerConnection: Int64 = 0
        /// How often progress is made durable.
        public var checkpointInterval: Double = 0.5
        public init() {}
    }

    let options: Options
    let proxies: ProxySettings
    let userAgent: String
    /// Raised by the user (Ctrl-C) or by a permanent failure in any worker; stops every transfer.
    let cancel: CancellationFlag
    /// The user's flag, to tell an interruption from a failure.
    let userCancel: CancellationFlag
    weak var delegate: (any DownloadDelegate)?

    let lock = NSCondition()
    var pending: [DownloadItem] = []
    var busyUntil: [String: Date] = [:]
    var preparing = 0
    var active: [ActiveFile] = []
    var outcomes: [String: DownloadOutcome] = [:]
    var failure: (any Error)?
    let curl = ThreadLocalCurl()
    /// Monotonic times (ns) of the last body byte written and of the last item committed, and the time
    /// spent inside SHA-256: together they show what verification costs (`verificationCost`).
    var lastByteNanos: UInt64 = 0
    var lastCommitNanos: UInt64 = 0
    var hashNanos: UInt64 = 0

    public init(options: Options, proxies: ProxySettings, userAgent: String, cancel: CancellationFlag,
                delegate: any DownloadDelegate) {
        self.options = options
        self.proxies = proxies
        self.userAgent = userAgent
        self.userCancel = cancel
        self.cancel = CancellationFlag(child: cancel)
        self.delegate = delegate
    }

    /// Downloads every item; returns one outcome per item name, in input order.
    /// Throws the first permanent failure (after checkpointing every partial file) or `Cancelled`.
    public func run(_ items: [DownloadItem]) throws -> [DownloadOutcome] {
        lock.lock()
        pending = items
        lock.unlock()
        let finished = DispatchGroup()
        var bodies: [@Sendable () -> Void] = (0..<max(1, options.connections)).map { _ in { [self] in workerLoop() } }
        bodies.append { [self] in hasherLoop() }
        for body in bodies {
            finished.enter()
            Thread.detachNewThread {
                body()
                finished.leave()
            }
        }
        finished.wait()
        checkpointAll(force: true)
        if let failure { throw failure }
        try userCancel.check()
        return items.compactMap { outcomes[$0.name] }
    }

    /// What verification cost in this run: wall seconds between the last byte arriving and the last file
    /// being committed (the only time hashing can add, since it runs while bytes arrive), and the seconds
    /// the hasher spent in SHA-256.
    public func verificationCost() -> (tailSeconds: Double, hashSeconds: Double) {
        lock.lock()
        defer { lock.unlock() }
        let tail = lastCommitNanos > lastByteNanos && lastByteNanos > 0 ? Double(lastCommitNanos - lastByteNanos) / 1e9 : 0
        return (tail, Double(hashNanos) / 1e9)
    }

    /// A snapshot for the progress display.
    public func progress() -> DownloadProgress {
        lock.lock()
        defer { lock.unlock() }
        var files: [DownloadProgress.File] = active.map {
            .init(name: $0.item.name, size: $0.item.size, completed: $0.table.completedBytes, connections: $0.table.inFlightCount)
        }
        files += outcomes.values.map { .init(name: $0.name, size: $0.reusedBytes + $0.downloadedBytes, completed: $0.reusedBytes + $0.downloadedBytes, connections: 0, done: true) }
        return DownloadProgress(files: files, pendingBytes: pending.reduce(0) { $0 + $1.size },
                                writtenThisRun: active.reduce(0) { $0 + $1.writtenThisRun } + outcomes.values.reduce(0) { $0 + $1.downloadedBytes })
    }

    // MARK: - Scheduling

    enum Work {
        case fetch(ActiveFile, segmentStart: Int64, generation: Int)
        case activate(DownloadItem)
    }

    /// The limits this run plans with.
    var limits: ConnectionLimits {
        ConnectionLimits(total: max(1, options.connections), perFile: max(1, options.connectionsPerFile), minSplit: options.minSegment)
    }

    /// Waits for the next piece of work (`WorkPlanner.pick`, carried out under the lock); nil when the run is over.
    private func nextWork() -> Work? {
        lock.lock()
        defer { lock.unlock() }
        let limits = self.limits
        while true {
            if failure != nil || cancel.isCancelled { return nil }
            let now = Date()
            let ready = pending.firstIndex { (busyUntil[$0.name] ?? .distantPast) <= now }
            // Files whose every byte is written hold no connection while the hasher finishes them: they do not count
            // against the limits (counted, 2,500 small files went through 32 at a time, one hasher pass each).
            let downloading = active.filter { !$0.table.isComplete }
            let files = downloading.map { WorkPlanner.File(table: $0.table, sequential: $0.sequential) }
            switch WorkPlanner.pick(files, limits: limits, pendingReady: ready != nil, opening: preparing) {
            case .activate:
                preparing += 1
                return .activate(pending.remove(at: ready!))
            case .segment(let f, let s):
                let file = downloading[f]
                file.table.claimIdle(s)
                return .fetch(file, segmentStart: file.table.segments[s].start, generation: file.generation)
            case .split(let f, let s):
                let file = downloading[f]
                let half = file.table.split(s)
                return .fetch(file, segmentStart: file.table.segments[half].start, generation: file.generation)
            case .wait:
                if pending.isEmpty && preparing == 0 && active.isEmpty { return nil }
                _ = lock.wait(until: Date(timeIntervalSinceNow: 0.2))
            }
        }
    }

    private func workerLoop() {
        while let work = nextWork() {
            do {
                switch work {
                case .activate(let item): try activate(item)
                case .fetch(let file, let start, let generation): try fetch(file, segmentStart: start, claimedGeneration: generation)
                }
            } catch {
                fail(error)
            }
        }
        lock.broadcast()
    }

    func fail(_ error: any Error) {
        lock.lock()
        if failure == nil && !(error is CancellationFlag.Cancelled) { failure = error }
        lock.unlock()
        cancel.cancel()
        lock.broadcast()
    }

    private func activate(_ item: DownloadItem) throws {
        defer {
            lock.lock()
            preparing -= 1
            lock.unlock()
            lock.broadcast()
        }
        guard let delegate else { return }
        switch try delegate.prepare(item) {
        case .busy:
            lock.lock()
            busyUntil[item.name] = Date(timeIntervalSinceNow: 0.5)
            pending.append(item)
            lock.unlock()
        case .alreadyStored(let sha):
            lock.lock()
            outcomes[item.name] = DownloadOutcome(name: item.name, sha256: sha, downloadedBytes: 0, reusedBytes: item.size)
            lock.unlock()
        case .start(let token):
            let file = try openPartial(item, token: token)
            if item.size > 0 { file.source = try delegate.source(for: item, refresh: false, cancel: cancel) }
            lock.lock()
            active.append(file)
            lock.unlock()
        }
    }

    private func openPartial(_ item: DownloadItem, token: AnyObject?) throws -> ActiveFile {
        try FileSystem.createDirectory(FileSystem.parent(of: item.partialPath))
        if item.resumable, let state = PartialState.load(for: item) {
            let handle = try RandomAccessFile(path: item.partialPath, flags: O_RDWR)
            return ActiveFile(item: item, file: handle, table: state.table, token: token)
        }
        if FileSystem.exists(item.statePath) {
            FileSystem.remove(item.statePath)
            try FileSystem.syncDirectory(FileSystem.parent(of: item.statePath))
        }
        let handle = try RandomAccessFile(path: item.partialPath, flags: O_RDWR | O_CREAT | O_TRUNC)
        try handle.preallocate(item.size)
        return ActiveFile(item: item, file: handle, table: freshTable(for: item), token: token)
    }

    /// The plan for downloading `item` from byte 0.
    func freshTable(for item: DownloadItem) -> SegmentTable {
        SegmentTable(size: item.size, connections: limits.perFile, minSegment: options.minSegment,
                     preferredSegment: options.preferredSegment)
    }

    // MARK: - Called by SegmentSink on worker threads

    func isSequential(_ file: ActiveFile) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return file.sequential
    }

    /// How many bytes may be written at `offset` for this segment, or nil when the plan changed.
    func writableBytes(_ file: ActiveFile, segmentStart: Int64, generation: Int, at offset: Int64) -> Int64? {
        lock.lock()
        defer { lock.unlock() }
        guard file.generation == generation, let i = file.table.index(ofStart: segmentStart) else { return nil }
        let seg = file.table.segments[i]
        guard offset == seg.cursor else { return nil }
        return max(0, seg.end - offset)
    }

    func recordWritten(_ file: ActiveFile, segmentStart: Int64, generation: Int, count: Int64) {
        lock.lock()
        if file.generation == generation, let i = file.table.index(ofStart: segmentStart) {
            file.writtenThisRun += file.table.advance(i, by: count)
            lastByteNanos = DispatchTime.now().uptimeNanoseconds
        }
        lock.unlock()
    }

    func isSegmentComplete(_ file: ActiveFile, segmentStart: Int64) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let i = file.table.index(ofStart: segmentStart) else { return true }
        return file.table.segments[i].isComplete
    }

    func shouldStop(_ file: ActiveFile, generation: Int) -> Bool {
        if cancel.isCancelled { return true }
        lock.lock()
        defer { lock.unlock() }
        return file.generation != generation || failure != nil
    }
}

/// What the progress display shows.
public struct DownloadProgress: Sendable {
    public struct File: Sendable {
        public var name: String
        public var size: Int64
        public var completed: Int64
        public var connections: Int
        public var done = false
    }
    public var files: [File]
    public var pendingBytes: Int64
    public var writtenThisRun: Int64
}
