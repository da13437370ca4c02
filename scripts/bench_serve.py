"""`make bench-serve`: the gateway's overhead. `dsm serve` runs with a fast stand-in runtime (nginx answering fixed
small OpenAI responses, scripts/fast_upstream.sh), and wrk sends the same small requests once straight to that
upstream and once through the gateway, in one run: requests per second at 64 connections, and latency
percentiles at 1 connection (the added p50/p99 is gateway minus direct). Plain JSON, and SSE streams of 64 small chunk
events each (the upstream writes them back to back), so the gateway relays many events per response. The
gateway runs as users run it: access log on, metrics on, no keys. Writes docs/benchmarks.md section "serve"."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, machine_line, replace_section  # noqa: E402

DSM = os.environ.get("DSM_BIN", str(ROOT / ".build" / "release" / "dsm"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
GOAL_ADDED_P50_MS = 1.0
GOAL_RPS = 5000
BODY = {"model": "bench:latest", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str, connections: int, stream: bool, lua_dir: Path) -> dict:
    body = dict(BODY, stream=True) if stream else BODY
    script = lua_dir / ("stream.lua" if stream else "json.lua")
    accept = "text/event-stream" if stream else "application/json"
    script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n'
                      f'wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Accept"] = "{accept}"\n'
                      'done = function(summary, latency, requests)\n'
                      '  io.write(string.format("JSON {\\"rps\\": %f, \\"p50\\": %f, \\"p99\\": %f, \\"errors\\": %d, \\"non2xx\\": %d}\\n",\n'
                      '    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,\n'
                      '    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))\n'
                      'end\n')
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{SECONDS}s", "-s", str(script), url],
                         capture_output=True, text=True, timeout=SECONDS + 60).stdout
    m = re.search(r"^JSON (\{.*\})$", out, re.M)
    if not m:
        raise SystemExit(f"wrk printed no result:\n{out}")
    r = json.loads(m.group(1))
    if r["errors"] or r["non2xx"]:
        raise SystemExit(f"wrk saw {r['errors']} socket errors and {r['non2xx']} non-2xx answers against {url}")
    return r


def main():
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (make bench-serve installs it)")
    work = Path(tempfile.mkdtemp(prefix="dsm-bench-serve-"))
    env = dict(os.environ, DSM_HOME=str(work / "home"))
    import numpy as np
    from gguf import GGUFWriter
    w = GGUFWriter(str(work / "tiny.gguf"), "llama")
    w.add_name("bench")
    w.add_tensor("t", np.zeros(64, dtype=np.float32))
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    subprocess.run([DSM, "create", "bench:latest", "--from", str(work / "tiny.gguf"), "--quiet"], env=env, check=True)
    port = free_port()
    serve = subprocess.Popen([DSM, "serve", "bench:latest", "--port", str(port), "--runtime-path", str(ROOT / "scripts" / "fast_upstream.sh")],
                             env=env, stdout=subprocess.DEVNULL, stderr=open(work / "serve.log", "w"), start_new_session=True)
    try:
        deadline = time.time() + 60
        upstream = None
        while time.time() < deadline and upstream is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    upstream = json.loads(r.read())["models"]["bench:latest"]["runtimes"][0]["port"]
            except OSError:
                time.sleep(0.2)
        if upstream is None:
            raise SystemExit("dsm serve did not become ready:\n" + (work / "serve.log").read_text())
        direct, gateway = f"http://127.0.0.1:{upstream}/v1/chat/completions", f"http://127.0.0.1:{port}/v1/chat/completions"
        results = {}
        for stream in (False, True):
            for name, url in (("direct", direct), ("gateway", gateway)):
                wrk(url, 8, stream, work)  # warm-up: connections, caches
                results[(stream, name, "latency")] = wrk(url, 1, stream, work)
                results[(stream, name, "throughput")] = wrk(url, 64, stream, work)
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)

    rows, goals = [], []
    for stream in (False, True):
        kind = "SSE stream" if stream else "JSON"
        d_lat, g_lat = results[(stream, "direct", "latency")], results[(stream, "gateway", "latency")]
        d_rps, g_rps = results[(stream, "direct", "throughput")], results[(stream, "gateway", "throughput")]
        rows.append(f"| {kind}: upstream directly | {d_rps['rps']:.0f} | {d_lat['p50']:.3f} | {d_lat['p99']:.3f} | – | – |")
        rows.append(f"| {kind}: through dsm's gateway | {g_rps['rps']:.0f} | {g_lat['p50']:.3f} | {g_lat['p99']:.3f} | "
                    f"{g_lat['p50'] - d_lat['p50']:+.3f} | {g_lat['p99'] - d_lat['p99']:+.3f} |")
        added = g_lat["p50"] - d_lat["p50"]
        goals.append((f"{kind}: added p50 under {GOAL_ADDED_P50_MS:g} ms", f"{added:.3f} ms", added < GOAL_ADDED_P50_MS))
        goals.append((f"{kind}: at least {GOAL_RPS} requests/s through the gateway", f"{g_rps['rps']:.0f}/s", g_rps["rps"] >= GOAL_RPS))
    body = f"""## Serve (`make bench-serve`)

Machine: {machine_line()}. `dsm serve` (release build, access log and metrics on, no keys) in front of nginx
answering a fixed small chat completion (scripts/fast_upstream.sh stands in for the runtime, so inference time is
not in the numbers); load from `wrk -t1`, {SECONDS} s per row, after a warm-up. Requests per second at 64
connections; latency at 1 connection, where the added milliseconds are the gateway's own cost per request.
All of wrk, nginx and dsm share the machine's {os.cpu_count()} cores, so the gateway's rps is a floor.

| target | requests/s (64 conn) | p50 ms (1 conn) | p99 ms (1 conn) | added p50 ms | added p99 ms |
|---|---|---|---|---|---|
""" + "\n".join(rows) + """

| goal | measured | |
|---|---|---|
""" + "\n".join(f"| {g} | {m} | {'met' if ok else '**missed**'} |" for g, m, ok in goals) + "\n"
    replace_section("serve", body)
    print(body)


if __name__ == "__main__":
    main()
