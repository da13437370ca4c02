"""kill -9 / Ctrl-C / SIGTERM in the middle of a pull, then the same command again.

The resumed pull must finish with a verified blob and re-download at most one range per
connection: total CDN body bytes for the file across both runs <= size + connections x range,
where "range" is the largest Range length dsm asked for (read from the hub's request log).
"""
from __future__ import annotations

import os
import re
import signal
import time

import pytest

from conftest import (assert_pull_matches, fmt, manifest_files, parse_json_stdout, range_length, summary_files,
                      verify_store)

REPO = "test-org/big"
REF = "hf.co/" + REPO
FILE = "big.bin"
CONNECTIONS = 4
CAP = 12_000_000  # bytes/s per CDN response while the first run is going


def _big(summary):
    f = summary_files(summary, REPO)[FILE]
    return f["sha256"], f["size"]


def _run_until(hub, proc, sha, target_bytes, timeout=60):
    """Poll the hub until the CDN sent ``target_bytes`` of the file (or dsm exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        sent = hub.stats()["bytes_by_sha256"].get(sha, 0)
        if sent >= target_bytes:
            return sent
        time.sleep(0.02)
    raise AssertionError(f"dsm did not reach {target_bytes} bytes within {timeout}s")


def _max_range(st, sha, size):
    return max((range_length(r["range"], size) for r in st["requests"]
                if r["server"] == "cdn" and r.get("sha256") == sha and r["method"] == "GET"), default=0)


def _interrupt_then_resume(run_dsm, hub, summary, dsm_home, fraction, sig):
    sha, size = _big(summary)
    hub.config(cdn_bandwidth=CAP)
    args = ["pull", REF, "--connections", str(CONNECTIONS)]
    p = run_dsm.start(args)
    sent = _run_until(hub, p, sha, int(size * fraction))
    if sent is None:
        rc, out, err = run_dsm.wait(p, timeout=5)
        raise AssertionError(f"dsm exited before reaching {fraction:.0%} of {FILE}\n" + fmt(rc, out, err))
    os.killpg(p.pid, sig)  # the whole process group, as a terminal would for Ctrl-C
    rc1, out1, err1 = run_dsm.wait(p, timeout=30)
    st1 = hub.stats()
    first_bytes = st1["bytes_by_sha256"].get(sha, 0)
    assert first_bytes < size, f"the first run had already downloaded the whole file ({first_bytes} of {size})"
    assert not (dsm_home / "blobs" / f"sha256-{sha}").exists(), "a blob appeared for an interrupted download"
    assert not manifest_files(dsm_home), "an interrupted pull left a manifest"
    verify_store(dsm_home)

    hub.config(cdn_bandwidth=None)
    rc2, out2, err2 = run_dsm(args + ["--json"], timeout=120)
    ctx2 = fmt(rc2, out2, err2)
    assert rc2 == 0, "the re-run after the interruption failed\n" + ctx2
    res = parse_json_stdout(rc2, out2, err2)
    assert_pull_matches(res, summary_files(summary, REPO), dsm_home, ctx2)

    st = hub.stats()
    total = st["bytes_by_sha256"].get(sha, 0)
    max_range = _max_range(st, sha, size)
    allowed = size + CONNECTIONS * max_range
    second_bytes = total - first_bytes
    ranges = sorted({r["range"] for r in st["requests"] if r["server"] == "cdn" and r.get("sha256") == sha})
    print(f"\n{signal.Signals(sig).name} at {fraction:.0%}: first run {first_bytes} B, second run {second_bytes} B, "
          f"size {size} B, largest range {max_range} B, {len(ranges)} distinct ranges, e.g. {ranges[:3]}")
    assert total <= allowed, (
        f"resume re-downloaded too much after {signal.Signals(sig).name} at {fraction:.0%}: "
        f"first run {first_bytes} B, second run {second_bytes} B, total {total} B for a {size} B file; "
        f"allowed size + {CONNECTIONS} x largest range ({max_range} B) = {allowed} B\n{ctx2}")
    return (rc1, out1, err1), first_bytes, second_bytes


@pytest.mark.parametrize("fraction", [0.05, 0.4, 0.9], ids=["5pct", "40pct", "90pct"])
def test_kill9_then_resume(run_dsm, hub, summary, dsm_home, fraction):
    (rc1, _, err1), first, second = _interrupt_then_resume(run_dsm, hub, summary, dsm_home, fraction,
                                                            signal.SIGKILL)
    assert rc1 == -signal.SIGKILL, f"dsm was not killed by SIGKILL (rc={rc1})\n{err1[-2000:]}"
    # the second run must not start from scratch: it reuses what the first run had made durable
    _, size = _big(summary)
    if fraction >= 0.4:
        assert second < size - first / 4, (
            f"the re-run downloaded {second} of {size} B after {first} B had been fetched: it did not resume")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_exits_130_and_resumes(run_dsm, hub, summary, dsm_home, sig):
    (rc1, out1, err1), first, second = _interrupt_then_resume(run_dsm, hub, summary, dsm_home, 0.3, sig)
    ctx = fmt(rc1, out1, err1)
    assert rc1 == 130, f"an interrupted pull must exit 130\n{ctx}"
    assert re.search(r"re-?run|run .*again|same command|resume|continue", err1, re.I), (
        "the interruption message must tell the user to re-run the command to continue\n" + ctx)
    _, size = _big(summary)
    assert second < size - first / 4, f"the re-run downloaded {second} of {size} B after {first} B: no resume"
