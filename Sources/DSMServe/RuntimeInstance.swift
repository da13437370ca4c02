import AsyncHTTPClient
import DSMRegistry
import DSMServeCore
import DSMSystem
import Foundation
import NIOCore
import NIOHTTP1

/// One runtime process serving one version: started on a loopback port, ready once its health endpoint answers
/// 200 (503 while it loads) and the socket answering on that port is its own, watched by a periodic health check
/// while it serves (`RuntimeInstance+Liveness.swift`), restarted with backoff on a fresh port when it dies or
/// hangs, drained and stopped when no channel needs it.
public final class RuntimeInstance: @unchecked Sendable {
    public enum Phase: String, Sendable { case starting, ready, restarting, stopped }

    public let model: ServedModel
    public let kind: RuntimeKind
    public let logPath: String
    /// How long the gateway waits for the start of a runtime's answer (its response head), in seconds.
    public let firstByteTimeout: Double
    let liveness: LivenessPolicy
    let client: HTTPClient
    let events: @Sendable (String) -> Void
    let onRestart: @Sendable () -> Void
    /// The plan for a port, and a free port: every start after the first takes a fresh port (see `start`).
    let makePlan: @Sendable (Int) throws -> LaunchPlan
    let freePort: @Sendable () throws -> Int

    let lock = NSLock()
    private var _phase = Phase.starting
    private var _plan: LaunchPlan
    private var _port: Int
    private var starts = 0
    private var child: ChildProcess?
    private var backoff = RestartBackoff()
    private var stopping = false
    private var prepared = false
    private var _inFlight = 0
    /// Exits in a row before the health check ever passed (a model that cannot load).
    private var failedStarts = 0
    /// After this many, `waitReady` gives up instead of waiting out its timeout.
    static let maxFailedStarts = 3

    init(model: ServedModel, kind: RuntimeKind, port: Int, plan: LaunchPlan, makePlan: @escaping @Sendable (Int) throws -> LaunchPlan,
         freePort: @escaping @Sendable () throws -> Int, logPath: String, liveness: LivenessPolicy, firstByteTimeout: Double,
         client: HTTPClient, events: @escaping @Sendable (String) -> Void, onRestart: @escaping @Sendable () -> Void) {
        self.model = model
        self.kind = kind
        _port = port
        _plan = plan
        self.makePlan = makePlan
        self.freePort = freePort
        self.logPath = logPath
        self.liveness = liveness
        self.firstByteTimeout = firstByteTimeout
        self.client = client
        self.events = events
        self.onRestart = onRestart
    }

    public var phase: Phase { lock.withLock { _phase } }
    public var pid: Int32? { lock.withLock { child?.pid } }
    public var inFlight: Int { lock.withLock { _inFlight } }
    /// The command line and settings of the current (or last) start.
    public var plan: LaunchPlan { lock.withLock { _plan } }
    /// The loopback port of the current (or last) start.
    public var port: Int { lock.withLock { _port } }

    /// Counts a request routed here (drain waits for these).
    func begin() { lock.withLock { _inFlight += 1 } }
    func end() { lock.withLock { _inFlight -= 1 } }

    /// Whether `c` is the current process and serving.
    func isServing(_ c: ChildProcess) -> Bool { lock.withLock { child === c && _phase == .ready } }

    /// Takes `c` out of routing (it is hung and about to be killed); false when it was not serving anyway.
    func markHung(_ c: ChildProcess) -> Bool {
        lock.withLock {
            guard child === c, _phase == .ready else { return false }
            _phase = .restarting
            return true
        }
    }

    /// Starts the process (files first) and watches it until it is ready; throws when it cannot be started at all.
    /// A restart takes a fresh port: the old one may have been taken by another process meanwhile.
    func start() throws {
        let (plan, port): (LaunchPlan, Int) = try lock.withLock {
            if starts > 0 {
                let p = try freePort()
                _plan = try makePlan(p)
                _port = p
            }
            starts += 1
            return (_plan, _port)
        }
        for (path, text) in plan.files { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) }
        let header = "\n=== \(ISO8601DateFormatter().string(from: Date())) dsm starts \(model.label): \(plan.arguments.joined(separator: " "))\n"
        RuntimeInstance.append(header, to: logPath)
        let env = RuntimeEnvironment.forRuntime(kind, inherited: ProcessInfo.processInfo.environment, plan: plan.environment)
        let c = try ChildProcess.start(plan.arguments, environment: env, logPath: logPath) { [weak self] code in
            self?.exited(code)
        }
        lock.withLock {
            child = c
            if _phase != .stopped { _phase = .starting }
        }
        Task { await self.watchUntilReady(c, port: port, plan: plan) }
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
        AppendOnlyFile.appendIgnoringFailure(text, to: path)
    }

    private func watchUntilReady(_ c: ChildProcess, port: Int, plan: LaunchPlan) async {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(plan.healthPath)")
        request.method = .GET
        while c.exitStatus == nil, phase != .stopped {
            if let r = try? await client.execute(request, timeout: .seconds(2)), r.status.code == 200 {
                _ = try? await r.body.collect(upTo: 1 << 20)
                // Only now that something answers can it be checked that it is the runtime: another local process
                // may have bound the port between dsm choosing it and the runtime starting.
                let owner = ProcScan.owner(ofPort: port, group: c.pid)
                guard owner == .runtime else {
                    let who = if case .foreign(let inodes) = owner {
                        "a socket of another process (inode \(inodes.map(String.init).joined(separator: ", ")))"
                    } else { "no socket of the runtime" }
                    events("\(model.label): 127.0.0.1:\(port) answered, but from \(who), not from the runtime (pid \(c.pid)): "
                           + "another local process took the port. It gets no request; the runtime is restarted on another port")
                    c.signal(SIGKILL)
                    return
                }
                if await prepareOnce(plan) {
                    let ready: Bool = lock.withLock {
                        guard _phase != .stopped && child === c else { return false }
                        _phase = .ready
                        failedStarts = 0
                        return true
                    }
                    events("ready \(model.label) on 127.0.0.1:\(port) (pid \(c.pid))")
                    if ready { Task { await self.watchLiveness(c, port: port, healthPath: plan.healthPath) } }
                }
                return
            }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    /// Runs the plan's preparation commands (Ollama's `create`) once, after the first successful health check.
    private func prepareOnce(_ plan: LaunchPlan) async -> Bool {
        if lock.withLock({ prepared }) || plan.preparation.isEmpty { return true }
        let env = RuntimeEnvironment.forRuntime(kind, inherited: ProcessInfo.processInfo.environment, plan: plan.environment)
        for command in plan.preparation {
            guard let c = try? ChildProcess.start(command, environment: env, logPath: logPath) else { return false }
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
