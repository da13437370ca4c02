import Foundation
import DSMSystem
import DSMTransfer

/// Shows download progress on stderr: redrawn lines on a terminal (per file and total: bytes, speed,
/// ETA), plain periodic lines otherwise.
final class ProgressDisplay: @unchecked Sendable {
    private let engine: DownloadEngine
    private let totalBytes: Int64
    private let terminal: Bool
    private let interval: Double
    private let stop = CancellationFlag()
    private let stopped = DispatchSemaphore(value: 0)
    private var drawnLines = 0
    private var thread: Thread?
    private let started = Date()
    private var samples: [(Date, Int64)] = []

    init(engine: DownloadEngine, totalBytes: Int64, terminal: Bool) {
        self.engine = engine
        self.totalBytes = totalBytes
        self.terminal = terminal
        interval = terminal ? 0.25 : (Double(ProcessInfo.processInfo.environment["DSM_PROGRESS_INTERVAL"] ?? "") ?? 5)
    }

    func start() {
        let t = Thread { [self] in
            while (try? stop.sleep(interval)) != nil { draw(final: false) }
            stopped.signal()
        }
        thread = t
        t.start()
    }

    /// Stops the redraw thread, waits for it, then draws the last state once.
    func finish() {
        stop.cancel()
        if thread != nil { stopped.wait() }
        thread = nil
        draw(final: true)
    }

    private func draw(final: Bool) {
        let p = engine.progress()
        let done = p.files.reduce(Int64(0)) { $0 + $1.completed }
        let now = Date()
        samples.append((now, p.writtenThisRun))
        samples.removeAll { now.timeIntervalSince($0.0) > 5 }
        // Speed over the last 5 s; before there are two samples, the average since the start.
        let speed: Double = samples.count >= 2
            ? Double(samples.last!.1 - samples.first!.1) / max(0.001, samples.last!.0.timeIntervalSince(samples.first!.0))
            : Double(p.writtenThisRun) / max(0.001, now.timeIntervalSince(started))
        let left = max(0, totalBytes - done)
        let eta = speed > 0 ? Self.duration(Double(left) / speed) : "--"
        let total = "total \(ByteFormat.string(done)) / \(ByteFormat.string(totalBytes)) \(Self.percent(done, totalBytes))  \(ByteFormat.string(Int64(speed)))/s  ETA \(eta)"
        if terminal {
            var lines = p.files.filter { !$0.done }.sorted { $0.name < $1.name }.prefix(8).map {
                "  \($0.name)  \(ByteFormat.string($0.completed)) / \(ByteFormat.string($0.size)) \(Self.percent($0.completed, $0.size))  [\($0.connections) conn]"
            }
            lines.append(total)
            var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
            for line in lines { text += "\r\u{1B}[K" + line + "\n" }
            text += "\u{1B}[J"
            FileHandle.standardError.write(Data(text.utf8))
            drawnLines = lines.count
        } else if !final {
            Console.error("pull: \(total)")
        }
    }

    static func percent(_ a: Int64, _ b: Int64) -> String {
        b <= 0 ? "100%" : "\(Int((Double(a) / Double(b) * 100).rounded(.down)))%"
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600)h\((s % 3600) / 60)m" : (s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s")
    }
}
