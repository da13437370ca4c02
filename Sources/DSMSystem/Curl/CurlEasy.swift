internal import CCurl
import Dispatch

/// Receives the parts of one HTTP exchange on the thread that runs it.
public protocol HTTPBodySink: AnyObject {
    /// Called once, before the first body byte (or at the end for an empty body), with the final
    /// status and headers. Return false to stop the transfer.
    func responseStarted(_ head: HTTPResponseHead) -> Bool
    /// Called with each chunk of the body. Return false to stop the transfer.
    func received(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Polled about once a second and on every chunk; return true to cancel.
    func shouldCancel() -> Bool
}

/// One libcurl easy handle (`curl_easy_init`), reused across requests so connections are kept alive.
/// Not thread-safe: give each worker thread its own.
public final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private static let globalInit: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()

    /// The libcurl version string, e.g. `libcurl/7.88.1 OpenSSL/3.0.19`.
    public static var version: String { String(cString: curl_version()) }

    public init() {
        _ = CurlEasy.globalInit
        guard let h = curl_easy_init() else { fatalError("curl_easy_init returned NULL (out of memory)") }
        handle = h
    }

    deinit { curl_easy_cleanup(handle) }

    /// Performs `request` (`curl_easy_perform`), streaming the body into `sink`.
    /// Throws `CurlError` when the exchange did not complete; a sink that stopped the transfer
    /// shows up as `isAbortedByCallback`.
    public func perform(_ request: HTTPRequest, sink: any HTTPBodySink) throws(CurlError) -> HTTPResponseHead {
        curl_easy_reset(handle)
        let box = CallbackBox(sink: sink, handle: handle)
        let opaque = Unmanaged.passUnretained(box).toOpaque()

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        // libcurl adds `Expect: 100-continue` and `Accept:` unless told otherwise.
        for line in request.headers + ["Expect:"] { headerList = curl_slist_append(headerList, line) }
        defer { curl_slist_free_all(headerList) }

        setLong(CURLOPT_NOSIGNAL, 1)
        setString(CURLOPT_URL, request.url)
        setLong(CURLOPT_FOLLOWLOCATION, 0)
        // Only HTTP(S), also for anything a server redirects to.
        setString(CURLOPT_PROTOCOLS_STR, "http,https")
        setString(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        setLong(CURLOPT_BUFFERSIZE, 256 << 10)
        setLong(CURLOPT_CONNECTTIMEOUT, request.connectTimeout)
        if request.totalTimeout > 0 { setLong(CURLOPT_TIMEOUT, request.totalTimeout) }
        // Stalls are detected in the progress callback from the time of the last byte: libcurl's own
        // LOW_SPEED check averages over several seconds and fires late after a burst.
        box.stallNanos = UInt64(request.stallSeconds) * 1_000_000_000
        setLong(CURLOPT_TCP_KEEPALIVE, 1)
        if request.maxReceiveSpeed > 0 { dsm_curl_setopt_off(handle, CURLOPT_MAX_RECV_SPEED_LARGE, curl_off_t(request.maxReceiveSpeed)) }
        // An explicit proxy (or the empty string for none) overrides libcurl's own environment reading,
        // so dsm applies one documented rule for HTTP(S)_PROXY and NO_PROXY.
        setString(CURLOPT_PROXY, request.proxy ?? "")
        dsm_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headerList))
        switch request.method {
        case .head: setLong(CURLOPT_NOBODY, 1)
        case .get: setLong(CURLOPT_HTTPGET, 1)
        case .post:
            setLong(CURLOPT_POST, 1)
            let body = request.body ?? []
            dsm_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            setBodyCopy(body)
        }
        dsm_curl_setopt_data_cb(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback)
        dsm_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque)
        dsm_curl_setopt_data_cb(handle, CURLOPT_WRITEFUNCTION, curlWriteCallback)
        dsm_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque)
        setLong(CURLOPT_NOPROGRESS, 0)
        dsm_curl_setopt_xferinfo_cb(handle, CURLOPT_XFERINFOFUNCTION, curlProgressCallback)
        dsm_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, opaque)

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buf in
            dsm_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buf.baseAddress)
            let rc = curl_easy_perform(handle)
            dsm_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
            return rc
        }
        withExtendedLifetime(box) {}
        if box.stalled {
            throw CurlError(code: Int32(CURLE_OPERATION_TIMEDOUT.rawValue),
                            message: "no data received for \(request.stallSeconds) s", url: request.url)
        }
        if code != CURLE_OK {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw CurlError(code: Int32(code.rawValue), message: text, url: request.url)
        }
        let head = box.currentHead()
        if !box.started { _ = sink.responseStarted(head) }
        return head
    }

    private var postBody: [UInt8] = []
    private func setBodyCopy(_ body: [UInt8]) {
        postBody = body
        postBody.withUnsafeMutableBytes { buf in
            // CURLOPT_COPYPOSTFIELDS copies the bytes, so the buffer need not outlive the call.
            _ = dsm_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, buf.baseAddress)
        }
    }

    private func setLong(_ option: CURLoption, _ value: Int) {
        dsm_curl_setopt_long(handle, option, value)
    }

    private func setString(_ option: CURLoption, _ value: String) {
        // libcurl copies string options (since 7.17), so a temporary C string is fine.
        _ = value.withCString { dsm_curl_setopt_string(handle, option, $0) }
    }
}

/// State shared with the C callbacks of one transfer.
private final class CallbackBox {
    let sink: any HTTPBodySink
    let handle: UnsafeMutableRawPointer
    var headers: [(name: String, value: String)] = []
    var started = false
    /// Monotonic time of the last byte (or of the start), for stall detection.
    var lastActivity = DispatchTime.now().uptimeNanoseconds
    var stallNanos: UInt64 = 30_000_000_000
    var stalled = false

    /// Notes activity; returns true when nothing arrived for longer than the stall window.
    func checkStall(activity: Bool) -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        if activity {
            lastActivity = now
            return false
        }
        if now > lastActivity && now - lastActivity > stallNanos {
            stalled = true
            return true
        }
        return false
    }

    init(sink: any HTTPBodySink, handle: UnsafeMutableRawPointer) {
        self.sink = sink
        self.handle = handle
    }

    func currentHead() -> HTTPResponseHead {
        var status = 0
        dsm_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var map: [String: String] = [:]
        for (name, value) in headers { map[name] = value }
        return HTTPResponseHead(status: status, headers: map, allHeaders: headers)
    }

    func headerLine(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response (after 100 Continue or a proxy CONNECT)
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingWhitespace().lowercased()
        let value = line[line.index(after: colon)...].trimmingWhitespace()
        headers.append((name, value))
    }
}

private let curlHeaderCallback: dsm_curl_data_cb = { ptr, size, count, userdata in
    let box = Unmanaged<CallbackBox>.fromOpaque(userdata!).takeUnretainedValue()
    let n = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
    _ = box.checkStall(activity: true)
    box.headerLine(line)
    return n
}

private let curlWriteCallback: dsm_curl_data_cb = { ptr, size, count, userdata in
    let box = Unmanaged<CallbackBox>.fromOpaque(userdata!).takeUnretainedValue()
    let n = size * count
    _ = box.checkStall(activity: true)
    if !box.started {
        box.started = true
        if !box.sink.responseStarted(box.currentHead()) { return 0 }
    }
    if box.sink.shouldCancel() { return 0 }
    return box.sink.received(UnsafeRawBufferPointer(start: ptr, count: n)) ? n : 0
}

private let curlProgressCallback: dsm_curl_xferinfo_cb = { userdata, _, _, _, _ in
    let box = Unmanaged<CallbackBox>.fromOpaque(userdata!).takeUnretainedValue()
    if box.checkStall(activity: false) { return 1 }
    return box.sink.shouldCancel() ? 1 : 0
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, CR and LF (scalar-wise, since "\r\n" is one Character).
    func trimmingWhitespace() -> String {
        let scalars = String(self).unicodeScalars
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(scalars[first...last])
    }
}
