#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loopback TCP ports.
public enum LoopbackPort {
    /// A port the kernel says is free on 127.0.0.1 now (a socket bound to port 0, read back, closed). It is free
    /// when chosen, not necessarily when someone binds it later: callers that hand it to another process must
    /// check who listens on it afterwards.
    public static func free() throws(SystemError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemError.errno("socket") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw SystemError(call: "bind", code: errno, message: "cannot find a free loopback port: " + String(cString: strerror(errno))) }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
