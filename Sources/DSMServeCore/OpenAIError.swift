/// An error answered in the shape OpenAI's API uses, which OpenAI clients turn into typed exceptions:
/// `{"error": {"message": "...", "type": "...", "param": null, "code": "..."}}`.
public struct OpenAIError: Error, Sendable, Equatable {
    public var status: Int
    public var message: String
    public var type: String
    public var code: String?
    /// Extra response headers (Retry-After, rate-limit headers).
    public var headers: [(String, String)] = []

    public init(status: Int, message: String, type: String, code: String? = nil, headers: [(String, String)] = []) {
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.headers = headers
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.status == b.status && a.message == b.message && a.type == b.type && a.code == b.code
    }

    /// The JSON body.
    public var body: String {
        "{\"error\":{\"message\":\(OpenAIError.quote(message)),\"type\":\(OpenAIError.quote(type)),\"param\":null,\"code\":"
            + (code.map(OpenAIError.quote) ?? "null") + "}}"
    }

    public static func unauthorized() -> OpenAIError {
        OpenAIError(status: 401, message: "Missing or invalid API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
                    type: "invalid_request_error", code: "invalid_api_key")
    }
    public static func notFound(_ what: String) -> OpenAIError {
        OpenAIError(status: 404, message: what, type: "invalid_request_error", code: "model_not_found")
    }
    public static func badRequest(_ what: String) -> OpenAIError {
        OpenAIError(status: 400, message: what, type: "invalid_request_error", code: nil)
    }
    public static func unavailable(_ what: String) -> OpenAIError {
        OpenAIError(status: 503, message: what, type: "server_error", code: "runtime_unavailable")
    }

    /// A JSON string literal.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16) }
                else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
