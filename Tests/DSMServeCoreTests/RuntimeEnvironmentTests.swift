import Testing
import DSMServeCore

/// Issue 13, finding 14: runtimes get an allow-list of dsm's environment, never its secrets.
@Suite struct RuntimeEnvironmentTests {
    let inherited = [
        "PATH": "/usr/bin", "HOME": "/home/u", "LANG": "C.UTF-8", "LC_ALL": "C", "TZ": "UTC", "TMPDIR": "/tmp",
        "CUDA_VISIBLE_DEVICES": "0,1", "NVIDIA_VISIBLE_DEVICES": "all", "HIP_VISIBLE_DEVICES": "0", "ROCR_VISIBLE_DEVICES": "0",
        "GGML_CUDA_NO_PINNED": "1", "LLAMA_CACHE": "/c", "OMP_NUM_THREADS": "4", "LD_LIBRARY_PATH": "/usr/local/cuda/lib64",
        "HF_TOKEN": "hf_secret", "HUGGING_FACE_HUB_TOKEN": "hf_secret2", "DEEPSEEK_API_KEY": "sk-secret",
        "AWS_SECRET_ACCESS_KEY": "aws", "GITHUB_TOKEN": "gh", "DSM_HOME": "/d", "DSM_PYTHON": "python3",
        "HTTPS_PROXY": "http://user:pw@proxy:3128", "SSH_AUTH_SOCK": "/run/ssh", "LLAMA_ARG_API_KEY": "k",
        "VLLM_API_KEY": "stale", "VLLM_LOGGING_LEVEL": "INFO", "NCCL_DEBUG": "INFO", "OLLAMA_DEBUG": "1", "OLLAMA_ORIGINS": "*",
        "PYTHONPATH": "/p", "RANDOM_THING": "x",
    ]

    @Test func llamaCppGetsTheBasicsAndTheGPUStacksOnly() {
        let env = RuntimeEnvironment.forRuntime(.llamaCpp, inherited: inherited, plan: [:])
        #expect(Set(env.keys) == ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES",
                                  "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "GGML_CUDA_NO_PINNED", "LLAMA_CACHE",
                                  "OMP_NUM_THREADS", "LD_LIBRARY_PATH"])
        #expect(env["CUDA_VISIBLE_DEVICES"] == "0,1")
    }

    @Test func secretsNeverPassEvenUnderAnAllowedPrefix() {
        for kind in RuntimeKind.allCases {
            let env = RuntimeEnvironment.forRuntime(kind, inherited: inherited, plan: [:])
            for secret in ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "DEEPSEEK_API_KEY", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN",
                           "HTTPS_PROXY", "SSH_AUTH_SOCK", "LLAMA_ARG_API_KEY", "VLLM_API_KEY", "DSM_HOME"] {
                #expect(env[secret] == nil, "\(kind): \(secret)")
            }
            #expect(!env.values.contains { $0.contains("secret") || $0.contains("pw@") })
        }
    }

    @Test func eachRuntimeGetsItsOwnVariablesAndThePlansWin() {
        let vllm = RuntimeEnvironment.forRuntime(.vllm, inherited: inherited, plan: ["VLLM_API_KEY": "per-run"])
        #expect(vllm["VLLM_LOGGING_LEVEL"] == "INFO" && vllm["NCCL_DEBUG"] == "INFO" && vllm["PYTHONPATH"] == "/p")
        #expect(vllm["VLLM_API_KEY"] == "per-run" && vllm["OLLAMA_DEBUG"] == nil)
        let ollama = RuntimeEnvironment.forRuntime(.ollama, inherited: inherited, plan: ["OLLAMA_HOST": "127.0.0.1:5"])
        #expect(ollama["OLLAMA_DEBUG"] == "1" && ollama["OLLAMA_HOST"] == "127.0.0.1:5" && ollama["VLLM_LOGGING_LEVEL"] == nil)
        #expect(RuntimeEnvironment.forRuntime(.llamaCpp, inherited: inherited, plan: [:])["OLLAMA_DEBUG"] == nil)
    }
}
