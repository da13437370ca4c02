"""Refusals that must happen before anything is written: disk space and unsafe paths."""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from conftest import fmt, manifest_files, summary_files, verify_store


def test_disk_space_refusal(run_dsm, hub, summary, dsm_home):
    repo = "test-org/huge"
    huge = summary_files(summary, repo)["huge.bin"]
    rc, out, err = run_dsm(["pull", "hf.co/" + repo])
    ctx = fmt(rc, out, err)
    assert rc == 1, "a 10 TiB model must be refused\n" + ctx
    low = err.lower()
    assert "space" in low, "the message must mention free disk space\n" + ctx
    assert re.search(r"\d[\d.,]*\s*(tib|tb|gib|gb|t|g|bytes|b)\b", low), (
        "the message must say how much space is needed (and free)\n" + ctx)
    assert re.search(r"\b1[01](\.\d+)?\s*(tib|tb|t)\b|10995116277760|10,995,116,277,760"
                     r"|\b1024\d(\.\d+)?\s*gib|\b1099\d(\.\d+)?\s*gb", low), (
        "the message must state the needed size (10 TiB)\n" + ctx)
    st = hub.stats()
    assert st["bytes_by_sha256"].get(huge["sha256"], 0) == 0, "dsm started downloading the huge file"
    cdn_gets = [r for r in st["requests"] if r["server"] == "cdn" and r["method"] == "GET"]
    assert not cdn_gets, f"dsm downloaded from the CDN before refusing: {cdn_gets[:3]}"
    assert not manifest_files(dsm_home), "a refused pull left a manifest"
    assert not verify_store(dsm_home), "a refused pull stored blobs"


def test_path_traversal_refused(run_dsm, hub, summary, dsm_home, fake_home, tmp_path):
    repo = "test-org/traversal"
    unsafe = [p for p, f in summary_files(summary, repo).items() if p.startswith("/") or ".." in p.split("/")]
    assert unsafe, "fixture repo has no unsafe paths"
    abs_targets = [Path(p) for p in unsafe if p.startswith("/")]
    existed = {p: p.exists() for p in abs_targets}
    rc, out, err = run_dsm(["pull", "hf.co/" + repo])
    ctx = fmt(rc, out, err)
    assert rc == 1, "a repo with unsafe paths must be refused\n" + ctx
    assert any(p in err for p in unsafe), f"the message must name the unsafe path ({unsafe})\n" + ctx
    # nothing was written outside DSM_HOME: look for the escaping file names everywhere nearby
    names = {os.path.basename(p) for p in unsafe}
    for base in {tmp_path, tmp_path.parent, dsm_home.parent, fake_home, Path.cwd()}:
        for n in names:
            assert not (base / n).exists(), f"{base / n} was written outside DSM_HOME"
    for p in tmp_path.rglob("*"):
        if p.name in names:
            assert False, f"unsafe file written: {p}"
    for p, before in existed.items():
        assert p.exists() == before, f"{p} was created by dsm"
    assert not manifest_files(dsm_home), "a refused pull left a manifest"
    x_sha = hashlib.sha256(b"x").hexdigest()
    assert x_sha not in verify_store(dsm_home), "the content of the unsafe entry was stored"
