/// A refusal from the Hub, classified the way huggingface_hub classifies it, with a message that says
/// what to do next. Built only from the status and the `X-Error-Code` / `X-Error-Message` headers,
/// so it is a pure function of the response.
public struct HubError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case repoNotFound, gatedNeedsToken, gatedNotApproved, invalidToken, revisionNotFound
        case entryNotFound, disabled, forbidden, badRequest, rateLimited, rangeNotSatisfiable, server, unexpected
    }

    public var kind: Kind
    public var status: Int
    public var repo: String
    public var revision: String?
    public var path: String?
    /// `X-Error-Message` from the server, if any.
    public var serverMessage: String?
    /// The endpoint's base URL, used to point the user at the repo page.
    public var endpoint: String
    /// Whether a token was sent with the request.
    public var hadToken: Bool

    /// Classifies a non-success response. `status` is the HTTP status; `headers` are lower-cased names.
    public static func classify(status: Int, headers: [String: String], repo: String, revision: String?, path: String?,
                                endpoint: String, hadToken: Bool) -> HubError {
        let code = headers["x-error-code"]
        let message = headers["x-error-message"]
        let kind: Kind
        switch (status, code) {
        case (_, "RevisionNotFound"): kind = .revisionNotFound
        case (_, "EntryNotFound"): kind = .entryNotFound
        case (401, "GatedRepo"): kind = .gatedNeedsToken
        case (403, "GatedRepo"): kind = .gatedNotApproved
        case (_, "GatedRepo"): kind = hadToken ? .gatedNotApproved : .gatedNeedsToken
        case (401, _) where message == "Invalid credentials in Authorization header": kind = .invalidToken
        case (_, "RepoNotFound"), (401, _): kind = .repoNotFound
        case (403, _) where message == "Access to this resource is disabled.": kind = .disabled
        case (403, _): kind = .forbidden
        case (400, _): kind = .badRequest
        case (404, _): kind = path == nil ? .repoNotFound : .entryNotFound
        case (416, _): kind = .rangeNotSatisfiable
        case (429, _): kind = .rateLimited
        case (500...599, _): kind = .server
        default: kind = .unexpected
        }
        return HubError(kind: kind, status: status, repo: repo, revision: revision, path: path, serverMessage: message,
                        endpoint: endpoint, hadToken: hadToken)
    }

    /// True for responses that a later attempt may not get (408, 429, 5xx).
    public static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }

    public var description: String {
        let page = "\(endpoint)/\(repo)"
        let server = serverMessage.map { " The Hub said: \($0)" } ?? ""
        switch kind {
        case .repoNotFound:
            let hint = hadToken
                ? "Check the name (ORG/NAME, case matters) and that your token can read it."
                : "Check the name (ORG/NAME, case matters); if the repo is private, set HF_TOKEN or put a token in $HF_HOME/token."
            return "Repository \(repo) was not found at \(endpoint) (HTTP \(status)), or it is private. \(hint)"
        case .gatedNeedsToken:
            return "\(repo) is a gated model: request access on \(page) (accept its conditions), then authenticate: "
                + "set HF_TOKEN (or write the token to $HF_HOME/token) and run the command again."
        case .gatedNotApproved:
            return "Your token is valid but has not been granted access to the gated model \(repo) (HTTP 403). "
                + "Request access on \(page), wait for approval, then run the command again."
        case .invalidToken:
            return "The Hub rejected the token (HTTP 401 invalid credentials). Check HF_TOKEN or $HF_HOME/token; "
                + "unset it to download public models anonymously."
        case .revisionNotFound:
            return "Revision '\(revision ?? "?")' does not exist in \(repo) (HTTP \(status)). Use a branch, tag or commit id shown on \(page)."
        case .entryNotFound:
            return "File '\(path ?? "?")' is not in \(repo) at revision \(revision ?? "main") (HTTP \(status)); the repo may have changed while pulling: run the command again."
        case .disabled:
            return "Access to \(repo) has been disabled on the Hub (HTTP 403).\(server)"
        case .forbidden:
            return "The Hub refused access to \(repo) (HTTP 403).\(server) Check your token's permissions."
        case .badRequest:
            return "The Hub rejected the request for \(repo) as malformed (HTTP 400).\(server)"
        case .rateLimited:
            return "The Hub is rate-limiting requests (HTTP 429).\(server) Wait a few minutes, or set HF_TOKEN for a higher limit, then run the command again."
        case .rangeNotSatisfiable:
            return "The server could not serve the requested byte range of '\(path ?? "?")' (HTTP 416); the file may have changed upstream."
        case .server:
            return "The Hub answered HTTP \(status) for \(repo) after several retries.\(server) It may be down: try again later, or set HF_ENDPOINT to a mirror."
        case .unexpected:
            return "Unexpected HTTP \(status) from \(endpoint) for \(repo).\(server)"
        }
    }
}
