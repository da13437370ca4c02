#!/usr/bin/env python3
"""`make bench-pull`: `dsm pull` with its defaults vs `aria2c -x8 -s8` and `hf download` (with and without
hf_transfer) on three repo shapes served by the local test hub, whose CDN caps every connection:

1. one large file;
2. a checkpoint of two mid-size shards (48 and 40 MiB) plus eight small files, 4 MiB/s per connection and
   20 ms added latency on the CDN (the issue-15 shape);
3. a multi-quant GGUF repo of which one tag, 2 GiB in three split parts, is chosen.

Every tool gets the same resolve URLs and the same files. Also SHA-256 throughput of `dsm hash` vs
`openssl dgst -sha256`. Writes its tables into docs/benchmarks.md (section "pull")."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures"))
from benchlib import ROOT, machine_line, replace_section, run_timed  # noqa: E402
from hubctl import start_hub  # noqa: E402

DSM = os.environ.get("DSM_BIN", str(ROOT / ".build" / "release" / "dsm"))
OUT = ROOT / "out" / "bench-pull"
REPOS = OUT / "repos"
RUNS = int(os.environ.get("BENCH_RUNS", "2"))
HASH_MIB = int(os.environ.get("BENCH_HASH_MIB", "1024"))
HF = os.environ.get("HF_BIN", os.path.join(os.path.dirname(sys.executable), "hf"))
HF_TRANSFER = "hf_transfer==0.1.9"
PYDEPS = OUT / "pydeps"  # hf_transfer goes here, not into the shared venv
MIB = 1 << 20
# dsm's defaults (DownloadEngine.Options): 32 connections in total, 16 for any one file.
DSM_TOTAL, DSM_PER_FILE = 32, 16
# Shape 3 picks one quantization by its tag (`dsm pull ORG/NAME:Q4_K_M`; the peers take `--include 'Q4_K_M/*'`).
SHAPE3_TAG = "Q4_K_M"
# An extra dsm row, not the default: aria2c's -x8 and a total of 16, dsm's defaults before issue 15's measurements.
DSM_WIDE = ["--connections", "16", "--connections-per-file", "8"]

SMALL_FILES = {  # the usual companions of a transformers checkpoint: served by the hub itself, uncapped
    "config.json": 700, "generation_config.json": 200, "model.safetensors.index.json": 24_000,
    "tokenizer.json": 7 * MIB, "tokenizer_config.json": 55_000, "special_tokens_map.json": 500,
    "vocab.json": 2 * MIB + 700_000, "merges.txt": 1 * MIB + 600_000,
}

SHAPES = [
    {"key": "large", "title": "one large file", "repo": "bench-org/weights",
     "files": {"model-00001-of-00001.safetensors": int(os.environ.get("BENCH_PULL_MIB", "512")) * MIB, "config.json": 700},
     "cap": int(os.environ.get("BENCH_PULL_CAP", "12500000")), "latency_ms": 0, "include": None},
    {"key": "checkpoint", "title": "two shards (48 + 40 MiB) and eight small files", "repo": "bench-org/checkpoint",
     "files": {"model-00001-of-00002.safetensors": 48 * MIB, "model-00002-of-00002.safetensors": 40 * MIB, **SMALL_FILES},
     "cap": 4 * MIB, "latency_ms": 20, "include": None},
    {"key": "gguf", "title": f"multi-quant GGUF repo, tag {SHAPE3_TAG} (2 GiB in 3 parts) chosen", "repo": "bench-org/multi-quant-GGUF",
     "files": {f"{SHAPE3_TAG}/model-{SHAPE3_TAG}-{i:05d}-of-00003.gguf": (2048 * MIB) // 3 + (i == 3) * ((2048 * MIB) % 3)
               for i in (1, 2, 3)} | {"README.md": 3000},
     # the other tags exist (the listing shows them) but are never fetched: virtual files cost no disk
     "virtual": {f"{t}/model-{t}-{i:05d}-of-00003.gguf": size // 3 for t, size in (("Q8_0", 3_800 * MIB), ("Q2_K", 1_300 * MIB),
                                                                                   ("F16", 7_100 * MIB)) for i in (1, 2, 3)},
     # a higher cap than shape 2 so that a single-stream peer finishes within about a minute
     "cap": int(os.environ.get("BENCH_PULL_GGUF_CAP", "12500000")), "latency_ms": 20, "include": f"{SHAPE3_TAG}/*"},
]


def gguf_part_header(name: str, size: int) -> bytes:
    """A GGUF v3 header for split part `name` (`…-0000i-of-0000n.gguf`) of `size` bytes: the split keys as
    llama-gguf-split writes them and one F32 tensor over the rest of the file, so dsm's header checks pass."""
    import re
    import struct
    m = re.search(r"-(\d{5})-of-(\d{5})\.gguf$", name)
    no, count = int(m.group(1)) - 1, int(m.group(2))

    def s(text: str) -> bytes:
        return struct.pack("<Q", len(text.encode())) + text.encode()
    kvs = (s("split.no") + struct.pack("<IH", 2, no) + s("split.tensors.count") + struct.pack("<Ii", 5, count)
           + s("split.count") + struct.pack("<IH", 2, count))
    head_len = 4 + 4 + 8 + 8 + len(kvs) + len(s(f"blk.{no}.weight")) + 4 + 8 + 4 + 8
    data_start = (head_len + 31) // 32 * 32
    elements = (size - data_start) // 4
    tensor = s(f"blk.{no}.weight") + struct.pack("<IQIQ", 1, elements, 0, 0)
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, 3) + kvs + tensor
    return head + b"\0" * (data_start - len(head))


def write_file(path, size: int, seed: str) -> None:
    """Deterministic, incompressible-enough content (1 MiB steps of a repeated digest); a `.gguf` split part starts
    with a valid GGUF header."""
    if path.exists() and path.stat().st_size == size:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        header = gguf_part_header(path.name, size) if path.name.endswith(".gguf") else b""
        f.write(header)
        left, i = size - len(header), 0
        while left > 0:
            block = hashlib.sha256(f"{seed}:{i}".encode()).digest() * 32768
            f.write(block[:left])
            left -= len(block)
            i += 1


def make_repo(shape: dict) -> dict:
    """Writes the shape's repo; returns {path: sha256} of the files a pull of the shape chooses."""
    repo = REPOS / shape["repo"]
    for name, size in shape["files"].items():
        write_file(repo / name, size, f"{shape['repo']}/{name}")
    if shape.get("virtual"):
        (REPOS / f"{shape['repo']}.hub.json").write_text(json.dumps({"virtual": shape["virtual"]}, indent=1) + "\n")
    chosen = {}
    for name in shape["files"]:
        if shape["include"] and not name.startswith(shape["include"].rstrip("*")):
            continue
        h = hashlib.sha256()
        with open(repo / name, "rb") as f:
            while chunk := f.read(1 << 22):
                h.update(chunk)
        chosen[name] = h.hexdigest()
    return chosen


def lfs_bytes(shape: dict, chosen: dict) -> int:
    """Bytes the capped CDN serves for the chosen files (LFS: a .gguf/.safetensors or over 10 MiB)."""
    return sum(shape["files"][n] for n in chosen if n.endswith((".gguf", ".safetensors")) or shape["files"][n] > 10 * MIB)


def hf_transfer_path() -> str | None:
    """A folder with hf_transfer for PYTHONPATH (installed there from PyPI once), or None if it cannot be had."""
    marker = PYDEPS / "hf_transfer"
    if not marker.exists():
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--target", str(PYDEPS),
                               HF_TRANSFER], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"hf_transfer could not be installed: {proc.stderr[-500:]}", file=sys.stderr)
            return None
    return str(PYDEPS)


def commands(shape: dict, chosen: dict, hub: str, dest, hf_pydeps: str | None) -> list:
    """(label, command, extra env, single-stream) for every client, all fetching the chosen files."""
    repo = shape["repo"]
    dsm = [DSM, "pull", repo + (f":{SHAPE3_TAG}" if shape["include"] else ""), "--json", "--quiet"]
    lines = []
    for name, sha in chosen.items():
        lines.append(f"{hub}/{repo}/resolve/main/{name}")
        lines.append(f"  out={name}")
        if name.endswith((".gguf", ".safetensors")):
            lines.append(f"  checksum=sha-256={sha}")
    listing = dest / "aria2-input.txt"
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text("\n".join(lines) + "\n")
    aria = ["aria2c", "-q", "-x8", "-s8", "-k1M", "--file-allocation=falloc", "-d", str(dest / "aria2"), "-i", str(listing)]
    hf = [HF, "download", repo, "--local-dir", str(dest / "hf"), "--quiet"] + (["--include", shape["include"]] if shape["include"] else [])
    rows = [("dsm pull (defaults: 32 connections, 16 per file; SHA-256 verified)" + (f" :{SHAPE3_TAG}" if shape["include"] else ""), dsm, {}, False),
            ("dsm pull " + " ".join(DSM_WIDE) + " (not the default)", dsm + DSM_WIDE, {}, False),
            ("aria2c -x8 -s8 -k1M, one input file (SHA-256 verified for LFS files)", aria, {}, False),
            ("hf download (--max-workers 8: 8 files at once, one stream each; not verified)", hf, {"HF_HUB_ENABLE_HF_TRANSFER": "0"}, True)]
    if hf_pydeps:
        rows.append(("hf download, HF_HUB_ENABLE_HF_TRANSFER=1 (hf_transfer: 10 MB ranges of files over 50 MB; not verified)", hf,
                     {"HF_HUB_ENABLE_HF_TRANSFER": "1", "PYTHONPATH": hf_pydeps}, False))
    return rows


def warm(hub: str) -> None:
    """Lists every repo once before anything is timed: at start the hub hashes all repos in the background
    under one lock, and a listing waits for it (up to ~15 s with the 2 GiB shape on disk)."""
    for repo in [s["repo"] for s in SHAPES]:
        if (REPOS / repo).exists():
            with urllib.request.urlopen(f"{hub}/api/models/{repo}/tree/main?recursive=true", timeout=600) as r:
                r.read()


def bench_shape(shape: dict, hf_pydeps: str | None) -> dict:
    chosen = make_repo(shape)
    expected = sum(shape["files"][n] for n in chosen)
    capped = lfs_bytes(shape, chosen)
    dest = OUT / "dest" / shape["key"]
    result = {"shape": shape, "expected": expected, "capped": capped, "chosen": len(chosen), "rows": {}, "notes": []}
    with start_hub(str(REPOS), cdn_bandwidth=shape["cap"], extra_args=["--cdn-latency-ms", str(shape["latency_ms"])]) as hub:
        warm(hub.hub)
        env = dict(os.environ, HF_ENDPOINT=hub.hub, DSM_HOME=str(OUT / "home"), HF_HOME=str(OUT / "hf-home"),
                   HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
                   HF_HUB_DISABLE_XET="1")  # the test hub answers Xet headers but not Xet token requests
        for k in ("HF_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "HF_HUB_OFFLINE"):
            env.pop(k, None)
        rows = commands(shape, chosen, hub.hub, dest, hf_pydeps)
        for run in range(RUNS):
            for i, (label, cmd, extra, single) in enumerate(list(rows)):
                if single and run > 0:
                    continue  # one stream per file is slow by construction; once is enough
                wall, cpu, out = timed(hub, dest, cmd, {**env, **extra})
                served = sum(hub.stats()["bytes_by_sha256"].values())
                tail = json.loads(out)["verify_tail_seconds"] if cmd[0] == DSM else None
                result["rows"].setdefault(label, []).append((wall, cpu, served, tail))
                print(f"{shape['key']} run {run + 1}: {label}: {wall:.2f} s, {served / 1e6:.1f} MB served", flush=True)
    return result


def timed(hub, dest, cmd, env) -> tuple[float, float, str]:
    """Runs one client into empty destinations with the hub's counters reset."""
    shutil.rmtree(OUT / "home", ignore_errors=True)
    shutil.rmtree(dest / "aria2", ignore_errors=True)
    shutil.rmtree(dest / "hf", ignore_errors=True)
    hub.reset()
    wall, cpu, _, out = run_timed(cmd, env=env, timeout=900)
    return wall, cpu, out


def shape_section(r: dict) -> tuple[str, list]:
    shape, rows = r["shape"], r["rows"]
    ideal = r["capped"] / (shape["cap"] * DSM_TOTAL)
    conns = DSM_TOTAL
    if len([n for n in shape["files"] if n.endswith((".gguf", ".safetensors"))]) == 1:
        conns = DSM_PER_FILE  # one capped file: the per-file limit is what dsm may use
        ideal = r["capped"] / (shape["cap"] * DSM_PER_FILE)
    lines = [f"| client | wall s (best of {RUNS}) | MB/s | CPU s | bytes served, MB |", "|---|---|---|---|---|"]
    best = {}
    for label, runs in rows.items():
        b = min(runs, key=lambda x: x[0])
        best[label] = b
        lines.append(f"| {label} | {b[0]:.2f} | {r['expected'] / b[0] / 1e6:.1f} | {b[1]:.2f} | {b[2] / 1e6:.1f} |")
    goals = []
    dsm = next((label for label in best if label.startswith("dsm") and "not the default" not in label), None)
    if dsm is None:
        goals += [f"- dsm: {n}" for n in r["notes"]] or ["- dsm: not run"]
        return "\n".join(lines), goals
    d = best[dsm]
    peers = {label: b for label, b in best.items() if not label.startswith("dsm")}
    fastest = min(peers, key=lambda label: peers[label][0])
    ratio = d[0] / peers[fastest][0]
    met = lambda ok: "met" if ok else "**missed**"  # noqa: E731
    goals.append(f"- Ratio to the fastest peer ({fastest.split(' (')[0]}): {ratio:.2f} (goal <= 1.0: {met(ratio <= 1.0)}).")
    share = ideal / d[0]
    goals.append(f"- dsm reaches {100 * share:.1f}% of the cap times its {conns} connections ({ideal:.2f} s for the "
                 f"{r['capped'] / MIB:.0f} MiB of capped files; goal >= 90%: {met(share >= 0.9)}).")
    largest = max(size for name, size in shape["files"].items() if name.endswith((".gguf", ".safetensors")))
    bound = max(ideal, largest / (shape["cap"] * DSM_PER_FILE))
    if bound > ideal * 1.01:
        goals.append(f"  With the per-file limit the largest file alone needs {bound:.2f} s at {DSM_PER_FILE} connections: "
                     f"dsm reaches {100 * bound / d[0]:.1f}% of that bound (the rest is start-up, listing and storing).")
    exact = all(run[2] == r["expected"] for run in rows[dsm])
    goals.append(f"- Bytes served for dsm's runs: {', '.join(f'{run[2]:,}' for run in rows[dsm])} for {r['expected']:,} bytes chosen "
                 f"(goal: equal: {met(exact)}).")
    goals.append(f"- After the last byte dsm needed {1000 * d[3]:.0f} ms to finish the digests and store the files.")
    goals += [f"- Note: {n}" for n in r["notes"]]
    return "\n".join(lines), goals


def hash_rows() -> tuple[str, float]:
    hash_file = OUT / "hash.bin"
    if not hash_file.exists() or hash_file.stat().st_size != HASH_MIB << 20:
        with open(hash_file, "wb") as f:
            block = os.urandom(1 << 20)
            for i in range(HASH_MIB):
                f.write(block[:-8] + i.to_bytes(8, "little"))
    subprocess.run(["cat", str(hash_file)], stdout=subprocess.DEVNULL, check=True)
    rows, speeds = [], {}
    for label, cmd in (("dsm hash", [DSM, "hash", str(hash_file)]), ("openssl dgst -sha256", ["openssl", "dgst", "-sha256", str(hash_file)])):
        walls = [run_timed(cmd)[0] for _ in range(3)]
        speeds[label] = (HASH_MIB << 20) / min(walls) / 1e6
        rows.append(f"| {label} | {min(walls):.3f} | {speeds[label]:.0f} |")
    return "\n".join(rows), speeds["dsm hash"] / speeds["openssl dgst -sha256"]


def main() -> None:
    for tool in ("aria2c", "openssl", HF):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: run `make bench-pull` (it installs aria2 and the venv through scripts/setup.sh)")
    OUT.mkdir(parents=True, exist_ok=True)
    hf_pydeps = hf_transfer_path()
    only = os.environ.get("BENCH_PULL_SHAPES")  # e.g. "checkpoint,gguf" while iterating
    results = [bench_shape(s, hf_pydeps) for s in SHAPES if not only or s["key"] in only.split(",")]
    hash_table, hash_ratio = hash_rows()
    parts = []
    for n, r in enumerate(results, 1):
        s = r["shape"]
        table, goals = shape_section(r)
        cap = f"{s['cap'] / 1e6:.1f} MB/s ({s['cap'] * 8 / 1e6:.0f} Mbit/s)"
        parts.append(f"### {n}. {s['title'][0].upper() + s['title'][1:]}\n\n`{s['repo']}`: {r['chosen']} files chosen of {len(s['files']) + len(s.get('virtual', {}))}, "
                     f"{r['expected'] / MIB:.1f} MiB chosen ({r['capped'] / MIB:.1f} MiB through the capped CDN); CDN cap {cap} per "
                     f"connection, {s['latency_ms']} ms added before each CDN response.\n\n{table}\n\n" + "\n".join(goals))
    hf_note = (f"`{HF_TRANSFER}` installed into out/bench-pull/pydeps" if hf_pydeps else "hf_transfer could not be installed: its row is missing")
    body = f"""## Pull (`make bench-pull`)

Measured {time.strftime('%Y-%m-%d')} on {machine_line()}; release build. The local test hub (Python, on the same 2 cores
as the clients) serves each shape; its CDN caps every connection, small files come from the hub itself uncapped.
Every client fetches the same files through the same resolve URLs into an empty destination; best of {RUNS} runs
(single-stream `hf download`: 1 run). dsm runs with its defaults: 32 connections in total, 16 for any one file.
Peers: `aria2c -x8 -s8` with `-k1M` (its default 20 MiB minimum split gives a 48 MiB file two connections, not eight)
and `--file-allocation=falloc` (its default writes zeros first), all files in one invocation (`-i`, default `-j5`);
`hf download` of huggingface_hub {hf_version()}: its parallel options are `--max-workers` (files at once, default 8)
and `HF_HUB_ENABLE_HF_TRANSFER=1` (hf_transfer, many connections per file for files over 50 MB; {hf_note}); hf_xet
applies only to Xet-backed repos, which the test hub does not serve. Bytes served: what the hub sent for all content.

{(chr(10) * 2).join(parts)}

Reading the misses: under a per-connection cap the time is set by how many connections a client opens.
hf_transfer opens one per 10 MB range, up to 100 per file; aria2c 8 per file with up to 5 files at once; dsm's
defaults 8 per file and 16 in total. The `--connections 32 --connections-per-file 16` row shows dsm with more.
A per-file limit also bounds a shape whose largest file outlasts the rest (shape 2: 48 MiB over 8 connections).
Bytes served above the bytes chosen come from work stealing: a split cuts a range request that is running, and
what the CDN had already sent past the cut is discarded (aria2c and hf_transfer overshoot the same way).

SHA-256 of a {HASH_MIB} MiB file in the page cache (best of 3):

| tool | wall s | MB/s |
|---|---|---|
{hash_table}

dsm hashes at {100 * hash_ratio:.1f}% of openssl's throughput (both use OpenSSL's EVP SHA-256).
"""
    replace_section("pull", body)
    print(body)


def hf_version() -> str:
    out = subprocess.run([os.path.join(os.path.dirname(HF), "python"), "-c", "import huggingface_hub; print(huggingface_hub.__version__)"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "?"


if __name__ == "__main__":
    main()
