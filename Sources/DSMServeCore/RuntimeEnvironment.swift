/// The environment a runtime process gets: an allow-list of what runtimes need from dsm's own environment, plus
/// the plan's variables. Everything else, tokens such as `HF_TOKEN` and `DEEPSEEK_API_KEY` included, stays with
/// dsm (a runtime's `/proc/PID/environ` is readable by everything that runs as the same user, and runtimes log
/// and load plugins). Documented in docs/serving.md ("What a runtime inherits").
public enum RuntimeEnvironment {
    /// Passed to every runtime by exact name.
    public static let names: Set<String> = [
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM", "LD_LIBRARY_PATH",
        "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "ONEAPI_DEVICE_SELECTOR", "GPU_DEVICE_ORDINAL",
    ]

    /// Passed to every runtime by prefix: locale, and the GPU/CPU stacks runtimes are built on.
    public static let prefixes = [
        "LC_", "CUDA_", "NVIDIA_", "HIP_", "ROCR_", "ROCM_", "HSA_", "GGML_", "LLAMA_", "VK_", "SYCL_", "ZES_",
        "OMP_", "KMP_", "MKL_", "OPENBLAS_",
    ]

    /// Passed only to one kind of runtime, by prefix or exact name.
    public static func extraPrefixes(_ kind: RuntimeKind) -> [String] {
        switch kind {
        case .llamaCpp: return []
        case .vllm: return ["VLLM_", "NCCL_", "TORCH_", "PYTORCH_", "TRITON_", "RAY_", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX"]
        case .ollama: return ["OLLAMA_"]
        }
    }

    /// Words that mark a secret: a variable whose name holds one is never passed, even under an allowed prefix
    /// (`LLAMA_ARG_API_KEY`, `VLLM_API_KEY` from dsm's own environment, `OLLAMA_..._TOKEN`).
    public static let secretWords = ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH"]

    /// Whether dsm passes its variable `name` on to a runtime of `kind`.
    public static func passes(_ name: String, to kind: RuntimeKind) -> Bool {
        let upper = name.uppercased()
        if secretWords.contains(where: { upper.contains($0) }) { return false }
        if names.contains(name) { return true }
        return (prefixes + extraPrefixes(kind)).contains { p in p.hasSuffix("_") ? name.hasPrefix(p) : name == p }
    }

    /// The runtime's whole environment: the allowed part of `inherited`, then the plan's own variables (which win,
    /// and may hold the per-run key: they are set by dsm, not inherited).
    public static func forRuntime(_ kind: RuntimeKind, inherited: [String: String], plan: [String: String]) -> [String: String] {
        inherited.filter { passes($0.key, to: kind) }.merging(plan) { $1 }
    }
}
