#!/usr/bin/env python3
"""Hugging Face Hub compatible test server for dsm (hub + CDN on two ports).

    python3 Tests/Fixtures/testhub.py --root REPOS_DIR [--host 127.0.0.1] [--port 0] [--cdn-port 0]
        [--ready-file PATH] [--cdn-bandwidth BYTES_PER_SEC] [--cdn-latency-ms N] [--page-size N]
        [--url-ttl SECONDS] [--log PATH]

Repos live in REPOS_DIR/<org>/<name>/ (revision main) with optional REPOS_DIR/<org>/<name>.hub.json.
Once both servers listen, prints {"hub": URL, "cdn": URL, "pid": N} and writes it atomically to
--ready-file. Standard library only. See docs/testhub.md for endpoints, faults and stats.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hfhub.cdn import CdnHandler  # noqa: E402
from hfhub.httpbase import QuietServer  # noqa: E402
from hfhub.hub import HubHandler  # noqa: E402
from hfhub.repos import RepoStore  # noqa: E402
from hfhub.state import HubState  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True, help="folder with <org>/<name>/ repos")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="hub port (0 = any free port)")
    ap.add_argument("--cdn-port", type=int, default=0, help="CDN port (0 = any free port)")
    ap.add_argument("--ready-file", help="write {hub, cdn, pid} JSON here once listening")
    ap.add_argument("--cdn-bandwidth", type=int, default=None, help="per-response CDN cap, bytes/s")
    ap.add_argument("--cdn-latency-ms", type=int, default=0, help="delay before each CDN response")
    ap.add_argument("--page-size", type=int, default=1000, help="tree entries per page")
    ap.add_argument("--url-ttl", type=int, default=3600, help="lifetime of signed CDN URLs, seconds")
    ap.add_argument("--log", help="append one access-log line per request to this file")
    return ap.parse_args(argv)


def write_ready(path: str, info: dict) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.replace(tmp, path)


def main(argv=None) -> int:
    a = parse_args(argv)
    state = HubState(RepoStore(a.root), page_size=a.page_size, cdn_bandwidth=a.cdn_bandwidth,
                     cdn_latency_ms=a.cdn_latency_ms, url_ttl=a.url_ttl, log_path=a.log)
    hub = QuietServer((a.host, a.port), HubHandler, state)
    cdn = QuietServer((a.host, a.cdn_port), CdnHandler, state)
    url_host = "127.0.0.1" if a.host in ("0.0.0.0", "") else a.host
    state.hub_base = f"http://{url_host}:{hub.server_address[1]}"
    state.cdn_base = f"http://{url_host}:{cdn.server_address[1]}"
    for srv in (hub, cdn):
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    # Hash every repo in the background so the first resolve of a big file is quick.
    threading.Thread(target=state.store.all_repos, daemon=True).start()
    info = {"hub": state.hub_base, "cdn": state.cdn_base, "pid": os.getpid()}
    if a.ready_file:
        write_ready(a.ready_file, info)
    print(json.dumps(info), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    for srv in (hub, cdn):
        srv.shutdown()
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
