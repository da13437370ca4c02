import DSMServeCore
import Foundation

/// Reads `/proc` to see who listens on a runtime's port (see `ListenerOwnership` for why and the rules).
enum ProcScan {
    /// Every listening TCP socket of this network namespace (IPv4 and IPv6).
    static func listeners() -> [ListenerOwnership.Listener] {
        ["/proc/net/tcp", "/proc/net/tcp6"].flatMap { path in
            (try? String(contentsOfFile: path, encoding: .utf8)).map(ListenerOwnership.listeners(procNetTCP:)) ?? []
        }
    }

    /// The socket inodes held open by the processes of process group `group` (dsm's own runtimes run as the
    /// same user, so their `/proc/PID/fd` can be read).
    static func sockets(ofGroup group: pid_t) -> Set<UInt64> {
        var found = Set<UInt64>()
        guard let pids = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return found }
        for pid in pids where pid.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  ListenerOwnership.processGroup(stat: stat) == group,
                  let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { continue }
            for fd in fds {
                if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                   let inode = ListenerOwnership.socketInode(link: link) { found.insert(inode) }
            }
        }
        return found
    }

    /// Who takes loopback connections to `port`: the runtime whose process group is `group`, nobody, or others.
    static func owner(ofPort port: Int, group: pid_t) -> ListenerOwnership.Verdict {
        let all = listeners()
        if all.allSatisfy({ $0.port != port }) { return .nobody }
        return ListenerOwnership.verdict(port: port, listeners: all, runtimeSockets: sockets(ofGroup: group))
    }
}
