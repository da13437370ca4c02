import Glibc

/// Facts about this process that other modules need, so only DSMSystem calls libc for them.
public enum CurrentProcess {
    /// The process id.
    public static var id: Int32 { getpid() }

    /// Whether file descriptor `fd` (2 for stderr) is a terminal.
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// An environment variable, read at the moment of the call.
    public static func environment(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }

    /// Who runs dsm, for history entries: `$USER`, `$LOGNAME`, the password database, else `uid N`.
    public static var userName: String {
        if let u = environment("USER") ?? environment("LOGNAME") { return u }
        if let pw = getpwuid(getuid()), let n = pw.pointee.pw_name { return String(cString: n) }
        return "uid \(getuid())"
    }
}
