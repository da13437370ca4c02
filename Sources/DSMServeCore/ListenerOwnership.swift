/// Who listens on a runtime's port, from `/proc/net/tcp` and `/proc/net/tcp6` and the socket links in
/// `/proc/PID/fd`. dsm picks a free port and then starts the runtime, so another local process can bind the port
/// in between; its listener would then get the gateway's requests, prompts and the per-run key included. Before a
/// runtime gets traffic, dsm checks that every socket listening on the port where loopback connections land
/// belongs to the runtime's process group (pure parsing here; the reading is in DSMServe's `ProcScan`).
public enum ListenerOwnership {
    /// One listening TCP socket.
    public struct Listener: Sendable, Equatable {
        /// The local address as the kernel prints it (hex: `0100007F` is 127.0.0.1).
        public var address: String
        public var port: Int
        public var inode: UInt64

        public init(address: String, port: Int, inode: UInt64) {
            self.address = address
            self.port = port
            self.inode = inode
        }
    }

    /// The listening sockets (state `0A`) in the text of `/proc/net/tcp` or `/proc/net/tcp6`.
    public static func listeners(procNetTCP text: String) -> [Listener] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            guard f.count >= 10, f[3] == "0A" else { return nil }
            let local = f[1].split(separator: ":")
            guard local.count == 2, let port = Int(local[1], radix: 16), let inode = UInt64(f[9]) else { return nil }
            return Listener(address: String(local[0]), port: port, inode: inode)
        }
    }

    /// Whether connections to 127.0.0.1 can land on a socket bound to `hexAddress`: 127.0.0.1, any IPv4 address,
    /// the IPv6 wildcard (dual stack), or 127.0.0.1 mapped into IPv6.
    public static func catchesLoopback(_ hexAddress: String) -> Bool {
        ["0100007F", "00000000", "00000000000000000000000000000000",
         "0000000000000000FFFF00000100007F", "0000000000000000FFFF000000000000"].contains(hexAddress.uppercased())
    }

    /// The verdict on `port`.
    public enum Verdict: Sendable, Equatable {
        /// Every listener where loopback connections land is the runtime's.
        case runtime
        /// Nothing listens there (yet, or any more).
        case nobody
        /// Sockets that are not the runtime's (their inodes) take connections to the port.
        case foreign([UInt64])
    }

    /// Judges `port` from all listeners and the socket inodes the runtime's processes hold.
    public static func verdict(port: Int, listeners: [Listener], runtimeSockets: Set<UInt64>) -> Verdict {
        let there = listeners.filter { $0.port == port && catchesLoopback($0.address) }
        if there.isEmpty { return .nobody }
        let foreign = there.map(\.inode).filter { !runtimeSockets.contains($0) }
        return foreign.isEmpty ? .runtime : .foreign(foreign.sorted())
    }

    /// The inode of a `/proc/PID/fd/N` link that names a socket (`socket:[12345]`), else nil.
    public static func socketInode(link: String) -> UInt64? {
        guard link.hasPrefix("socket:["), link.hasSuffix("]") else { return nil }
        return UInt64(link.dropFirst(8).dropLast())
    }

    /// The process group in the text of `/proc/PID/stat` (the 5th field; the 2nd, the command, may hold spaces
    /// and parentheses, so fields are counted after its last `)`).
    public static func processGroup(stat: String) -> Int32? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let rest = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // rest: state ppid pgrp ...
        return rest.count >= 3 ? Int32(rest[2]) : nil
    }
}
