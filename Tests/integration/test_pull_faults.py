"""Injected network and server faults: every pull must still end in a complete, verified model
(or, for unrecoverable corruption, in a clear failure that stores nothing unverified)."""
from __future__ import annotations

import hashlib
import re
import time

import pytest

from conftest import (assert_pull_matches, request_text, faults_fired, fmt, manifest_files, parse_json_stdout,
                      summary_files, verify_store)

REPO = "test-org/multi-shard"
REF = "hf.co/" + REPO
SHARD1 = "model-00001-of-00002.safetensors"   # ~24 MiB LFS
SHARD2 = "model-00002-of-00002.safetensors"   # ~3 MiB LFS
INDEX = "model.safetensors.index.json"        # small, non-LFS (hub resolve-cache)


def _pull_and_check(run_dsm, hub, summary, dsm_home, extra=(), timeout=90):
    expected = summary_files(summary, REPO)
    t0 = time.monotonic()
    rc, out, err = run_dsm(["pull", REF, "--json", *extra], timeout=timeout)
    elapsed = time.monotonic() - t0
    ctx = fmt(rc, out, err)
    assert rc == 0, "pull did not survive the fault\n" + ctx
    res = parse_json_stdout(rc, out, err)
    assert_pull_matches(res, expected, dsm_home, ctx)
    digests = verify_store(dsm_home)
    # the only other blob allowed is the manifest itself (dsm stores it content-addressed too)
    extra_blobs = digests - {f["sha256"] for f in expected.values()} - {res.get("manifest")}
    assert not extra_blobs, f"store holds blobs that are not part of the model: {extra_blobs}"
    assert manifest_files(dsm_home), "no manifest after a successful pull"
    return res, hub.stats(), elapsed, ctx


BODY_FAULTS = {
    "reset_mid_body": ([{"match": SHARD1, "server": "cdn", "kind": "reset", "after_bytes": 1_000_000}], "reset"),
    "truncated_body": ([{"match": SHARD1, "server": "cdn", "kind": "truncate", "after_bytes": 1_500_000}],
                       "truncate"),
    # the reset forces a resumed (Range) request so the Range faults are sure to meet one
    "ignore_range": ([{"match": SHARD1, "server": "cdn", "kind": "reset", "after_bytes": 2_000_000},
                      {"match": SHARD1, "server": "cdn", "kind": "ignore_range"}], "ignore_range"),
    "range_200": ([{"match": SHARD1, "server": "cdn", "kind": "reset", "after_bytes": 2_000_000},
                   {"match": SHARD1, "server": "cdn", "kind": "range_200"}], "range_200"),
    "reset_twice_small_shard": ([{"match": SHARD2, "server": "cdn", "kind": "reset", "after_bytes": 100_000,
                                  "count": 2}], "reset"),
    "truncated_small_file_on_hub": ([{"match": INDEX, "server": "hub", "method": "GET", "kind": "truncate",
                                      "after_bytes": 60}], "truncate"),
}


@pytest.mark.parametrize("case", sorted(BODY_FAULTS))
def test_body_fault_recovered(run_dsm, hub, summary, dsm_home, case):
    rules, kind = BODY_FAULTS[case]
    hub.faults(rules)
    _, st, _, ctx = _pull_and_check(run_dsm, hub, summary, dsm_home, ["--connections", "4"])
    assert faults_fired(st, kind), f"the {kind} fault never fired (dsm never sent a matching request)\n{ctx}"


def test_stall_detected(run_dsm, hub, summary, dsm_home):
    """A connection that goes silent is abandoned after --stall-timeout, long before the stall ends."""
    stall = 45
    hub.faults([{"match": SHARD1, "server": "cdn", "kind": "stall", "after_bytes": 1_000_000, "seconds": stall}])
    _, st, elapsed, ctx = _pull_and_check(run_dsm, hub, summary, dsm_home, ["--stall-timeout", "2"], timeout=75)
    stalled = faults_fired(st, "stall", "cdn", SHARD1)
    assert stalled, "stall fault never fired\n" + ctx
    assert elapsed < stall - 15, f"pull took {elapsed:.1f}s: the stalled connection was not abandoned after 2 s\n{ctx}"
    # the stalled range is asked for again soon after 2 s of silence (+ backoff and slack), not much later
    s0 = stalled[0]
    size = summary_files(summary, REPO)[SHARD1]["size"]
    s_lo, s_hi = _range_bounds(s0["range"], size)
    later = [r for r in _requests_for(st, "cdn", SHARD1) if r["time"] > s0["time"] and r["method"] == "GET"
             and s_lo <= _range_bounds(r["range"], size)[0] <= s_hi]
    assert later, "the stalled range was never requested again\n" + ctx
    gap = later[0]["time"] - s0["time"]
    assert gap <= 2 + 3, (f"--stall-timeout 2: the silent connection (went quiet right after its first 1 MB) "
                          f"was only replaced {gap:.1f}s after it started; expected within 5 s\n{ctx}")


def _range_bounds(rng, size):
    """(first, last) byte of a Range header value (whole file without one)."""
    m = re.fullmatch(r"bytes=(\d+)-(\d*)", (rng or "").strip())
    if not m:
        return 0, size - 1
    return int(m.group(1)), min(int(m.group(2)), size - 1) if m.group(2) else size - 1


def _requests_for(st, server, name):
    return sorted((r for r in st["requests"] if r["server"] == server and name in request_text(r)),
                  key=lambda r: r["time"])


@pytest.mark.parametrize("how", ["retry_after", "ratelimit_reset"])
def test_429_on_resolve_waits_and_retries(run_dsm, hub, summary, dsm_home, how):
    rule = {"match": SHARD1, "server": "hub", "kind": "status", "status": 429, "count": 2}
    rule[how] = 1
    hub.faults([rule])
    _, st, _, ctx = _pull_and_check(run_dsm, hub, summary, dsm_home)
    fired = faults_fired(st, "status", "hub", SHARD1)
    assert len(fired) == 2, f"expected the 429 to fire twice, fired {len(fired)}\n{ctx}"
    reqs = _requests_for(st, "hub", SHARD1)
    for r in fired:
        later = [q for q in reqs if q["time"] > r["time"]]
        assert later, "no request after the 429"
        gap = later[0]["time"] - r["time"]
        assert gap >= 0.9, f"dsm retried {gap:.2f}s after a 429 asking to wait 1 s ({how})\n{ctx}"


@pytest.mark.parametrize("status,server", [(503, "cdn"), (500, "hub"), (502, "cdn"), (504, "hub"), (408, "cdn"),
                                           (503, "hub")])
def test_transient_status_retried(run_dsm, hub, summary, dsm_home, status, server):
    hub.faults([{"match": SHARD1, "server": server, "kind": "status", "status": status, "count": 2}])
    _, st, _, ctx = _pull_and_check(run_dsm, hub, summary, dsm_home)
    fired = faults_fired(st, "status", server, SHARD1)
    assert len(fired) == 2 and all(r["status"] == status for r in fired), (
        f"expected two injected {status} on {server}, got {[(r['status'], r['path']) for r in fired]}\n{ctx}")


def test_bandwidth_cap(run_dsm, hub, summary, dsm_home):
    hub.faults([{"match": "", "server": "cdn", "kind": "bandwidth", "bytes_per_sec": 10_000_000, "count": -1}])
    _, st, _, ctx = _pull_and_check(run_dsm, hub, summary, dsm_home, ["--connections", "4"])
    cdn_gets = [r for r in st["requests"] if r["server"] == "cdn" and r["method"] == "GET"]
    assert cdn_gets and all("bandwidth" in r["faults"] for r in cdn_gets), (
        f"bandwidth cap not applied to every CDN GET: {[(r['path'], r['faults']) for r in cdn_gets]}\n{ctx}")


def _flipped_sha(repos, path, offset):
    data = bytearray((repos / REPO / path).read_bytes())
    data[offset] ^= 0x01
    return hashlib.sha256(bytes(data)).hexdigest()


CORRUPT_OFFSET = 2_000_000


def test_corrupt_byte_once_is_retried(run_dsm, hub, summary, repos, dsm_home):
    hub.faults([{"match": SHARD2, "server": "cdn", "kind": "corrupt", "offset": CORRUPT_OFFSET, "count": 1}])
    bad = _flipped_sha(repos, SHARD2, CORRUPT_OFFSET)
    _, st, _, ctx = _pull_and_check(run_dsm, hub, summary, dsm_home)
    assert faults_fired(st, "corrupt", "cdn", SHARD2), "corrupt fault never fired\n" + ctx
    good = summary_files(summary, REPO)[SHARD2]["sha256"]
    assert (dsm_home / "blobs" / f"sha256-{good}").is_file()
    assert not (dsm_home / "blobs" / f"sha256-{bad}").exists(), "the corrupted content was stored as a blob"
    assert st["bytes_by_sha256"].get(good, 0) > summary_files(summary, REPO)[SHARD2]["size"], (
        "the corrupted file was not downloaded again")


def test_corrupt_small_file_is_retried(run_dsm, hub, summary, dsm_home):
    """Non-LFS files are checked too (git blob sha1 from the ETag): a flipped byte is never stored."""
    hub.faults([{"match": INDEX, "server": "hub", "method": "GET", "kind": "corrupt", "offset": 10, "count": 1}])
    _, st, _, ctx = _pull_and_check(run_dsm, hub, summary, dsm_home)
    assert faults_fired(st, "corrupt", "hub", INDEX), "corrupt fault never fired\n" + ctx


def test_corrupt_byte_forever_fails_and_stores_nothing(run_dsm, hub, summary, repos, dsm_home):
    hub.faults([{"match": SHARD2, "server": "cdn", "kind": "corrupt", "offset": CORRUPT_OFFSET, "count": -1}])
    expected = summary_files(summary, REPO)[SHARD2]["sha256"]
    actual = _flipped_sha(repos, SHARD2, CORRUPT_OFFSET)
    rc, out, err = run_dsm(["pull", REF, "--retries", "1"], timeout=150)
    ctx = fmt(rc, out, err)
    assert rc == 1, "a file that never verifies must fail the pull with exit 1\n" + ctx
    assert SHARD2 in err, "stderr must name the file that failed verification\n" + ctx
    assert expected in err, "stderr must show the expected sha256\n" + ctx
    assert actual in err, f"stderr must show the actual sha256 ({actual})\n" + ctx
    digests = verify_store(dsm_home)
    assert expected not in digests and actual not in digests, f"unverified content stored: {digests}"
    assert not manifest_files(dsm_home), f"a failed pull left a manifest: {manifest_files(dsm_home)}"
    rc, out, err = run_dsm(["list", "--json"])
    assert rc == 0 and "multi-shard" not in out, "dsm list shows a model whose pull failed\n" + fmt(rc, out, err)
