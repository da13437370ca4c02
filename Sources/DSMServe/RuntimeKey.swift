import DSMServeCore
import Foundation
import CDispatch
import Glibc

/// The per-run key the gateway shares with its runtimes, so local users cannot bypass the gateway's keys and
/// limits through a runtime's loopback port: llama-server reads it from a 0600 file (`--api-key-file`), vLLM from
/// its environment (`VLLM_API_KEY`); never from the command line, which every local user can read. Ollama has no
/// key option (docs/serving.md says what that means).
public struct RuntimeKey: Sendable {
    /// 64 hex digits from the system's random generator.
    public let value: String
    /// The file llama-server reads it from, or nil.
    public let file: String?

    /// A fresh key for runtimes of `kind` (a file under `serveDirectory/private` for llama.cpp); nil for Ollama.
    public static func make(for kind: RuntimeKind, serveDirectory: String) throws -> RuntimeKey? {
        if kind == .ollama { return nil }
        var g = SystemRandomNumberGenerator()
        let value = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
        guard kind == .llamaCpp else { return RuntimeKey(value: value, file: nil) }
        let dir = serveDirectory + "/private"
        try PrivateFile.directory(dir)
        let path = dir + "/runtime-key-\(getpid())"
        try PrivateFile.create(path, contents: value + "\n")
        return RuntimeKey(value: value, file: path)
    }

    /// Hands the key to the runtimes' settings and to the gateway, which sends it upstream.
    public func apply(to settings: inout RuntimeSettings, _ gateway: inout GatewayOptions) {
        settings.runtimeKeyFile = file
        settings.runtimeKey = file == nil ? value : nil
        gateway.runtimeKey = value
    }

    /// Removes the key file (at exit).
    public func remove() {
        if let file { unlink(file) }
    }
}

/// Files only their owner can read, created that way (no moment in which they are readable by others).
public enum PrivateFile {
    /// Makes `path` a directory only its owner can enter (0700), creating it (and its parents) if needed; an
    /// existing one that is looser is tightened; one that is a link or someone else's is refused.
    public static func directory(_ path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw SpawnError("cannot create the private folder \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard lstat(path, &st) == 0 else { throw SpawnError("cannot read \(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw SpawnError("\(path) should be a private folder but is a link or a file: remove it and start again")
        }
        guard st.st_uid == geteuid() else {
            throw SpawnError("\(path) belongs to user \(st.st_uid), not to you: remove it (it may hold another user's keys) and start again")
        }
        if st.st_mode & 0o077 != 0 && chmod(path, 0o700) != 0 {
            throw SpawnError("cannot make \(path) private (chmod 0700): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates `path` with mode 0600 from the start (O_CREAT|O_EXCL, links not followed) and writes `contents`.
    /// A stale file of that name (a dsm that was killed, whose pid came round again) is replaced.
    /// `onCreated` runs right after the file exists, before anything is written (tests look at it there).
    public static func create(_ path: String, contents: String, onCreated: (String) -> Void = { _ in }) throws {
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        var fd = open(path, flags, 0o600)
        if fd < 0 && errno == EEXIST {
            unlink(path)
            fd = open(path, flags, 0o600)
        }
        guard fd >= 0 else { throw SpawnError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        onCreated(path)
        let bytes = Array(contents.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SpawnError("cannot write \(path): \(String(cString: strerror(errno)))") }
            done += n
        }
    }
}
