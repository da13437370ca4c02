/// The runtimes `dsm serve` can put behind its gateway.
public enum RuntimeKind: String, Sendable, CaseIterable, Codable {
    case llamaCpp = "llama.cpp"
    case vllm
    case ollama
}

/// One version of a name, as a runtime sees it.
public struct ServedModel: Sendable, Equatable {
    /// `deepseek-r1:7b-q4_K_M`
    public var name: String
    public var version: Int
    /// The version's GGUF (first shard), for llama.cpp and Ollama.
    public var ggufPath: String?
    /// A folder holding the checkpoint's files under their repo paths, for vLLM.
    public var checkpointPath: String?
    /// Layers in the model (from the GGUF's `<arch>.block_count`), when known.
    public var layers: Int?

    public init(name: String, version: Int, ggufPath: String? = nil, checkpointPath: String? = nil, layers: Int? = nil) {
        self.name = name
        self.version = version
        self.ggufPath = ggufPath
        self.checkpointPath = checkpointPath
        self.layers = layers
    }

    /// `deepseek-r1:7b-q4_K_M@v3`: the alias runtimes report, and the version header's value.
    public var label: String { "\(name)@v\(version)" }
}

/// Settings a runtime is launched with (from flags, `dsm fit`'s suggestion, or defaults).
public struct RuntimeSettings: Sendable, Equatable {
    /// Total context in tokens (llama.cpp's `-c`, vLLM's `--max-model-len`).
    public var contextSize = 4096
    /// Parallel sequences (llama.cpp slots).
    public var parallel = 2
    /// CPU threads (llama.cpp `-t`); nil = the runtime's default.
    public var threads: Int?
    /// Layers on the GPU: nil = the runtime decides (llama.cpp `--fit`), 0 = CPU only.
    public var gpuLayers: Int?
    public var tensorParallel = 1
    public var pipelineParallel = 1
    /// vLLM across machines through Ray.
    public var rayCluster = false
    public var extraArguments: [String] = []
    /// A file holding the key only the gateway knows (one line, mode 0600): llama-server then refuses requests
    /// that bypass the gateway through its loopback port.
    public var runtimeKeyFile: String?
    /// The same per-run key as a value, for vLLM: handed over in its environment (`VLLM_API_KEY`), never on the
    /// command line, where every local user could read it in `/proc/PID/cmdline`.
    public var runtimeKey: String?
    /// vLLM: run Python code shipped with the checkpoint (`--trust-remote-code`). Off unless asked for: a pulled
    /// checkpoint's code would otherwise run with the user's rights.
    public var trustRemoteCode = false

    public init() {}
}

/// A runtime process to start: its command line and environment, commands to run once before it (Ollama's
/// `create`), where it answers health checks, and the model name requests must carry.
public struct LaunchPlan: Sendable, Equatable {
    public var arguments: [String]
    public var environment: [String: String] = [:]
    /// Files to write before the start (path → contents).
    public var files: [String: String] = [:]
    /// Commands to run once the runtime is healthy, before it gets traffic.
    public var preparation: [[String]] = []
    /// GET this path until it answers 200 (503 means loading).
    public var healthPath: String
    /// The `model` value the runtime expects in request bodies; nil = leave the request's own.
    public var upstreamModel: String?
}

/// Builds each runtime's command line from the model and settings (documented in docs/serving.md).
public enum RuntimeLaunch {
    public struct Unsupported: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static func plan(_ kind: RuntimeKind, executable: String, model: ServedModel, port: Int,
                            settings: RuntimeSettings, workDirectory: String) throws(Unsupported) -> LaunchPlan {
        switch kind {
        case .llamaCpp: return try llamaServer(executable, model, port, settings)
        case .vllm: return try vllm(executable, model, port, settings)
        case .ollama: return try ollama(executable, model, port, settings, workDirectory)
        }
    }

    static func llamaServer(_ exe: String, _ m: ServedModel, _ port: Int, _ s: RuntimeSettings) throws(Unsupported) -> LaunchPlan {
        guard let gguf = m.ggufPath else {
            throw Unsupported(description: "\(m.label) is not a GGUF; llama.cpp serves GGUF files: `dsm convert \(m.name)` or `dsm quantize \(m.name) --q4` makes one, or use --runtime vllm")
        }
        var a = [exe, "--model", gguf, "--host", "127.0.0.1", "--port", String(port), "--alias", m.label,
                 "--ctx-size", String(s.contextSize), "--parallel", String(s.parallel),
                 "--jinja", "--reasoning-format", "deepseek", "--metrics", "--no-slots", "--no-ui"]
        if let t = s.threads { a += ["--threads", String(t)] }
        if let k = s.runtimeKeyFile { a += ["--api-key-file", k] }
        if let n = s.gpuLayers { a += ["--gpu-layers", String(n), "--fit", "off"] } else { a += ["--fit", "on"] }
        return LaunchPlan(arguments: a + s.extraArguments, healthPath: "/health", upstreamModel: nil)
    }

    static func vllm(_ exe: String, _ m: ServedModel, _ port: Int, _ s: RuntimeSettings) throws(Unsupported) -> LaunchPlan {
        guard let dir = m.checkpointPath else {
            throw Unsupported(description: "\(m.label) is a GGUF; vLLM serves safetensors checkpoints (its GGUF support is experimental): serve the pulled checkpoint, or use --runtime llama.cpp")
        }
        var a = [exe, "serve", dir, "--host", "127.0.0.1", "--port", String(port), "--served-model-name", m.name,
                 "--max-model-len", String(s.contextSize), "--tensor-parallel-size", String(s.tensorParallel),
                 "--pipeline-parallel-size", String(s.pipelineParallel), "--reasoning-parser", "deepseek_r1",
                 "--generation-config", "vllm"]
        if s.trustRemoteCode { a.append("--trust-remote-code") }
        if s.rayCluster || s.pipelineParallel > 1 { a += ["--distributed-executor-backend", "ray"] }
        // vLLM takes `--api-key`'s default from VLLM_API_KEY and then wants it on /v1/* (not on /health).
        let env = s.runtimeKey.map { ["VLLM_API_KEY": $0] } ?? [:]
        return LaunchPlan(arguments: a + s.extraArguments, environment: env, healthPath: "/health", upstreamModel: m.name)
    }

    static func ollama(_ exe: String, _ m: ServedModel, _ port: Int, _ s: RuntimeSettings, _ work: String) throws(Unsupported) -> LaunchPlan {
        guard let gguf = m.ggufPath else {
            throw Unsupported(description: "\(m.label) is not a GGUF; Ollama imports GGUF files: `dsm quantize \(m.name) --q4` makes one")
        }
        let tag = ollamaName(m)
        let env = ["OLLAMA_HOST": "127.0.0.1:\(port)", "OLLAMA_MODELS": work + "/ollama-models",
                   "OLLAMA_CONTEXT_LENGTH": String(s.contextSize), "OLLAMA_NUM_PARALLEL": String(s.parallel),
                   "OLLAMA_KEEP_ALIVE": "-1"]
        // `ollama create` needs the server up; the fleet runs preparation once the health check passes.
        let modelfile = work + "/\(tag.replacingColons()).Modelfile"
        return LaunchPlan(arguments: [exe, "serve"], environment: env,
                          files: [modelfile: "FROM \(gguf)\nPARAMETER num_ctx \(s.contextSize)\n"],
                          preparation: [[exe, "create", tag, "-f", modelfile]],
                          healthPath: "/", upstreamModel: tag)
    }

    /// `dsm-deepseek-r1-7b-q4_k_m:v3`: Ollama's name for a version (lower case, as Ollama folds names).
    public static func ollamaName(_ m: ServedModel) -> String {
        "dsm-" + String(m.name.lowercased().map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" ? $0 : "-" }) + ":v\(m.version)"
    }

    /// The commands to start a vLLM Ray cluster for a multi-node deployment, printed by `dsm serve --print-commands`.
    public static func rayClusterCommands(headAddress: String, nodes: Int) -> [String] {
        ["# on the head node (\(headAddress)):", "ray start --head --port 6379 --node-ip-address \(headAddress)",
         "# on each of the other \(max(0, nodes - 1)) nodes:", "ray start --address \(headAddress):6379",
         "# check that every node and GPU is there:", "ray status"]
    }
}

extension String {
    func replacingColons() -> String { String(map { $0 == ":" || $0 == "/" ? "-" : $0 }) }
}
