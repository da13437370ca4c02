#!/usr/bin/env python3
"""`make bench-pull`: dsm pull vs aria2c -x8 -s8 and single-stream curl against the local test hub with a
per-connection bandwidth cap on its CDN, plus SHA-256 throughput of `dsm hash` vs `openssl dgst -sha256`.
Writes its table into docs/benchmarks.md (section "pull")."""
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
FILE_MIB = int(os.environ.get("BENCH_PULL_MIB", "512"))
CAP = int(os.environ.get("BENCH_PULL_CAP", str(12_500_000)))  # bytes/s per connection (100 Mbit/s)
CONNECTIONS = 8
HASH_MIB = int(os.environ.get("BENCH_HASH_MIB", "1024"))
RUNS = int(os.environ.get("BENCH_RUNS", "2"))


def make_repo() -> tuple[str, str]:
    repo = OUT / "repos" / "bench-org" / "weights"
    path = repo / "model-00001-of-00001.safetensors"
    if not path.exists() or path.stat().st_size != FILE_MIB << 20:
        repo.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            for i in range(FILE_MIB):
                f.write(hashlib.sha256(str(i).encode()).digest() * 32768)  # 1 MiB per step, incompressible enough
        (repo / "config.json").write_text('{"architectures": ["Qwen2ForCausalLM"]}\n')
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return str(path), h.hexdigest()


def cdn_url(hub: str) -> str:
    req = urllib.request.Request(f"{hub}/bench-org/weights/resolve/main/model-00001-of-00001.safetensors", method="HEAD")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(req)
    except urllib.error.HTTPError as e:
        return e.headers["Location"]
    raise SystemExit("expected a redirect to the CDN")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def main() -> None:
    for tool in ("aria2c", "curl", "openssl"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: run `make bench-pull` (it installs aria2 through scripts/setup.sh)")
    OUT.mkdir(parents=True, exist_ok=True)
    src, sha = make_repo()
    size = os.path.getsize(src)
    rows = []
    with start_hub(str(OUT / "repos"), cdn_bandwidth=CAP) as hub:
        env = dict(os.environ, HF_ENDPOINT=hub.hub, DSM_HOME=str(OUT / "home"))
        for k in ("HF_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env.pop(k, None)
        results = {"dsm": [], "aria2c": [], "curl": []}
        tails = []
        for run in range(RUNS):
            shutil.rmtree(OUT / "home", ignore_errors=True)
            hub.reset()
            wall, cpu, _, out = run_timed([DSM, "pull", "bench-org/weights", "--connections", str(CONNECTIONS), "--json", "--quiet"], env=env)
            report = json.loads(out)
            tails.append((report["verify_tail_seconds"], report["hash_seconds"]))
            got = hub.stats()["bytes_by_sha256"].get(sha, 0)
            results["dsm"].append((wall, cpu, got))

            dest = OUT / "aria2"
            shutil.rmtree(dest, ignore_errors=True)
            hub.reset()
            wall, cpu, _, _ = run_timed(["aria2c", "-q", "-x8", "-s8", "-k1M", "--file-allocation=falloc",
                                         f"--checksum=sha-256={sha}", "-d", str(dest), "-o", "model.safetensors", cdn_url(hub.hub)])
            results["aria2c"].append((wall, cpu, hub.stats()["bytes_by_sha256"].get(sha, 0)))

            if run == 0:  # one stream is slow by construction; once is enough
                hub.reset()
                target = OUT / "curl.bin"
                wall, cpu, _, _ = run_timed(["curl", "-sSfL", "-o", str(target),
                                             f"{hub.hub}/bench-org/weights/resolve/main/model-00001-of-00001.safetensors"])
                results["curl"].append((wall, cpu, hub.stats()["bytes_by_sha256"].get(sha, 0)))

        ideal = size / (CAP * CONNECTIONS)
        for tool, label in (("dsm", f"dsm pull --connections {CONNECTIONS} (SHA-256 verified)"),
                            ("aria2c", "aria2c -x8 -s8 -k1M --checksum=sha-256 (verified)"),
                            ("curl", "curl -L, one stream (not verified)")):
            best = min(results[tool], key=lambda r: r[0])
            rows.append(f"| {label} | {best[0]:.2f} | {size / best[0] / 1e6:.1f} | {best[1]:.2f} | {best[2] / 1e6:.1f} |")

    # Hashing throughput on the same file content, warm page cache.
    hash_file = OUT / "hash.bin"
    if not hash_file.exists() or hash_file.stat().st_size != HASH_MIB << 20:
        with open(hash_file, "wb") as f:
            block = os.urandom(1 << 20)
            for i in range(HASH_MIB):
                f.write(block[:-8] + i.to_bytes(8, "little"))
    subprocess.run(["cat", str(hash_file)], stdout=subprocess.DEVNULL, check=True)
    hash_rows = []
    speeds = {}
    for label, cmd in (("dsm hash", [DSM, "hash", str(hash_file)]), ("openssl dgst -sha256", ["openssl", "dgst", "-sha256", str(hash_file)])):
        walls = [run_timed(cmd)[0] for _ in range(3)]
        speeds[label] = (HASH_MIB << 20) / min(walls) / 1e6
        hash_rows.append(f"| {label} | {min(walls):.3f} | {speeds[label]:.0f} |")
    ratio = speeds["dsm hash"] / speeds["openssl dgst -sha256"]

    dsm_best = min(results["dsm"], key=lambda r: r[0])
    aria_best = min(results["aria2c"], key=lambda r: r[0])
    tail = min(tails)
    body = f"""## Pull (`make bench-pull`)

Measured {time.strftime('%Y-%m-%d')} on {machine_line()}; release build. One {FILE_MIB} MiB LFS file from the local
test hub; its CDN caps every connection at {CAP / 1e6:.1f} MB/s ({CAP * 8 / 1e6:.0f} Mbit/s), so the ceiling for
{CONNECTIONS} connections is {CAP * CONNECTIONS / 1e6:.0f} MB/s ({ideal:.2f} s). Best of {RUNS} runs (curl: 1 run).
The hub (Python) runs on the same 2 cores as the client.

| client | wall s | MB/s | CPU s | bytes served, MB |
|---|---|---|---|---|
{chr(10).join(rows)}

- dsm vs aria2c: {aria_best[0] / dsm_best[0]:.2f}x the speed of aria2c; dsm reaches {100 * ideal / dsm_best[0]:.1f}% of the cap times connections.
- Verification: SHA-256 runs while bytes arrive; after the last byte dsm needed {tail[0] * 1000:.0f} ms to finish the digest
  and store the blob ({100 * tail[0] / dsm_best[0]:.1f}% of the pull's wall time); hashing itself took {tail[1]:.2f} s of CPU, overlapped with the transfer.

SHA-256 of a {HASH_MIB} MiB file in the page cache (best of 3):

| tool | wall s | MB/s |
|---|---|---|
{chr(10).join(hash_rows)}

dsm hashes at {100 * ratio:.1f}% of openssl's throughput (both use OpenSSL's EVP SHA-256).
"""
    replace_section("pull", body)
    print(body)


if __name__ == "__main__":
    main()
