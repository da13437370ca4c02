import Testing
import DSMServeCore

/// Issue 13: what the runtimes are started with (remote code, keys).
@Suite struct RuntimeLaunchSecurityTests {
    let checkpoint = ServedModel(name: "deepseek-r1:7b", version: 1, checkpointPath: "/s/serve/snapshots/bb")

    @Test func vllmDoesNotTrustRemoteCodeByDefault() throws {
        let p = try RuntimeLaunch.plan(.vllm, executable: "vllm", model: checkpoint, port: 9, settings: RuntimeSettings(), workDirectory: "/w")
        #expect(!p.arguments.contains("--trust-remote-code"), "\(p.arguments)")
    }

    @Test func vllmTrustsRemoteCodeOnlyWhenAsked() throws {
        var s = RuntimeSettings()
        s.trustRemoteCode = true
        let p = try RuntimeLaunch.plan(.vllm, executable: "vllm", model: checkpoint, port: 9, settings: s, workDirectory: "/w")
        #expect(p.arguments.filter { $0 == "--trust-remote-code" }.count == 1)
        s.pipelineParallel = 2
        let ray = try RuntimeLaunch.plan(.vllm, executable: "vllm", model: checkpoint, port: 9, settings: s, workDirectory: "/w")
        #expect(ray.arguments.contains("--trust-remote-code") && ray.arguments.contains("--distributed-executor-backend"))
    }

    @Test func vllmTakesThePerRunKeyFromItsEnvironmentNotItsCommandLine() throws {
        var s = RuntimeSettings()
        s.runtimeKey = "0123456789abcdef0123456789abcdef"
        let p = try RuntimeLaunch.plan(.vllm, executable: "vllm", model: checkpoint, port: 9, settings: s, workDirectory: "/w")
        #expect(p.environment["VLLM_API_KEY"] == "0123456789abcdef0123456789abcdef")
        #expect(!p.arguments.joined(separator: " ").contains("0123456789abcdef") && !p.arguments.contains("--api-key"))
        #expect(p.healthPath == "/health")  // vLLM checks the key on /v1/*, not on /health
        let none = try RuntimeLaunch.plan(.vllm, executable: "vllm", model: checkpoint, port: 9, settings: RuntimeSettings(), workDirectory: "/w")
        #expect(none.environment["VLLM_API_KEY"] == nil)
    }

    @Test func llamaServerTakesTheKeyFromAFileNamedOnItsCommandLine() throws {
        var s = RuntimeSettings()
        s.runtimeKeyFile = "/h/serve/private/runtime-key-1"
        let gguf = ServedModel(name: "m:t", version: 1, ggufPath: "/b")
        let p = try RuntimeLaunch.plan(.llamaCpp, executable: "llama-server", model: gguf, port: 9, settings: s, workDirectory: "/w")
        #expect(p.arguments.joined(separator: " ").contains("--api-key-file /h/serve/private/runtime-key-1"))
        #expect(!p.arguments.contains("--api-key") && p.environment.isEmpty)
    }
}
