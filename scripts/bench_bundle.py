"""`make bench-bundle`: dsm export / import of multi-GB artifacts against `tar --zstd` (tar piped through the zstd
tool at the same level and thread count) on the same blob files, in one run. Artifacts: a 7B-shaped BF16
checkpoint (bench-convert's generator: DeepSeek-R1-Distill-Qwen-7B widths, 4 layers, normal weights, about 4 GB) and
its Q4_K_M GGUF made by dsm quantize. Reports wall time, throughput over the uncompressed bytes, and compressed
size for zstd levels 1, 3 (dsm's default) and 9. Writes docs/benchmarks.md section "bundle"."""
from __future__ import annotations

import json
import statistics
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
import bench_convert  # noqa: E402
from benchlib import ROOT, machine_line, replace_section  # noqa: E402

DSM = os.environ.get("DSM_BIN", str(ROOT / ".build" / "release" / "dsm"))
OUT = ROOT / "out" / "bench-bundle"
LEVELS = [int(x) for x in os.environ.get("BENCH_BUNDLE_LEVELS", "1,3,9").split(",")]
THREADS = os.cpu_count() or 1
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def run(cmd, env=None, shell=False):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, shell=shell, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"failed: {cmd}\n{p.stderr[-2000:]}")
    return time.perf_counter() - t0, p.stdout


def drop(path: Path):
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def main():
    if not shutil.which("zstd"):
        raise SystemExit("the zstd tool is not installed (scripts/setup.sh installs it)")
    OUT.mkdir(parents=True, exist_ok=True)
    bench_convert.OUT, bench_convert.LAYERS = OUT, 4
    ckpt = bench_convert.make_checkpoint()
    home = OUT / "home"
    drop(home)
    env = dict(os.environ, DSM_HOME=str(home))
    q4 = OUT / "q4.gguf"
    run([DSM, "quantize", str(ckpt), "--q4", "-o", str(q4), "--quiet"], env)
    run([DSM, "create", "bench:bf16", "--from", str(ckpt), "--quiet"], env)
    run([DSM, "create", "bench:q4_K_M", "--from", str(q4), "--quiet"], env)
    drop(q4)

    rows = []
    for name in ("bench:bf16", "bench:q4_K_M"):
        shown = json.loads(run([DSM, "show", name, "--json"], env)[1])
        blobs = [f["blob"] for f in shown["files"]]
        size = sum(f["size"] for f in shown["files"])
        for path in blobs:  # warm the page cache so both tools read from memory
            with open(path, "rb") as f:
                while f.read(64 << 20):
                    pass
        for level in LEVELS:
            bundle, tarball = OUT / "x.dsm", OUT / "x.tar.zst"
            times = {k: [] for k in ("exp", "tar", "imp", "untar", "sum")}
            for _ in range(RUNS):  # every cell RUNS times: the table gives the median and the spread
                t_exp, _ = run([DSM, "export", name, "-o", str(bundle), "--level", str(level), "--threads", str(THREADS), "--quiet"], env)
                files = " ".join(os.path.basename(b) for b in blobs)
                t_tar, _ = run(f"tar -cf - -C {home / 'blobs'} {files} | zstd -q -{level} -T{THREADS} -o {tarball}", shell=True)
                imp_home = OUT / "import-home"
                drop(imp_home)
                t_imp, _ = run([DSM, "import", str(bundle), "--quiet"], dict(os.environ, DSM_HOME=str(imp_home)))
                untar = OUT / "untar"
                drop(untar)
                untar.mkdir()
                t_untar, _ = run(f"zstd -q -dc {tarball} | tar -xf - -C {untar}", shell=True)
                # tar --zstd does not verify content; sha256sum over the files is what import's verification costs.
                t_sum, _ = run(f"cd {untar} && sha256sum * > /dev/null", shell=True)
                b, t = bundle.stat().st_size, tarball.stat().st_size
                for k, v in zip(times, (t_exp, t_tar, t_imp, t_untar, t_sum)):
                    times[k].append(v)
                for p in (bundle, tarball, imp_home, untar):
                    drop(p)
            rows.append((name, level, size, times["exp"], b, times["tar"], t, times["imp"], times["untar"], times["sum"]))
    drop(home)

    def mbs(size, secs):
        return f"{size / secs / 1e6:.0f}"

    def cell(size, ts):
        """median seconds (MB/s), then the spread of the RUNS runs"""
        m = statistics.median(ts)
        return f"{m:.1f} s ({mbs(size, m)} MB/s; {min(ts):.1f}–{max(ts):.1f})"

    table = []
    for name, level, size, t_exp, b, t_tar, t, t_imp, t_untar, t_sum in rows:
        kind = "BF16 checkpoint" if "bf16" in name else "Q4_K_M GGUF"
        table.append(f"| {kind}, {size / 1e9:.2f} GB | {level} | {cell(size, t_exp)} | {cell(size, t_tar)} "
                     f"| {b / size:.3f} | {t / size:.3f} | {cell(size, t_imp)} | {statistics.median(t_untar):.1f} s "
                     f"({min(t_untar):.1f}–{max(t_untar):.1f}) + {statistics.median(t_sum):.1f} s sha256sum |")
    best = {}
    for name, level, size, t_exp, b, *_ in rows:
        best.setdefault(name, []).append((level, b / size, statistics.median(t_exp)))
    notes = []
    for name, opts in best.items():
        kind = "BF16" if "bf16" in name else "Q4_K_M"
        lo, hi = min(opts), max(opts)
        notes.append(f"- {kind}: level {lo[0]} keeps {lo[1]:.1%} of the bytes in {lo[2]:.1f} s, level {hi[0]} {hi[1]:.1%} in {hi[2]:.1f} s.")
    body = f"""## Bundle (`make bench-bundle`)

Machine: {machine_line()}. Artifacts in the store, blobs warm in the page cache. `dsm export` vs
`tar -cf - … | zstd -LEVEL -T{THREADS}` over the same blob files, and `dsm import` (streaming decompression, SHA-256
of every blob against the table of contents, registration) into an empty store vs `zstd -dc | tar -xf -` plus
`sha256sum` of the extracted files (tar alone verifies nothing). {THREADS} compression threads on both sides. Each cell
ran {RUNS} times: median (MB/s at the median; min–max of the runs). The BF16 checkpoint is `make bench-convert`'s
synthetic one: one 64 MiB block of random normal BF16 values repeated, not a trained model, so its size ratios need
not hold for real checkpoints.

| artifact | level | dsm export | tar + zstd | dsm size ratio | tar.zst size ratio | dsm import (verified) | untar + verify |
|---|---|---|---|---|---|---|---|
""" + "\n".join(table) + "\n\n" + "\n".join(notes) + """
- Quantized weights are close to incompressible; BF16 weights give up part of their exponent bits. Higher levels buy
  little and cost much, so `dsm export` defaults to level 3.
"""
    replace_section("bundle", body)
    print(body)


if __name__ == "__main__":
    main()
