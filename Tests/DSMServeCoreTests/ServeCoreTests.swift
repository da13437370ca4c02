import Testing
import DSMRegistry
import DSMServeCore

/// A stand-in hash for key tests only (the gateway passes SHA-256): distinct inputs give distinct 32-byte outputs.
let testHash: @Sendable ([UInt8]) -> [UInt8] = { bytes in
    var out = [UInt8](repeating: 0, count: 32)
    for (i, b) in bytes.enumerated() { out[i % 32] = out[i % 32] &+ b &* UInt8(truncatingIfNeeded: i + 1) }
    out[31] = UInt8(truncatingIfNeeded: bytes.count)
    return out
}

@Suite struct RoutingSplitTests {
    @Test func canaryShareIsCloseToTheWeightOverManyUsers() {
        for weight in [1, 10, 20, 50, 90] {
            let split = Routing(stable: 1, canary: 2, weight: weight)
            let canary = (0..<20_000).filter { split.version(name: "m:t", userKey: "user-\($0)") == 2 }.count
            #expect(abs(Double(canary) / 20_000 - Double(weight) / 100) < 0.015, "weight \(weight): \(canary)")
        }
    }

    @Test func oneUserStaysAndRaisingTheWeightOnlyMovesUsersToTheCanary() {
        var onCanary = Set<Int>()
        for weight in stride(from: 0, through: 100, by: 5) {
            let split = Routing(stable: 1, canary: 2, weight: weight)
            let now = Set((0..<2_000).filter { split.version(name: "m:t", userKey: "u\($0)") == 2 })
            #expect(onCanary.isSubset(of: now), "raising to \(weight)% moved users back to stable")
            onCanary = now
            for u in 0..<50 { #expect(split.version(name: "m:t", userKey: "u\(u)") == split.version(name: "m:t", userKey: "u\(u)")) }
        }
        #expect(onCanary.count == 2_000)
    }

    @Test func edgeCases() {
        #expect(Routing(stable: 1, canary: nil, weight: 50).version(name: "a", userKey: "x") == 1)
        #expect(Routing(stable: 1, canary: 2, weight: 0).version(name: "a", userKey: "x") == 1)
        #expect(Routing(stable: nil, canary: 2, weight: 10).version(name: "a", userKey: "x") == 2)
        #expect(Routing(stable: nil, canary: nil, weight: 0).version(name: "a", userKey: "x") == nil)
        #expect(Routing(stable: 1, canary: 2, weight: 500).weight == 100)
        // Different names put the same user in independent buckets.
        let same = (0..<1000).filter { Routing.bucket(name: "a", userKey: "u\($0)") == Routing.bucket(name: "b", userKey: "u\($0)") }
        #expect(same.count < 5)
    }
}

@Suite struct APIKeyRingTests {
    @Test func parsesMatchesAndLabels() throws {
        let ring = try APIKeyRing(fileText: "# team keys\n\nsk-alpha-0001\n  sk-beta-0002  \n", hash: testHash)
        #expect(ring.count == 2)
        #expect(ring.match("sk-alpha-0001") != nil)
        #expect(ring.match("sk-beta-0002") != nil)
        #expect(ring.match("sk-alpha-0001") != ring.match("sk-beta-0002"))
        #expect(ring.match("sk-alpha-000") == nil)
        #expect(ring.match("") == nil)
        #expect(ring.match("sk-alpha-0001")!.hasPrefix("key-"))
        #expect(!ring.match("sk-alpha-0001")!.contains("alpha"))
    }

    @Test func acceptsDigestsAndRejectsBadFiles() throws {
        let digest = testHash(Array("sk-secret-9".utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let ring = try APIKeyRing(fileText: "sha256:\(digest)\n", hash: testHash)
        #expect(ring.match("sk-secret-9") != nil)
        #expect(throws: APIKeyRing.Invalid.self) { try APIKeyRing(fileText: "# nothing\n", hash: testHash) }
        #expect(throws: APIKeyRing.Invalid.self) { try APIKeyRing(fileText: "short\n", hash: testHash) }
        #expect(throws: APIKeyRing.Invalid.self) { try APIKeyRing(fileText: "sha256:abc\n", hash: testHash) }
        #expect(throws: APIKeyRing.Invalid.self) { try APIKeyRing(fileText: "two words here\n", hash: testHash) }
    }

    @Test func presentedKeyFromHeaders() {
        #expect(APIKeyRing.presentedKey(authorization: "Bearer abc", xAPIKey: nil) == "abc")
        #expect(APIKeyRing.presentedKey(authorization: "bearer  abc ", xAPIKey: nil) == "abc")
        #expect(APIKeyRing.presentedKey(authorization: nil, xAPIKey: "k") == "k")
        #expect(APIKeyRing.presentedKey(authorization: "Basic xyz", xAPIKey: nil) == nil)
        #expect(APIKeyRing.presentedKey(authorization: nil, xAPIKey: nil) == nil)
    }
}

@Suite struct RateLimiterTests {
    @Test func burstThenRefillPerKey() {
        var r = RateLimiter(perMinute: 60, burst: 3)
        let first = (0..<3).map { _ in r.take("a", now: 100).allowed }
        #expect(first == [true, true, true])
        let denied = r.take("a", now: 100)
        #expect(!denied.allowed && denied.retryAfter == 1 && denied.remaining == 0 && denied.limit == 60)
        #expect(r.take("b", now: 100).allowed, "keys have their own buckets")
        #expect(r.take("a", now: 101).allowed, "one token per second at 60/min")
        #expect(!r.take("a", now: 101.5).allowed)
        #expect(r.take("a", now: 1000).remaining == 2, "refills up to the burst, no further")
    }

    @Test func retryAfterScalesWithTheRate() {
        var r = RateLimiter(perMinute: 6)
        for _ in 0..<6 { _ = r.take("k", now: 0) }
        let d = r.take("k", now: 0)
        #expect(!d.allowed && d.retryAfter == 10)
        #expect(d.resetSeconds == 60)
    }
}

@Suite struct RestartBackoffTests {
    @Test func doublesCapsAndResetsAfterAStableRun() {
        var b = RestartBackoff(base: 0.5, cap: 4, stableAfter: 60)
        #expect([1, 1, 1, 1, 1].map { b.delay(afterRunOf: $0) } == [0.5, 1, 2, 4, 4])
        #expect(b.delay(afterRunOf: 120) == 0.5)
    }
}

@Suite struct RuntimeLaunchTests {
    let gguf = ServedModel(name: "deepseek-r1:7b-q4_K_M", version: 3, ggufPath: "/s/blobs/sha256-aa")
    let checkpoint = ServedModel(name: "deepseek-r1:7b", version: 1, checkpointPath: "/s/serve/snapshots/bb")

    @Test func llamaServer() throws {
        var s = RuntimeSettings()
        s.contextSize = 8192
        s.threads = 2
        let p = try RuntimeLaunch.plan(.llamaCpp, executable: "/bin/llama-server", model: gguf, port: 4242, settings: s, workDirectory: "/w")
        let a = p.arguments
        #expect(a.first == "/bin/llama-server" && p.healthPath == "/health" && p.upstreamModel == nil)
        for pair in [["--model", "/s/blobs/sha256-aa"], ["--host", "127.0.0.1"], ["--port", "4242"], ["--alias", "deepseek-r1:7b-q4_K_M@v3"],
                     ["--ctx-size", "8192"], ["--threads", "2"], ["--reasoning-format", "deepseek"], ["--fit", "on"]] {
            #expect(a.joined(separator: " ").contains(pair.joined(separator: " ")), "\(pair)")
        }
        #expect(a.contains("--no-slots") && a.contains("--metrics") && a.contains("--jinja"))
        s.gpuLayers = 20
        let g = try RuntimeLaunch.plan(.llamaCpp, executable: "x", model: gguf, port: 1, settings: s, workDirectory: "/w").arguments.joined(separator: " ")
        #expect(g.contains("--gpu-layers 20 --fit off"))
        #expect(throws: RuntimeLaunch.Unsupported.self) {
            try RuntimeLaunch.plan(.llamaCpp, executable: "x", model: checkpoint, port: 1, settings: s, workDirectory: "/w")
        }
    }

    @Test func vllmSingleAndMultiNode() throws {
        var s = RuntimeSettings()
        s.tensorParallel = 8
        let p = try RuntimeLaunch.plan(.vllm, executable: "vllm", model: checkpoint, port: 9, settings: s, workDirectory: "/w")
        let a = p.arguments.joined(separator: " ")
        #expect(a.hasPrefix("vllm serve /s/serve/snapshots/bb --host 127.0.0.1 --port 9 --served-model-name deepseek-r1:7b"))
        #expect(a.contains("--tensor-parallel-size 8") && a.contains("--reasoning-parser deepseek_r1") && !a.contains("ray"))
        #expect(p.upstreamModel == "deepseek-r1:7b")
        s.pipelineParallel = 2
        #expect(try RuntimeLaunch.plan(.vllm, executable: "vllm", model: checkpoint, port: 9, settings: s, workDirectory: "/w")
            .arguments.joined(separator: " ").contains("--pipeline-parallel-size 2 ") )
        #expect(try RuntimeLaunch.plan(.vllm, executable: "vllm", model: checkpoint, port: 9, settings: s, workDirectory: "/w")
            .arguments.joined(separator: " ").hasSuffix("--distributed-executor-backend ray"))
        #expect(throws: RuntimeLaunch.Unsupported.self) {
            try RuntimeLaunch.plan(.vllm, executable: "vllm", model: gguf, port: 1, settings: s, workDirectory: "/w")
        }
        #expect(RuntimeLaunch.rayClusterCommands(headAddress: "10.0.0.1", nodes: 2).contains("ray start --address 10.0.0.1:6379"))
    }

    @Test func ollamaImportsTheGGUF() throws {
        let p = try RuntimeLaunch.plan(.ollama, executable: "/usr/bin/ollama", model: gguf, port: 5000, settings: RuntimeSettings(), workDirectory: "/w")
        #expect(p.arguments == ["/usr/bin/ollama", "serve"] && p.healthPath == "/")
        #expect(p.environment["OLLAMA_HOST"] == "127.0.0.1:5000" && p.environment["OLLAMA_MODELS"] == "/w/ollama-models")
        #expect(p.upstreamModel == "dsm-deepseek-r1-7b-q4_k_m:v3")
        #expect(p.preparation == [["/usr/bin/ollama", "create", "dsm-deepseek-r1-7b-q4_k_m:v3", "-f", "/w/dsm-deepseek-r1-7b-q4_k_m-v3.Modelfile"]])
        #expect(p.files["/w/dsm-deepseek-r1-7b-q4_k_m-v3.Modelfile"]?.hasPrefix("FROM /s/blobs/sha256-aa\n") == true)
    }
}

@Suite struct GatewayMetricsTests {
    @Test func rendersPrometheusText() {
        var m = GatewayMetrics()
        m.record(model: "m:t", version: "v1", route: "/v1/chat/completions", status: 200, seconds: 0.003)
        m.record(model: "m:t", version: "v1", route: "/v1/chat/completions", status: 200, seconds: 0.2)
        m.record(model: "m:t", version: "v2", route: "/v1/chat/completions", status: 502, seconds: 1)
        m.addTokens(model: "m:t", version: "v1", kind: "completion", count: 7)
        m.recordRestart(model: "m:t", version: "v2")
        let t = m.render()
        #expect(t.contains("dsm_requests_total{model=\"m:t\",version=\"v1\",route=\"/v1/chat/completions\",status=\"200\"} 2\n"))
        #expect(t.contains("dsm_request_errors_total{model=\"m:t\",version=\"v2\",route=\"/v1/chat/completions\"} 1\n"))
        #expect(t.contains("dsm_request_duration_seconds_bucket{model=\"m:t\",version=\"v1\",route=\"/v1/chat/completions\",le=\"0.005\"} 1\n"))
        #expect(t.contains("dsm_request_duration_seconds_bucket{model=\"m:t\",version=\"v1\",route=\"/v1/chat/completions\",le=\"+Inf\"} 2\n"))
        #expect(t.contains("dsm_tokens_total{model=\"m:t\",version=\"v1\",kind=\"completion\"} 7\n"))
        #expect(t.contains("dsm_runtime_restarts_total{model=\"m:t\",version=\"v2\"} 1\n"))
    }
}

@Suite struct OpenAIErrorTests {
    @Test func bodyIsOpenAIShapedAndEscaped() {
        let e = OpenAIError(status: 400, message: "bad \"x\"\n", type: "invalid_request_error", code: "c")
        #expect(e.body == #"{"error":{"message":"bad \"x\"\n","type":"invalid_request_error","param":null,"code":"c"}}"#)
        #expect(OpenAIError.unauthorized().status == 401 && OpenAIError.quote("\u{1}") == "\"\\u0001\"")
    }
}

@Suite struct RequestFieldsTests {
    func scan(_ text: String) -> RequestFields? { Array(text.utf8).withUnsafeBytes { RequestFields.scan($0) } }

    @Test func readsTheRoutingFieldsAndSkipsTheRest() {
        let body = #"{"messages":[{"role":"user","content":"a \"model\": \"fake\" {[}"}],"max_tokens":8,"temperature":0.5e1,"#
            + #""tools":null,"stream":true,"model":"deepseek-r1:7b-q4_K_M","user":"al\u00efce\ud83d\ude00","extra":{"model":"no"}}"#
        #expect(scan(body) == RequestFields(model: "deepseek-r1:7b-q4_K_M", user: "alïce😀", stream: true))
        #expect(scan(#" { "model" : "m" } "#) == RequestFields(model: "m"))
        #expect(scan("{}") == RequestFields())
        #expect(scan(#"{"stream":false,"model":"m"}"#) == RequestFields(model: "m", stream: false))
        #expect(scan(#"{"model":7}"#) == RequestFields(), "a non-string model is no model")
    }

    @Test func refusesWhatIsNotAJSONObject() {
        for bad in ["", "[]", "{not json", #"{"model":"m""#, #"{"model":"m",}"#, #"{"a":tru}"#, #"{"a":1} x"#, #""model""#, "{\"a\":\"\u{1}\"}"] {
            #expect(scan(bad) == nil, "\(bad)")
        }
    }

    @Test func timestampShape() {
        let t = UTCTimestamp.now()
        #expect(t.count == 24 && t.hasSuffix("Z") && t.dropFirst(10).first == "T" && t.hasPrefix("20"), "\(t)")
    }
}
