"""hubctl: tiny client library to start and drive the dsm test hub.

Usage (pytest or scripts)::

    import sys; sys.path.insert(0, "Tests/Fixtures")
    from hubctl import start_hub

    with start_hub(repos_root, page_size=1000) as h:
        h.hub            # "http://127.0.0.1:PORT"  (API + resolve; use as HF_ENDPOINT)
        h.cdn            # "http://127.0.0.1:PORT2" (signed blob URLs)
        h.faults([{"match": "model-00001", "server": "cdn", "kind": "reset", "after_bytes": 1000000}])
        h.stats()        # dict, see docs/testhub.md
        h.config(cdn_bandwidth=50_000_000, page_size=100)
        h.reset()        # clear faults and stats
    # stopped on exit; h.stop() may also be called directly (idempotent)

``start_hub`` also works without ``with``: ``h = start_hub(root); ...; h.stop()``.

Options (all optional): host, port (default 0), cdn_port (default 0), page_size,
cdn_bandwidth (bytes/sec), log (path), timeout (seconds to wait for readiness,
default 20), python (interpreter, default sys.executable), extra_args (list).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTHUB = os.path.join(HERE, "testhub.py")

__all__ = ["start_hub", "HubProcess", "TESTHUB"]


class HubProcess:
    """A running testhub.py subprocess plus helpers for its /_control API."""

    def __init__(self, proc: subprocess.Popen, hub: str, cdn: str, pid: int, workdir: str):
        self.proc = proc
        self.hub = hub
        self.cdn = cdn
        self.pid = pid
        self._workdir = workdir
        # the hub's stderr (tracebacks, if any); removed by stop() when empty
        self.stderr_path = os.path.join(workdir, "stderr.txt")

    # -- control API -------------------------------------------------------
    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.hub + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def faults(self, rules: list) -> None:
        """Replace the fault list (see docs/testhub.md for rule fields and kinds)."""
        self._call("POST", "/_control/faults", list(rules))

    def reset(self, config: bool = False) -> None:
        """Clear faults and stats. Config (page_size, cdn_bandwidth, ...) is kept unless config=True,
        which restores the values the hub was started with."""
        self._call("POST", "/_control/reset", {"config": bool(config)})

    def stats(self) -> dict:
        """Return {"requests": [...], "cdn_auth_violations": N, "bytes_by_sha256": {...}, "resolve_auth_seen": N}."""
        return self._call("GET", "/_control/stats")

    def config(self, **kw) -> dict:
        """Change live config and return it: page_size=N, cdn_bandwidth=BYTES_PER_SEC|None,
        cdn_latency_ms=N, url_ttl=SECONDS (lifetime of newly signed CDN URLs; negative = already expired)."""
        return self._call("POST", "/_control/config", kw)

    def fault_status(self) -> list:
        """Current fault rules with their remaining ``count`` and ``fired`` counters."""
        return self._call("GET", "/_control/faults")

    # -- lifecycle ---------------------------------------------------------
    def stop(self) -> None:
        """Terminate the hub (idempotent)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        # keep the work dir only if the hub wrote something to stderr (worth a look)
        try:
            if os.path.getsize(self.stderr_path) == 0:
                shutil.rmtree(self._workdir, ignore_errors=True)
        except OSError:
            pass

    def __enter__(self) -> "HubProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"HubProcess(hub={self.hub!r}, cdn={self.cdn!r}, pid={self.pid})"


def start_hub(root, host: str = "127.0.0.1", port: int = 0, cdn_port: int = 0,
              page_size: int | None = None, cdn_bandwidth: int | None = None,
              log: str | None = None, timeout: float = 20.0, python: str | None = None,
              extra_args: list | None = None) -> HubProcess:
    """Start testhub.py serving ``root`` and wait until both servers listen."""
    workdir = tempfile.mkdtemp(prefix="testhub-")
    ready = os.path.join(workdir, "ready.json")
    cmd = [python or sys.executable, TESTHUB, "--root", str(root), "--host", host,
           "--port", str(port), "--cdn-port", str(cdn_port), "--ready-file", ready]
    if page_size is not None:
        cmd += ["--page-size", str(page_size)]
    if cdn_bandwidth is not None:
        cmd += ["--cdn-bandwidth", str(cdn_bandwidth)]
    if log is not None:
        cmd += ["--log", str(log)]
    cmd += list(extra_args or [])
    errpath = os.path.join(workdir, "stderr.txt")
    err = open(errpath, "wb")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(ready):
            with open(ready) as f:
                info = json.load(f)
            return HubProcess(proc, info["hub"], info["cdn"], info["pid"], workdir)
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    with open(errpath, "rb") as f:
        msg = f.read().decode(errors="replace")[-4000:]
    raise RuntimeError(f"testhub did not become ready (rc={proc.returncode}): {msg}")


if __name__ == "__main__":  # tiny manual helper: python3 hubctl.py ROOT
    with start_hub(sys.argv[1]) as h:
        print(json.dumps({"hub": h.hub, "cdn": h.cdn, "pid": h.pid}), flush=True)
        try:
            h.proc.wait()
        except KeyboardInterrupt:
            pass
