import Testing
import DSMHub

@Suite struct ProtocolTests {
    func classify(_ status: Int, _ headers: [String: String], token: Bool = false, path: String? = nil) -> HubError.Kind {
        HubError.classify(status: status, headers: headers, repo: "o/n", revision: "main", path: path, endpoint: "https://hf", hadToken: token).kind
    }

    @Test func errorCodesMapLikeHuggingfaceHub() {
        #expect(classify(401, ["x-error-code": "RepoNotFound"]) == .repoNotFound)
        #expect(classify(401, [:]) == .repoNotFound)
        #expect(classify(401, ["x-error-code": "GatedRepo"]) == .gatedNeedsToken)
        #expect(classify(403, ["x-error-code": "GatedRepo"], token: true) == .gatedNotApproved)
        #expect(classify(404, ["x-error-code": "RevisionNotFound"]) == .revisionNotFound)
        #expect(classify(404, ["x-error-code": "EntryNotFound"], path: "a") == .entryNotFound)
        #expect(classify(401, ["x-error-message": "Invalid credentials in Authorization header"], token: true) == .invalidToken)
        #expect(classify(403, ["x-error-message": "Access to this resource is disabled."]) == .disabled)
        #expect(classify(429, [:]) == .rateLimited)
        #expect(classify(503, [:]) == .server)
    }

    @Test func messagesSayWhatToDo() {
        let gated = HubError.classify(status: 401, headers: ["x-error-code": "GatedRepo"], repo: "o/n", revision: nil, path: nil,
                                      endpoint: "https://huggingface.co", hadToken: false)
        #expect(gated.description.contains("HF_TOKEN"))
        #expect(gated.description.contains("https://huggingface.co/o/n"))
    }

    @Test func retryableStatuses() {
        #expect([408, 429, 500, 502, 503, 504].allSatisfy(HubError.isRetryable))
        #expect(![200, 206, 400, 401, 403, 404, 416].contains(where: HubError.isRetryable))
    }

    @Test func retryHints() {
        #expect(RetryHints.retryAfter("7") == 7)
        #expect(RetryHints.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
        #expect(RetryHints.rateLimit("\"resolvers\";r=2998;t=172") == .init(policy: "resolvers", remaining: 2998, resetSeconds: 172))
        #expect(RetryHints.serverDelay(headers: ["ratelimit": "\"resolvers\";r=0;t=4", "retry-after": "60"]) == 5)
        #expect(RetryHints.serverDelay(headers: ["ratelimit": "\"resolvers\";r=5;t=4", "retry-after": "2"]) == 2)
        #expect(RetryHints.serverDelay(headers: [:]) == nil)
    }

    @Test func linkHeader() {
        let v = "<https://hf.co/api/models/o/n/tree/main?recursive=true&cursor=abc,def>; rel=\"next\", <https://x/prev>; rel=\"prev\""
        #expect(LinkHeader.url(rel: "next", in: v) == "https://hf.co/api/models/o/n/tree/main?recursive=true&cursor=abc,def")
        #expect(LinkHeader.url(rel: "prev", in: v) == "https://x/prev")
        #expect(LinkHeader.url(rel: "next", in: "<https://x>; rel=\"xet-auth\"") == nil)
    }

    @Test func metadataFromAnLFSRedirect() {
        let m = FileMetadata(status: 302, headers: [
            "x-repo-commit": "45ce642d3fab2033d167ec09641a159010f7d9d9", "x-linked-etag": "\"355f1f30ac3bdad09de420c5d78dd369e2a47d6f4ee3b5da342483f857965daf\"",
            "x-linked-size": "105467232", "content-length": "1098", "etag": "W/\"other\"", "location": "https://cdn/x",
        ])
        #expect(m.isLinked)
        #expect(m.etag == "355f1f30ac3bdad09de420c5d78dd369e2a47d6f4ee3b5da342483f857965daf")
        #expect(m.size == 105467232)
        #expect(m.commit == "45ce642d3fab2033d167ec09641a159010f7d9d9")
    }

    @Test func redirectBodyLengthIsNotTheFileSize() {
        let m = FileMetadata(status: 307, headers: ["content-length": "262", "location": "/api/x"])
        #expect(m.size == nil)
        #expect(FileMetadata(status: 200, headers: ["content-length": "262", "etag": "\"abc\""]).size == 262)
    }

    @Test func contentRange() {
        #expect(ContentRange("bytes 0-99/1000") == ContentRange("bytes 0-99/1000"))
        #expect(ContentRange("bytes 10-19/1000")?.start == 10)
        #expect(ContentRange("bytes */1000")?.total == 1000)
        #expect(ContentRange("bytes */1000")?.start == nil)
        #expect(ContentRange("bytes 5-1/10") == nil)
        #expect(ContentRange("items 0-1/2") == nil)
    }
}

@Suite struct TokenAndProxyTests {
    @Test func tokenPrecedence() {
        let files = ["/h/token": "hf_file\n", "/custom": "hf_custom"]
        let read: (String) -> String? = { files[$0] }
        #expect(HubToken.resolve(environment: ["HF_TOKEN": "hf_env", "HF_HOME": "/h"], readFile: read)?.value == "hf_env")
        #expect(HubToken.resolve(environment: ["HUGGING_FACE_HUB_TOKEN": "hf_old"], readFile: read)?.value == "hf_old")
        #expect(HubToken.resolve(environment: ["HF_HOME": "/h"], readFile: read)?.value == "hf_file")
        #expect(HubToken.resolve(environment: ["HF_HOME": "/h", "HF_TOKEN_PATH": "/custom"], readFile: read)?.value == "hf_custom")
        #expect(HubToken.resolve(environment: ["HF_HOME": "/h", "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1"], readFile: read) == nil)
        #expect(HubToken.hfHome(environment: ["HOME": "/root"]) == "/root/.cache/huggingface")
        #expect(HubToken.hfHome(environment: ["XDG_CACHE_HOME": "/c"]) == "/c/huggingface")
    }

    @Test func tokenRedaction() {
        let t = HubToken(value: "hf_secret", source: "HF_TOKEN")
        #expect(t.redact("a hf_secret b hf_secret") == "a *** b ***")
    }

    @Test func proxySelection() {
        let p = ProxySettings(environment: ["HTTPS_PROXY": "http://proxy:3128", "http_proxy": "http://p2:80", "NO_PROXY": "localhost,.internal,10.0.0.1:8080"])
        #expect(p.proxy(for: "https://huggingface.co/x") == "http://proxy:3128")
        #expect(p.proxy(for: "http://huggingface.co/x") == "http://p2:80")
        #expect(p.proxy(for: "http://localhost:8000/x") == nil)
        #expect(p.proxy(for: "https://hub.internal/x") == nil)
        #expect(p.proxy(for: "http://10.0.0.1:8080/x") == nil)
        #expect(p.proxy(for: "http://10.0.0.1:9090/x") == "http://p2:80")
        #expect(ProxySettings(environment: ["ALL_PROXY": "socks5h://s:1"]).proxy(for: "https://a/b") == "socks5h://s:1")
        #expect(ProxySettings(environment: ["https_proxy": "http://x:1", "NO_PROXY": "*"]).proxy(for: "https://a/b") == nil)
        #expect(ProxySettings(environment: [:]).proxy(for: "https://a/b") == nil)
    }

    @Test func quoting() {
        #expect(URLEncoding.quote("a b/c", safe: "/") == "a%20b/c")
        #expect(URLEncoding.quote("refs/pr/1", safe: "") == "refs%2Fpr%2F1")
        #expect(URLEncoding.quote("~-._") == "~-._")
    }
}
