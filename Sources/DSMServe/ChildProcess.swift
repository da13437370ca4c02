import CProcess
import Foundation

/// A child process started with `dsm_spawn` (own process group, output appended to a log file, SIGTERM from the
/// kernel if dsm dies). Forks happen on one long-lived thread, because Linux delivers the parent-death signal
/// when the *thread* that forked exits, and pool threads come and go. When the child (the group's leader) ends,
/// for whatever reason, the rest of its process group is killed before the child is reaped (see `start`), so
/// nothing it started outlives it.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let startedAt = Date()
    private let lock = NSLock()
    private var status: Int32?
    private var waiters: [CheckedContinuation<Int32, Never>] = []

    /// Starts `arguments[0]` (a path) with `environment`, appending its output to `logPath`.
    public static func start(_ arguments: [String], environment: [String: String], logPath: String,
                             onExit: @escaping @Sendable (Int32) -> Void = { _ in }) throws -> ChildProcess {
        let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SpawnError("cannot open the log \(logPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let pid = try Forker.shared.spawn(arguments, environment.map { "\($0.key)=\($0.value)" }.sorted(), fd)
        let child = ChildProcess(pid: pid)
        let t = Thread {
            // Wait for the exit without reaping: while the leader is a zombie its pid, and so the group's id,
            // cannot be reused, so killing the group now reaches only what the runtime left behind.
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
            kill(-pid, SIGKILL)
            var st: Int32 = 0
            while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
            let code: Int32 = (st & 0x7f) == 0 ? (st >> 8) & 0xff : -(st & 0x7f)
            child.finish(code)
            onExit(code)
        }
        t.start()
        return child
    }

    init(pid: pid_t) { self.pid = pid }

    /// The exit status (negative: killed by that signal), or nil while it runs.
    public var exitStatus: Int32? { lock.withLock { status } }

    /// Sends `signal` to the child's process group. Once the child is reaped its group has been killed already
    /// (and its id may be reused), so nothing is sent then.
    public func signal(_ sig: Int32) {
        if exitStatus == nil { kill(-pid, sig) }
    }

    /// Waits for the exit and returns its status.
    public func wait() async -> Int32 {
        await withCheckedContinuation { c in
            lock.lock()
            if let s = status { lock.unlock(); c.resume(returning: s); return }
            waiters.append(c)
            lock.unlock()
        }
    }

    /// SIGTERM, then SIGKILL after `grace` seconds.
    public func stop(grace: Double = 10) async {
        signal(SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while exitStatus == nil && Date() < deadline { try? await Task.sleep(nanoseconds: 20_000_000) }
        if exitStatus == nil { signal(SIGKILL) }
        _ = await wait()
    }

    private func finish(_ code: Int32) {
        lock.lock()
        status = code
        let w = waiters
        waiters = []
        lock.unlock()
        for c in w { c.resume(returning: code) }
    }
}

/// Why a process could not be started.
public struct SpawnError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}

/// The one thread that forks.
final class Forker: @unchecked Sendable {
    static let shared = Forker()
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []

    private init() {
        let t = Thread { [unowned self] in
            while true {
                condition.lock()
                while jobs.isEmpty { condition.wait() }
                let job = jobs.removeFirst()
                condition.unlock()
                job()
            }
        }
        t.name = "dsm-forker"
        t.start()
    }

    func spawn(_ argv: [String], _ env: [String], _ fd: Int32) throws -> pid_t {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: pid_t = -1
        nonisolated(unsafe) var err: Int32 = 0
        condition.lock()
        jobs.append {
            let cArgs = argv.map { strdup($0) } + [nil]
            let cEnv = env.map { strdup($0) } + [nil]
            defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
            cArgs.map { UnsafePointer($0) }.withUnsafeBufferPointer { a in
                cEnv.map { UnsafePointer($0) }.withUnsafeBufferPointer { e in
                    result = dsm_spawn(a.baseAddress!, e.baseAddress!, fd)
                    err = errno
                }
            }
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        guard result > 0 else { throw SpawnError("cannot start \(argv[0]): \(String(cString: strerror(err)))") }
        return result
    }
}
