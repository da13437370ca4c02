import AsyncHTTPClient
import DSMServeCore
import Foundation
import NIOCore
import NIOHTTP1

/// One runtime process serving one version: started on a loopback port, ready once its health endpoint answers
/// 200 (503 while it loads), restarted with backoff when it dies, drained and stopped when no channel needs it.
public final class RuntimeInstance: @unchecked Sendable {
    public enum Phase: String, Sendable { case starting, ready, restarting, stopped }

    public let model: ServedModel
    public let plan: LaunchPlan
    public let port: Int
    public let logPath: String
    let client: HTTPClient
    let events: @Sendable (String) -> Void
    let onRestart: @Sendable () -> Void

    private let lock = NSLock()
    private var _phase = Phase.starting
    private var child: ChildProcess?
    private var backoff = RestartBackoff()
    private var stopping = false
    private var prepared = false
    private var _inFlight = 0
    /// Exits in a row before the health check ever passed (a model that cannot load).
    private var failedStarts = 0
    /// After this many, `waitReady` gives up instead of waiting out its timeout.
    static let maxFailedStarts = 3

    init(model: ServedModel, plan: LaunchPlan, port: Int, logPath: String, client: HTTPClient,
         events: @escaping @Sendable (String) -> Void, onRestart: @escaping @Sendable () -> Void) {
        self.model = model
        self.plan = plan
        self.port = port
        self.logPath = logPath
        self.client = client
        self.events = events
        self.onRestart = onRestart
    }

    public var phase: Phase { lock.withLock { _phase } }
    public var pid: Int32? { lock.withLock { child?.pid } }
    public var inFlight: Int { lock.withLock { _inFlight } }

    /// Counts a request routed here (drain waits for these).
    func begin() { lock.withLock { _inFlight += 1 } }
    func end() { lock.withLock { _inFlight -= 1 } }

    /// Starts the process (files first) and watches it until it is ready; throws when it cannot be started at all.
    func start() throws {
        for (path, text) in plan.files { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) }
        let header = "\n=== \(ISO8601DateFormatter().string(from: Date())) dsm starts \(model.label): \(plan.arguments.joined(separator: " "))\n"
        RuntimeInstance.append(header, to: logPath)
        let env = ProcessInfo.processInfo.environment.merging(plan.environment) { $1 }
        let c = try ChildProcess.start(plan.arguments, environment: env, logPath: logPath) { [weak self] code in
            self?.exited(code)
        }
        lock.withLock {
            child = c
            if _phase != .stopped { _phase = .starting }
        }
        Task { await self.watchUntilReady(c) }
    }

    /// Waits until the runtime is ready, or throws (it exited, or `timeout` passed).
    func waitReady(timeout: Double) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            switch phase {
            case .ready: return
            case .stopped: throw SpawnError("\(model.label) was stopped")
            default: break
            }
            if Date() > deadline {
                throw SpawnError("\(model.label) did not become ready within \(Int(timeout)) s; see \(logPath)")
            }
            if lock.withLock({ failedStarts }) >= RuntimeInstance.maxFailedStarts {
                throw SpawnError("\(model.label) could not start: the runtime exited \(RuntimeInstance.maxFailedStarts) times before it was ready. "
                                 + "Last lines of \(logPath):\n" + RuntimeInstance.tail(of: logPath, lines: 8))
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    /// Waits (up to `timeout`) for routed requests to finish, then stops the process.
    func drainAndStop(timeout: Double = 120) async {
        let deadline = Date().addingTimeInterval(timeout)
        while inFlight > 0 && Date() < deadline { try? await Task.sleep(nanoseconds: 20_000_000) }
        let c: ChildProcess? = lock.withLock {
            stopping = true
            _phase = .stopped
            return child
        }
        await c?.stop()
        events("stopped \(model.label) (pid \(c.map { String($0.pid) } ?? "-"))")
    }

    /// The last `lines` lines of a log file.
    static func tail(of path: String, lines: Int) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "(no log)" }
        return String(decoding: data.suffix(16 << 10), as: UTF8.self).split(separator: "\n").suffix(lines).map { "  " + $0 }.joined(separator: "\n")
    }

    /// Appends `text` to the runtime's log (created if missing).
    static func append(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    private func watchUntilReady(_ c: ChildProcess) async {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(plan.healthPath)")
        request.method = .GET
        while c.exitStatus == nil, phase != .stopped {
            if let r = try? await client.execute(request, timeout: .seconds(2)), r.status.code == 200 {
                _ = try? await r.body.collect(upTo: 1 << 20)
                if await prepareOnce() {
                    lock.withLock {
                        if _phase != .stopped && child === c { _phase = .ready }
                        failedStarts = 0
                    }
                    events("ready \(model.label) on 127.0.0.1:\(port) (pid \(c.pid))")
                }
                return
            }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    /// Runs the plan's preparation commands (Ollama's `create`) once, after the first successful health check.
    private func prepareOnce() async -> Bool {
        if lock.withLock({ prepared }) || plan.preparation.isEmpty { return true }
        for command in plan.preparation {
            guard let c = try? ChildProcess.start(command, environment: ProcessInfo.processInfo.environment.merging(plan.environment) { $1 },
                                                  logPath: logPath) else { return false }
            guard await c.wait() == 0 else {
                events("\(model.label): `\(command.joined(separator: " "))` failed; see \(logPath)")
                return false
            }
        }
        lock.withLock { prepared = true }
        return true
    }

    private func exited(_ code: Int32) {
        let (restart, ran): (Bool, Double) = lock.withLock {
            guard !stopping else { return (false, 0) }
            if _phase == .starting { failedStarts += 1 }
            _phase = .restarting
            return (true, Date().timeIntervalSince(child?.startedAt ?? Date()))
        }
        guard restart else { return }
        let delay = lock.withLock { backoff.delay(afterRunOf: ran) }
        events("\(model.label) exited (status \(code)) after \(String(format: "%.1f", ran)) s; restarting in \(delay) s; log: \(logPath)")
        onRestart()
        Task {
            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            guard !self.lock.withLock({ self.stopping }) else { return }
            do { try self.start() } catch { self.events("\(self.model.label): restart failed: \(error)") ; self.exited(-1) }
        }
    }
}
