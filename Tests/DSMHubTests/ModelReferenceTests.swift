import Testing
import DSMHub

@Suite struct ModelReferenceTests {
    @Test(arguments: [
        ("deepseek-r1:7b", ModelReference.catalog(family: "deepseek-r1", tag: "7b")),
        ("deepseek-r1", .catalog(family: "deepseek-r1", tag: nil)),
        ("DeepSeek-R1:7B", .catalog(family: "deepseek-r1", tag: "7b")),
        ("hf.co/deepseek-ai/DeepSeek-V2-Lite-Chat", .repository(RepoID("deepseek-ai/DeepSeek-V2-Lite-Chat")!, revision: nil, tag: nil)),
        ("hf.co/deepseek-ai/DeepSeek-V2-Lite-Chat:refs/pr/1", .repository(RepoID("deepseek-ai/DeepSeek-V2-Lite-Chat")!, revision: "refs/pr/1", tag: nil)),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", .repository(RepoID("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B")!, revision: nil, tag: nil)),
        ("https://huggingface.co/deepseek-ai/DeepSeek-R1", .repository(RepoID("deepseek-ai/DeepSeek-R1")!, revision: nil, tag: nil)),
        ("https://huggingface.co/deepseek-ai/DeepSeek-R1/tree/v1.0", .repository(RepoID("deepseek-ai/DeepSeek-R1")!, revision: "v1.0", tag: nil)),
        ("  org/name:0123456789abcdef0123456789abcdef01234567 ", .repository(RepoID("org/name")!, revision: "0123456789abcdef0123456789abcdef01234567", tag: nil)),
        ("hf.co/bartowski/DeepSeek-R1-Distill-Qwen-7B-GGUF:Q4_K_M", .repository(RepoID("bartowski/DeepSeek-R1-Distill-Qwen-7B-GGUF")!, revision: nil, tag: "Q4_K_M")),
        ("hf.co/unsloth/DeepSeek-R1-0528-GGUF@v2:UD-IQ1_S", .repository(RepoID("unsloth/DeepSeek-R1-0528-GGUF")!, revision: "v2", tag: "UD-IQ1_S")),
        ("org/name@refs/pr/3", .repository(RepoID("org/name")!, revision: "refs/pr/3", tag: nil)),
        ("org/name:v1.0", .repository(RepoID("org/name")!, revision: nil, tag: "v1.0")),
    ])
    func parses(input: String, expected: ModelReference) throws {
        #expect(try ModelReference.parse(input) == expected)
    }

    @Test(arguments: ["", "a:b:c", "org/na me", "org/-bad", "hf.co/onlyone", "org/name/extra", "org//name", "org/name:", "-x", "org/a..b", "org/name:bad..rev", "org/name@", "org/name@a:refs/pr/1"])
    func rejects(input: String) {
        #expect(throws: ModelReference.ParseError.self) { try ModelReference.parse(input) }
    }

    @Test func repoIDRules() {
        #expect(RepoID("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B") != nil)
        #expect(RepoID("a/b") != nil)
        #expect(RepoID("a--b/c") == nil)
        #expect(RepoID(".a/b") == nil)
        #expect(RepoID("a/b.") == nil)
        #expect(RepoID(String(repeating: "x", count: 97) + "/b") == nil)
        #expect(RepoID("a/b/c") == nil)
    }

    @Test func revisions() {
        #expect(Revision.isCommit("0123456789abcdef0123456789abcdef01234567"))
        #expect(!Revision.isCommit("0123456789ABCDEF0123456789abcdef01234567"))
        #expect(Revision.isValid("refs/pr/1"))
        #expect(!Revision.isValid("a b"))
        #expect(!Revision.isValid("../x"))
    }
}

@Suite struct EndpointTests {
    let ep = HubEndpoint("https://hf-mirror.com/")
    let repo = RepoID("deepseek-ai/DeepSeek-R1")!

    @Test func trailingSlashIsDropped() { #expect(ep.base == "https://hf-mirror.com") }

    @Test func environment() {
        #expect(HubEndpoint.from(environment: [:]).base == "https://huggingface.co")
        #expect(HubEndpoint.from(environment: ["HF_ENDPOINT": "http://127.0.0.1:9/"]).base == "http://127.0.0.1:9")
        #expect(HubEndpoint.from(environment: ["HUGGINGFACE_CO_STAGING": "1"]).base == "https://hub-ci.huggingface.co")
    }

    @Test func urlsQuoteRevisionsWithoutSafeCharactersAndPathsWithSlash() {
        #expect(ep.modelInfoURL(repo, revision: "refs/pr/1") == "https://hf-mirror.com/api/models/deepseek-ai/DeepSeek-R1/revision/refs%2Fpr%2F1")
        #expect(ep.resolveURL(repo, revision: "main", path: "sub dir/ü.json") == "https://hf-mirror.com/deepseek-ai/DeepSeek-R1/resolve/main/sub%20dir/%C3%BC.json")
        #expect(ep.treeURL(repo, revision: "main").hasSuffix("/api/models/deepseek-ai/DeepSeek-R1/tree/main?recursive=true&expand=false"))
    }

    @Test func redirects() {
        let from = "http://127.0.0.1:8000/org/name/resolve/main/config.json"
        #expect(HubEndpoint.resolveRedirect("/api/resolve-cache/models/org/name/abc/config.json?etag=%22x%22", from: from)
                == "http://127.0.0.1:8000/api/resolve-cache/models/org/name/abc/config.json")
        #expect(HubEndpoint.resolveRedirect("http://127.0.0.1:9000/blobs/x?sig=1", from: from) == "http://127.0.0.1:9000/blobs/x?sig=1")
        #expect(HubEndpoint.origin(of: from) == "http://127.0.0.1:8000")
        // Pagination links keep their cursor (unlike redirects, which drop the query as huggingface_hub does).
        #expect(HubEndpoint.resolveReference("/api/models/o/n/tree/abc?recursive=true&cursor=XYZ", from: from)
                == "http://127.0.0.1:8000/api/models/o/n/tree/abc?recursive=true&cursor=XYZ")
        #expect(HubEndpoint.origin(of: "http://127.0.0.1:9000/x") != HubEndpoint.origin(of: from))
    }
}
