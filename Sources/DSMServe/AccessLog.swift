import DSMServeCore
import DSMSystem
import Foundation

/// One JSON object per request, appended to a file (mode 0600): time, key label (never the key), route, model,
/// version, status, milliseconds, bytes, whether it streamed, the user's bucket; the request body only when asked
/// for. Lines are built by hand: a JSON encoder per request costs more than the proxying.
///
/// Logging never takes serving down: a failed write (a full disk, `/dev/full`, an I/O error) is counted
/// (`dsm_access_log_write_failures_total`) and reported on stderr at most once a minute, and the request is
/// answered as usual.
final class AccessLog: @unchecked Sendable {
    private let file: AppendOnlyFile
    private let lock = NSLock()
    private let report: @Sendable (String) -> Void
    private var failures = 0
    private var lastReport: Double = -.infinity
    /// Seconds between two stderr reports of failed writes.
    static let reportInterval: Double = 60

    init(path: String, report: @escaping @Sendable (String) -> Void) throws {
        do {
            file = try AppendOnlyFile(path: path, mode: 0o600)
        } catch {
            throw SpawnError("cannot open the access log \(path): \(error.message)")
        }
        self.report = report
    }

    /// Writes failed since the gateway started.
    var failedWrites: Int { lock.withLock { failures } }

    /// Appends one line; on failure counts it and reports it (rate-limited) instead of throwing or trapping.
    func write(_ line: Line) {
        let bytes = Array((line.text + "\n").utf8)
        let message: String? = lock.withLock {
            guard let error = file.append(bytes) else { return nil }
            failures += 1
            let now = Date().timeIntervalSince1970
            guard now - lastReport >= AccessLog.reportInterval else { return nil }
            lastReport = now
            return "dsm serve: cannot write the access log (\(error)); \(failures) line(s) lost so far; serving goes on"
        }
        if let message { report(message) }
    }

    /// A JSON object under construction, keys in the order added. Every string is escaped and capped at
    /// `LogText.maxFieldLength` characters, so a client cannot forge lines or grow the log without bound.
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
        mutating func add(_ key: String, _ value: String) { parts.append("\"\(key)\":" + OpenAIError.quote(LogText.capped(value))) }
        mutating func add(_ key: String, _ value: Int) { parts.append("\"\(key)\":\(value)") }
        mutating func add(_ key: String, milliseconds seconds: Double) {
            parts.append("\"\(key)\":" + String(format: "%.3f", seconds.isFinite ? seconds * 1000 : 0))
        }
        mutating func add(_ key: String, _ value: Bool) { parts.append("\"\(key)\":\(value)") }
        /// A request body: re-serialized as compact JSON when it parses, else logged as an escaped string, so the
        /// line is always one line of valid JSON.
        mutating func add(_ key: String, body: [UInt8]) { parts.append("\"\(key)\":" + LogText.jsonValue(body: body)) }
        var text: String { "{" + parts.joined(separator: ",") + "}" }
    }
}

extension AccessLog {
    /// The access log's own series for `/metrics`.
    static func metricsText(failures: Int) -> String {
        "# HELP dsm_access_log_write_failures_total Access-log lines that could not be written.\n"
            + "# TYPE dsm_access_log_write_failures_total counter\ndsm_access_log_write_failures_total \(failures)\n"
    }
}
