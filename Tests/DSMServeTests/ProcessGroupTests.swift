import Foundation
import Testing
@testable import DSMServe

/// Issue 13, finding 15: what a runtime started must not outlive it.
@Suite struct ProcessGroupTests {
    /// Whether `pid` still runs (a zombie waiting for its new parent to reap it does not).
    func running(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    func waitGone(_ pid: Int32, seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while running(pid) && Date() < deadline { try? await Task.sleep(nanoseconds: 20_000_000) }
        return !running(pid)
    }

    func script(_ body: String) throws -> (args: [String], pidFile: String, log: String) {
        let d = NSTemporaryDirectory() + "dsm-pg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return (["/bin/sh", "-c", body.replacingOccurrences(of: "PIDFILE", with: d + "/pid")], d + "/pid", d + "/log")
    }

    func readPid(_ file: String) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let t = try? String(contentsOfFile: file, encoding: .utf8), let p = Int32(t.trimmingCharacters(in: .whitespacesAndNewlines)) { return p }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        throw SpawnError("the script never wrote \(file)")
    }

    @Test func aChildLeftBehindByAnExitedLeaderIsKilled() async throws {
        let s = try script("sleep 1000 & echo $! > PIDFILE.tmp && mv PIDFILE.tmp PIDFILE; exit 3")
        let c = try ChildProcess.start(s.args, environment: ["PATH": "/usr/bin:/bin"], logPath: s.log)
        #expect(await c.wait() == 3)
        let orphan = try await readPid(s.pidFile)
        defer { kill(orphan, SIGKILL) }
        #expect(await waitGone(orphan, seconds: 5), "pid \(orphan) (the leader's child) outlived the leader")
    }

    @Test func aCrashedLeadersChildIsKilledToo() async throws {
        let s = try script("sleep 1000 & echo $! > PIDFILE.tmp && mv PIDFILE.tmp PIDFILE; exec sleep 1000")
        let c = try ChildProcess.start(s.args, environment: ["PATH": "/usr/bin:/bin"], logPath: s.log)
        let orphan = try await readPid(s.pidFile)
        defer { kill(orphan, SIGKILL) }
        kill(c.pid, SIGKILL)  // only the leader, as a crash would
        #expect(await c.wait() == -9)
        #expect(await waitGone(orphan, seconds: 5), "pid \(orphan) outlived its crashed leader")
    }

    @Test func stopEndsTheWholeGroup() async throws {
        let s = try script("sleep 1000 & echo $! > PIDFILE.tmp && mv PIDFILE.tmp PIDFILE; exec sleep 1000")
        let c = try ChildProcess.start(s.args, environment: ["PATH": "/usr/bin:/bin"], logPath: s.log)
        let member = try await readPid(s.pidFile)
        defer { kill(member, SIGKILL) }
        await c.stop(grace: 5)
        #expect(await waitGone(member, seconds: 5))
    }
}
