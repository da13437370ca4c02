#!/usr/bin/env python3
"""Write the GGUF repos of the test hub: real llama.cpp GGUFs of the demo model, laid out as people publish them.

    python3 Tests/Fixtures/make_gguf_repos.py ROOT SOURCES DEMO_DIR DSM LLAMA_BIN_DIR

The demo checkpoint (make_demo_model.py) is converted to F16 by dsm (byte-identical to llama.cpp's converter, checked
elsewhere), quantized by the real llama-quantize to Q4_K_M and Q8_0, and split by the real llama-gguf-split:

* ROOT/test-org/DeepSeek-R1-Distill-Qwen-Demo-GGUF: one file per quantization at the top (bartowski's layout), plus
  README.md and an importance matrix;
* ROOT/test-org/DeepSeek-R1-Demo-Split-GGUF: a folder of split parts per quantization (unsloth's layout:
  Q8_0/ in 3 parts, Q4_K_M/ in 2), imatrix_unsloth.gguf, README.md;
* ROOT/test-org/Broken-GGUF: Q8_0/ with part 2 of 3 missing, Q4_K_M/ whose two parts carry each other's names,
  model-Q5_K_M.gguf that is no GGUF at all, README.md.

Prints a JSON summary: repo -> {path: size}, and the single files (SOURCES/*.gguf).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

README = "# {name}\n\nGGUF quantizations of the dsm demo model, for dsm's integration tests.\n"


def run(args: list[str]) -> None:
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")


def split(tool: str, single: str, prefix: str, max_tensors: int) -> list[str]:
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    run([tool, "--split", "--split-max-tensors", str(max_tensors), single, prefix])
    folder, stem = os.path.dirname(prefix), os.path.basename(prefix)
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith(stem + "-"))


def imatrix_file(path: str) -> None:
    """A small importance matrix in llama-imatrix's GGUF layout (one entry), written with gguf-py."""
    import numpy as np
    from gguf import GGUFWriter
    w = GGUFWriter(path, arch="imatrix")
    w.add_string("general.type", "imatrix")
    w.add_array("imatrix.datasets", ["calibration.txt"])
    w.add_uint32("imatrix.chunk_count", 1)
    w.add_uint32("imatrix.chunk_size", 512)
    w.add_tensor("blk.0.ffn_down.in_sum2", np.ones((1, 512), dtype=np.float32))
    w.add_tensor("blk.0.ffn_down.counts", np.ones((1, 1), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main(argv: list[str]) -> int:
    root, src, demo, dsm, bindir = argv[1:6]
    quantize, gguf_split = os.path.join(bindir, "llama-quantize"), os.path.join(bindir, "llama-gguf-split")
    os.makedirs(src, exist_ok=True)
    f16, q4, q8 = (os.path.join(src, n) for n in ("demo-f16.gguf", "demo-Q4_K_M.gguf", "demo-Q8_0.gguf"))
    env = dict(os.environ, DSM_HOME=os.path.join(src, "dsm-home"))
    r = subprocess.run([dsm, "convert", demo, "--outtype", "f16", "-o", f16, "--quiet"], env=env, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"dsm convert failed:\n{r.stderr}")
    run([quantize, f16, q4, "Q4_K_M"])
    run([quantize, f16, q8, "Q8_0"])
    shutil.rmtree(env["DSM_HOME"], ignore_errors=True)

    per_file = os.path.join(root, "test-org", "DeepSeek-R1-Distill-Qwen-Demo-GGUF")
    os.makedirs(per_file, exist_ok=True)
    for q, path in (("Q4_K_M", q4), ("Q8_0", q8)):
        os.link(path, os.path.join(per_file, f"DeepSeek-R1-Distill-Qwen-Demo-{q}.gguf"))
    with open(os.path.join(per_file, "README.md"), "w") as f:
        f.write(README.format(name="DeepSeek-R1-Distill-Qwen-Demo-GGUF"))
    imatrix_file(os.path.join(per_file, "DeepSeek-R1-Distill-Qwen-Demo.imatrix.gguf"))

    split_repo = os.path.join(root, "test-org", "DeepSeek-R1-Demo-Split-GGUF")
    parts = {"Q8_0": split(gguf_split, q8, os.path.join(split_repo, "Q8_0", "DeepSeek-R1-Demo-Q8_0"), 10),
             "Q4_K_M": split(gguf_split, q4, os.path.join(split_repo, "Q4_K_M", "DeepSeek-R1-Demo-Q4_K_M"), 16)}
    assert len(parts["Q8_0"]) == 3 and len(parts["Q4_K_M"]) == 2, {k: len(v) for k, v in parts.items()}
    with open(os.path.join(split_repo, "README.md"), "w") as f:
        f.write(README.format(name="DeepSeek-R1-Demo-Split-GGUF"))
    imatrix_file(os.path.join(split_repo, "imatrix_unsloth.gguf"))

    broken = os.path.join(root, "test-org", "Broken-GGUF")
    for q in ("Q8_0", "Q4_K_M"):
        os.makedirs(os.path.join(broken, q), exist_ok=True)
    for p in parts["Q8_0"][0:1] + parts["Q8_0"][2:3]:  # part 2 of 3 missing
        os.link(p, os.path.join(broken, "Q8_0", os.path.basename(p)))
    a, b = parts["Q4_K_M"]  # each part under the other's name: the headers disagree with the names
    os.link(a, os.path.join(broken, "Q4_K_M", os.path.basename(b)))
    os.link(b, os.path.join(broken, "Q4_K_M", os.path.basename(a)))
    with open(os.path.join(broken, "model-Q5_K_M.gguf"), "wb") as f:
        f.write(b"this is not a GGUF file, only named like one\n" * 100)
    with open(os.path.join(broken, "README.md"), "w") as f:
        f.write(README.format(name="Broken-GGUF"))

    out = {"sources": {"f16": f16, "Q4_K_M": q4, "Q8_0": q8}, "repos": {}}
    for repo in (per_file, split_repo, broken):
        files = {}
        for dirpath, _, names in os.walk(repo):
            for n in names:
                full = os.path.join(dirpath, n)
                files[os.path.relpath(full, repo)] = os.path.getsize(full)
        out["repos"]["test-org/" + os.path.basename(repo)] = files
    print(json.dumps(out, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
