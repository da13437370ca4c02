import DSMServeCore
import Foundation

/// One JSON object per request, appended to a file (mode 0600): time, key label (never the key), route, model,
/// version, status, milliseconds, bytes, whether it streamed, the user's bucket; the request body only when asked
/// for. Lines are built by hand: a JSON encoder per request costs more than the proxying.
final class AccessLog: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()

    init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SpawnError("cannot open the access log \(path): \(String(cString: strerror(errno)))") }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    func write(_ line: Line) {
        let data = Data((line.text + "\n").utf8)
        lock.withLock { handle.write(data) }
    }

    /// A JSON object under construction, keys in the order added.
    struct Line {
        private var parts: [String] = []
        /// A line with the fields every request has.
        init(key: String, route: String, model: String, version: String, status: Int, seconds: Double) {
            add("time", UTCTimestamp.now())
            add("key", key)
            add("route", route)
            add("model", model)
            add("version", version)
            add("status", status)
            add("ms", milliseconds: seconds)
        }
        mutating func add(_ key: String, _ value: String) { parts.append("\"\(key)\":" + OpenAIError.quote(value)) }
        mutating func add(_ key: String, _ value: Int) { parts.append("\"\(key)\":\(value)") }
        mutating func add(_ key: String, milliseconds seconds: Double) {
            parts.append("\"\(key)\":" + String(format: "%.3f", seconds * 1000))
        }
        mutating func add(_ key: String, _ value: Bool) { parts.append("\"\(key)\":\(value)") }
        /// `json` must already be one valid JSON value.
        mutating func add(_ key: String, json: String) { parts.append("\"\(key)\":" + json) }
        var text: String { "{" + parts.joined(separator: ",") + "}" }
    }
}
