"""Two `dsm pull` of the same model into the same DSM_HOME at the same time."""
from __future__ import annotations

import time

from conftest import assert_pull_matches, fmt, lfs_shas, parse_json_stdout, summary_files, verify_store

REPO = "test-org/multi-shard"
REF = "hf.co/" + REPO
SLACK = 1 << 20  # 1 MiB


def test_concurrent_pulls_share_the_work(run_dsm, hub, summary, dsm_home):
    expected = summary_files(summary, REPO)
    # slow the CDN down so the two pulls really overlap (~24 MiB shard at 4 MB/s per connection)
    hub.config(cdn_bandwidth=4_000_000)
    p1 = run_dsm.start(["pull", REF, "--json"])
    p2 = run_dsm.start(["pull", REF, "--json"])
    time.sleep(0.3)
    assert p1.poll() is None, "the first pull finished before the second started: no overlap to test"
    r1 = run_dsm.wait(p1, timeout=120)
    r2 = run_dsm.wait(p2, timeout=120)
    for i, (rc, out, err) in enumerate((r1, r2), 1):
        assert rc == 0, f"concurrent pull #{i} failed\n" + fmt(rc, out, err)
    res1, res2 = parse_json_stdout(*r1), parse_json_stdout(*r2)
    assert_pull_matches(res1, expected, dsm_home, fmt(*r1))
    assert_pull_matches(res2, expected, dsm_home, fmt(*r2))
    assert res1["manifest"] == res2["manifest"] and res1["commit"] == res2["commit"]
    digests = verify_store(dsm_home)
    extra = digests - {f["sha256"] for f in expected.values()} - {res1["manifest"], res2["manifest"]}
    assert not extra, f"blobs that are neither model files nor the manifest: {extra}"

    st = hub.stats()
    for sha, size in lfs_shas(expected).items():
        got = st["bytes_by_sha256"].get(sha, 0)
        assert got <= size + SLACK, (
            f"blob {sha} ({size} B) was downloaded {got} B in total by two concurrent pulls: "
            f"the second pull did not wait for / share the first one's download")
