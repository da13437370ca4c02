#!/usr/bin/env python3
"""How much an FMA-contracted build of ggml's quantizers differs from the strict one dsm matches.

Builds ggml-quants.c from the llama.cpp sources three ways (gcc -ffp-contract=off, the strict reference;
gcc -mfma with GCC's default -ffp-contract=fast; clang -mfma -ffp-contract=on), quantizes the same
BF16-valued Gaussian matrix with each, and prints the share of differing bytes and blocks per format.

    .venv/bin/python scripts/measure_fma_drift.py [--src /tmp/llama-src/llama.cpp] [--rows 1024]

Needs gcc and clang (clang is part of the Swift toolchain). Prints a markdown table (used in docs/quantize.md).
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "Tests" / "integration"))
from ggml_oracle import GGML_TYPES, GGMLOracle  # noqa: E402

STUBS = """#include <stdlib.h>
#include <stddef.h>
const char * ggml_type_name(int t) { (void)t; return ""; }
void ggml_abort(const char * f, int l, const char * fmt, ...) { (void)f; (void)l; (void)fmt; abort(); }
void ggml_log_internal(int level, const char * format, ...) { (void)level; (void)format; }
size_t ggml_type_size(int t) { (void)t; return 0; }
size_t ggml_row_size(int t, long n) { (void)t; (void)n; return 0; }
"""

BUILDS = {
    "strict (gcc -ffp-contract=off)": ["gcc", "-ffp-contract=off"],
    "gcc -mfma (default -ffp-contract=fast)": ["gcc", "-mfma", "-mavx2"],
    "clang -mfma -ffp-contract=on": ["clang", "-mfma", "-mavx2", "-ffp-contract=on"],
}


def build(src: pathlib.Path, flags, out: pathlib.Path, stubs: pathlib.Path):
    ggml = src / "ggml"
    cmd = [flags[0], "-O3", "-DNDEBUG", *flags[1:], "-fPIC", "-shared", "-I", str(ggml / "include"), "-I", str(ggml / "src"),
           str(ggml / "src" / "ggml-quants.c"), str(stubs), "-o", str(out), "-lm"]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default="/tmp/llama-src/llama.cpp")
    ap.add_argument("--rows", type=int, default=1024)
    args = ap.parse_args()
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((args.rows, 4096)) * 0.02).astype(np.float32)
    x = (x.view(np.uint32) & 0xFFFF0000).view(np.float32)  # BF16 values, as checkpoints hold
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "stubs.c").write_text(STUBS)
        results = {}
        for i, (name, flags) in enumerate(BUILDS.items()):
            lib = tmp / f"q{i}.so"
            build(pathlib.Path(args.src), flags, lib, tmp / "stubs.c")
            oracle = GGMLOracle(lib)
            results[name] = {t: np.frombuffer(oracle.quantize(x, t), np.uint8) for t in GGML_TYPES}
    strict = results[next(iter(BUILDS))]
    print(f"{args.rows}x4096 BF16-valued Gaussian weights; share of bytes (blocks) that differ from the strict build\n")
    print("| build | " + " | ".join(GGML_TYPES) + " |")
    print("|---|" + "---|" * len(GGML_TYPES))
    for name, r in results.items():
        cells = []
        for t, (_, block, nbytes) in GGML_TYPES.items():
            a, b = r[t], strict[t]
            diff = a != b
            blocks = diff.reshape(-1, nbytes).any(axis=1)
            cells.append("identical" if not diff.any() else f"{100 * diff.mean():.3f}% ({100 * blocks.mean():.2f}%)")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
