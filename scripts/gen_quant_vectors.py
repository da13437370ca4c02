#!/usr/bin/env python3
"""Known-answer vectors for dsm's Q8_0/Q4_0/Q4_1/Q5_0/Q5_1 reference quantizers, made with the gguf Python
package's numpy quantizers (llama.cpp's gguf-py 0.19.0, bit-exact to ggml's C reference for finite input).
Writes Tests/DSMQuantTests/Vectors/input.f32 and one <TYPE>.bin per format. Run with the repo's .venv."""
import pathlib

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize

out = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "DSMQuantTests" / "Vectors"
rng = np.random.default_rng(1234)
rows = [rng.standard_normal(256).astype(np.float32) * s for s in (0.02, 1.0, 50.0)]
rows += [np.zeros(256, np.float32), np.full(256, 0.5, np.float32), np.full(256, -3.0, np.float32)]
rows += [(rng.standard_normal(256) * 1e30).astype(np.float32), (rng.standard_normal(256) * 1e-30).astype(np.float32)]
ties = np.tile(np.array([1, -1, 0.5, -0.5, 127, -127, 8, -8], np.float32), 32)  # exact ties and extremes
rows += [ties, ties * 1e-3, np.arange(256, dtype=np.float32) - 128]
rows += [rng.integers(-3, 4, 256).astype(np.float32) * 0.25]
data = np.stack(rows).astype(np.float32)
out.mkdir(parents=True, exist_ok=True)
(out / "input.f32").write_bytes(data.tobytes())
for t in (T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1):
    (out / f"{t.name}.bin").write_bytes(quantize(data, t).tobytes())
print(f"wrote {data.shape[0]} rows x {data.shape[1]} to {out}")
