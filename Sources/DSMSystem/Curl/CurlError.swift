internal import CCurl

/// A libcurl transfer failure: the `CURLcode`, curl's own text for it, and the URL
/// (without query, so signed CDN parameters and tokens never reach a log).
public struct CurlError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var message: String
    public var url: String

    public init(code: Int32, message: String, url: String) {
        self.code = code
        self.message = message
        self.url = CurlError.redact(url)
    }

    /// True for failures that a later attempt may not hit: resets, timeouts, stalls,
    /// truncated bodies, DNS hiccups. False for a bad URL or option, which will never work.
    public var isTransient: Bool {
        switch code {
        case Int32(CURLE_UNSUPPORTED_PROTOCOL.rawValue), Int32(CURLE_URL_MALFORMAT.rawValue),
             Int32(CURLE_NOT_BUILT_IN.rawValue), Int32(CURLE_BAD_FUNCTION_ARGUMENT.rawValue),
             Int32(CURLE_UNKNOWN_OPTION.rawValue), Int32(CURLE_OUT_OF_MEMORY.rawValue),
             Int32(CURLE_WRITE_ERROR.rawValue), Int32(CURLE_ABORTED_BY_CALLBACK.rawValue),
             // TLS trust and login failures do not fix themselves: fail at once with curl's message.
             Int32(CURLE_PEER_FAILED_VERIFICATION.rawValue), Int32(CURLE_SSL_CACERT_BADFILE.rawValue),
             Int32(CURLE_SSL_CERTPROBLEM.rawValue), Int32(CURLE_SSL_CRL_BADFILE.rawValue),
             Int32(CURLE_SSL_ISSUER_ERROR.rawValue), Int32(CURLE_SSL_PINNEDPUBKEYNOTMATCH.rawValue),
             Int32(CURLE_LOGIN_DENIED.rawValue), Int32(CURLE_TOO_MANY_REDIRECTS.rawValue):
            return false
        default:
            return true
        }
    }

    /// True when the body callback or the progress callback stopped the transfer on purpose.
    public var isAbortedByCallback: Bool {
        code == Int32(CURLE_WRITE_ERROR.rawValue) || code == Int32(CURLE_ABORTED_BY_CALLBACK.rawValue)
    }

    /// True when no bytes arrived for the stall window (`CURLOPT_LOW_SPEED_TIME`) or a timeout hit.
    public var isTimeout: Bool { code == Int32(CURLE_OPERATION_TIMEDOUT.rawValue) }

    public var description: String { "\(message) (curl error \(code)) for \(url)" }

    /// Drops the query string and any user-info from a URL.
    public static func redact(_ url: String) -> String {
        var text = url
        if let q = text.firstIndex(of: "?") { text = String(text[..<q]) }
        let marker = Array("://")
        let chars = Array(text)
        var i = 0
        while i + 3 <= chars.count, Array(chars[i..<i + 3]) != marker { i += 1 }
        if i + 3 <= chars.count {
            let hostStart = i + 3
            let hostEnd = chars[hostStart...].firstIndex(of: "/") ?? chars.count
            if let at = chars[hostStart..<hostEnd].lastIndex(of: "@") {
                text = String(chars[..<hostStart]) + String(chars[(at + 1)...])
            }
        }
        return text
    }
}
