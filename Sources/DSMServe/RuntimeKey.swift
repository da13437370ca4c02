import DSMServeCore
import DSMSystem
import Foundation

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
        let path = dir + "/runtime-key-\(CurrentProcess.id)"
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
        if let file { FileSystem.remove(file) }
    }
}
