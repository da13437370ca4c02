import Foundation

/// One JSON object per request, appended to a file: time, request id, key label (never the key), route, model,
/// version, status, milliseconds, bytes, whether it streamed; the request body only when asked for.
final class AccessLog: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw SpawnError("cannot open the access log \(path)") }
        h.seekToEndOfFile()
        handle = h
    }

    func write(_ fields: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        lock.withLock { handle.write(data + Data([0x0a])) }
    }
}
