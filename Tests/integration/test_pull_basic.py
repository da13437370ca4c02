"""Clean pulls: file set, hashes, store layout, show/list, re-runs, revisions, ref forms, pagination."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import (CATALOG_7B_REPO, DEMO_REPO, EMPTY_SHA256, assert_pull_matches, cdn_bytes, fmt,
                      hub_requests, json_strings, lfs_shas, manifest_files, parse_json_stdout, pull_ok,
                      sha256_file, show_files, summary_commit, summary_files, tree_digest_of_dir,
                      verify_store)

REPO = "test-org/multi-shard"
REF = "hf.co/" + REPO
NAME = REF + ":latest"


@pytest.mark.release_smoke
def test_clean_pull_multi_shard(run_dsm, hub, summary, dsm_home):
    expected = summary_files(summary, REPO)
    rc, out, err = run_dsm(["pull", REF, "--json"])
    ctx = fmt(rc, out, err)
    assert rc == 0, "clean pull failed\n" + ctx
    res = parse_json_stdout(rc, out, err)

    assert res.get("repo") == REPO, ctx
    assert res.get("revision") == "main", ctx
    assert res.get("commit") == summary_commit(summary, REPO), f"commit differs from the hub's main\n{ctx}"
    assert res.get("name") == NAME, f"store name should be {NAME}\n{ctx}"
    assert str(res.get("endpoint", "")).rstrip("/") == hub.hub, f"endpoint should be HF_ENDPOINT={hub.hub}\n{ctx}"
    assert isinstance(res.get("manifest"), str) and len(res["manifest"]) == 64, f"manifest digest\n{ctx}"
    assert_pull_matches(res, expected, dsm_home, ctx)

    # every "blob" path in --json is absolute, inside DSM_HOME/blobs, and hashes right
    for f in res["files"]:
        blob = Path(f["blob"])
        assert blob.is_absolute(), f"blob path not absolute: {f}"
        assert blob.is_file(), f"blob path does not exist: {f}"
        assert blob.resolve().parent == (dsm_home / "blobs").resolve(), f"blob outside DSM_HOME/blobs: {f}"
        assert sha256_file(blob) == f["sha256"], f"blob content does not hash to its sha256: {f}"

    # the empty file is part of the model and is the well-known empty digest
    empty = {f["path"]: f for f in res["files"]}["empty.txt"]
    assert empty["size"] == 0 and empty["sha256"] == EMPTY_SHA256, f"empty file wrong: {empty}"
    assert (dsm_home / "blobs" / f"sha256-{EMPTY_SHA256}").is_file(), "empty blob missing"

    # the manifest exists and no partial data is left once the pull succeeded
    assert manifest_files(dsm_home), "no manifest written under DSM_HOME/manifests"

    st = hub.stats()
    # HF_ENDPOINT honoured: the test hub saw the API and resolve requests for this repo
    hub_paths = [r["path"] for r in hub_requests(st)]
    assert any(p.startswith(f"/api/models/{REPO}") for p in hub_paths), f"no API request reached the hub: {hub_paths}"
    assert any(p.startswith(f"/{REPO}/resolve/") for p in hub_paths), f"no resolve request reached the hub: {hub_paths}"
    # LFS bodies came from the CDN host, each at least once in full
    for sha, size in lfs_shas(expected).items():
        assert st["bytes_by_sha256"].get(sha, 0) >= size, f"CDN did not serve {sha} in full: {st['bytes_by_sha256']}"
    assert st["cdn_auth_violations"] == 0, "Authorization header sent to the CDN"


def test_show_and_list(run_dsm, hub, summary, dsm_home):
    expected = summary_files(summary, REPO)
    pull_ok(run_dsm, REF)

    rc, out, err = run_dsm(["show", NAME, "--json"])
    assert rc == 0, "dsm show failed\n" + fmt(rc, out, err)
    files = show_files(parse_json_stdout(rc, out, err))
    got = {f["path"]: f for f in files}
    assert set(got) == set(expected), f"dsm show lists {sorted(got)}, expected {sorted(expected)}"
    for path, e in expected.items():
        f = got[path]
        assert f["size"] == e["size"] and f["sha256"] == e["sha256"], f"dsm show wrong for {path}: {f}"
        blob = Path(f["blob"])
        assert blob.is_absolute() and blob.is_file(), f"dsm show blob path not absolute/existing: {f}"
        assert sha256_file(blob) == e["sha256"], f"dsm show blob does not hash right: {f}"

    rc, out, err = run_dsm(["show", NAME])
    assert rc == 0 and "model-00001-of-00002.safetensors" in out, "dsm show (text)\n" + fmt(rc, out, err)

    rc, out, err = run_dsm(["list"])
    assert rc == 0 and NAME in out, f"dsm list does not show {NAME}\n" + fmt(rc, out, err)
    rc, out, err = run_dsm(["list", "--json"])
    assert rc == 0, fmt(rc, out, err)
    assert NAME in set(json_strings(parse_json_stdout(rc, out, err))), f"dsm list --json lacks {NAME}\n{out}"


def test_rerun_downloads_no_cdn_bytes(run_dsm, hub, summary, dsm_home):
    expected = summary_files(summary, REPO)
    first = pull_ok(run_dsm, REF)
    blobs_before = verify_store(dsm_home)
    hub.reset()

    second = pull_ok(run_dsm, REF)
    st = hub.stats()
    assert cdn_bytes(st) == 0, (f"re-running a complete pull downloaded {cdn_bytes(st)} body bytes from the CDN: "
                                f"{st['bytes_by_sha256']}")
    for sha in lfs_shas(expected):
        assert st["bytes_by_sha256"].get(sha, 0) == 0, f"blob {sha} downloaded again"
    assert second["commit"] == first["commit"] and second["manifest"] == first["manifest"], (first, second)
    assert verify_store(dsm_home) == blobs_before


def test_rerun_reports_everything_reused(run_dsm, hub, summary, dsm_home):
    total = sum(f["size"] for f in summary_files(summary, REPO).values())
    first = pull_ok(run_dsm, REF)
    assert first["downloaded_bytes"] > 0, f"first pull into an empty store must download: {first}"
    hub.reset()
    second = pull_ok(run_dsm, REF)
    assert second["downloaded_bytes"] == 0 and second["reused_bytes"] == total, (
        f"second pull should reuse all {total} bytes and download none: downloaded={second['downloaded_bytes']} "
        f"reused={second['reused_bytes']}")
    # no file bodies at all on the second run (small files come from the hub's resolve-cache)
    st = hub.stats()
    body_gets = [r for r in st["requests"] if r["method"] == "GET" and r["bytes_sent"] > 0
                 and (r["server"] == "cdn" or r["path"].startswith("/api/resolve-cache/"))]
    assert not body_gets, f"second pull fetched file bodies again: {body_gets[:5]}"


def test_revision_pr(run_dsm, hub, summary, dsm_home):
    rev = "refs/pr/1"
    expected = summary_files(summary, REPO, rev)
    res = pull_ok(run_dsm, REF, "--revision", rev)
    ctx = json.dumps(res)[:3000]
    assert res["revision"] == rev, ctx
    assert res["commit"] == summary_commit(summary, REPO, rev), ctx
    assert res["commit"] != summary_commit(summary, REPO), "refs/pr/1 must not give main's commit"
    # Tags cannot contain '/', so dsm maps the revision to a tag (docs/pull.md): refs/pr/1 -> refs-pr-1.
    assert res["name"] == f"{REF}:refs-pr-1", f"store name for a revision should be {REF}:refs-pr-1: {ctx}"
    assert "pr-only.txt" in {f["path"] for f in res["files"]}
    assert "sub/dir/notes.md" not in {f["path"] for f in res["files"]}
    assert_pull_matches(res, expected, dsm_home, ctx)
    # the revision was passed to the hub URL-quoted as one segment or resolved to its commit
    paths = [r["path"] for r in hub_requests(hub.stats())]
    assert any("refs/pr/1" in p or res["commit"] in p for p in paths), paths[:20]


def test_revision_suffix_in_reference(run_dsm, hub, summary, dsm_home):
    rev = "refs/pr/1"
    res = pull_ok(run_dsm, f"{REF}:{rev}")
    assert res["commit"] == summary_commit(summary, REPO, rev), res
    assert_pull_matches(res, summary_files(summary, REPO, rev), dsm_home, json.dumps(res)[:2000])


def test_revision_commit_id(run_dsm, hub, summary, dsm_home):
    commit = summary_commit(summary, REPO)
    res = pull_ok(run_dsm, REF, "--revision", commit)
    assert res["commit"] == commit, res
    assert_pull_matches(res, summary_files(summary, REPO), dsm_home, json.dumps(res)[:2000])


@pytest.mark.parametrize("ref", [REPO, "https://huggingface.co/" + REPO, "hf.co/" + REPO])
def test_reference_forms_map_to_same_repo(run_dsm, hub, summary, dsm_home, ref):
    res = pull_ok(run_dsm, ref)
    assert res["repo"] == REPO, f"{ref} should map to {REPO}: {res}"
    assert res["commit"] == summary_commit(summary, REPO), res
    assert res["name"] == NAME, f"{ref} should be stored as {NAME}: {res['name']}"
    assert str(res["endpoint"]).rstrip("/") == hub.hub, "the huggingface.co URL must still go to HF_ENDPOINT"
    assert_pull_matches(res, summary_files(summary, REPO), dsm_home, json.dumps(res)[:2000])


def test_tree_pagination_many_files(run_dsm, hub, summary, dsm_home):
    repo = "test-org/many-files"
    expected = summary_files(summary, repo)
    assert len(expected) == 2500
    hub.config(page_size=1000)
    res = pull_ok(run_dsm, "hf.co/" + repo, timeout=240)
    assert len(res["files"]) == 2500, f"pulled {len(res['files'])} of 2500 files"
    assert_pull_matches(res, expected, dsm_home, f"{len(res['files'])} files")
    tree_reqs = [r for r in hub_requests(hub.stats()) if "/tree/" in r["path"]]
    assert any("cursor=" in (r.get("query") or "") for r in tree_reqs), (
        f"dsm never followed the Link rel=next cursor: {[(r['path'], r.get('query')) for r in tree_reqs]}")


def test_demo_model_pulls_cleanly(run_dsm, hub, repos, dsm_home):
    on_disk = tree_digest_of_dir(repos / DEMO_REPO)
    assert "model.safetensors.index.json" in on_disk and "config.json" in on_disk
    res = pull_ok(run_dsm, "hf.co/" + DEMO_REPO, timeout=180)
    expected = {p: {"size": s, "sha256": h} for p, (s, h) in on_disk.items()}
    assert_pull_matches(res, expected, dsm_home, json.dumps(res)[:3000])
    assert res["name"] == f"hf.co/{DEMO_REPO}:latest"
    assert hub.stats()["cdn_auth_violations"] == 0


def test_catalog_name_pull(run_dsm, hub, repos, dsm_home):
    """deepseek-r1:7b resolves through the catalog to deepseek-ai/DeepSeek-R1-Distill-Qwen-7B on HF_ENDPOINT."""
    on_disk = tree_digest_of_dir(repos / CATALOG_7B_REPO)
    res = pull_ok(run_dsm, "deepseek-r1:7b", timeout=180)
    assert res["repo"] == CATALOG_7B_REPO, res
    assert res["name"] == "deepseek-r1:7b", f"a catalog pull is stored under the catalog name: {res['name']}"
    expected = {p: {"size": s, "sha256": h} for p, (s, h) in on_disk.items()}
    assert_pull_matches(res, expected, dsm_home, json.dumps(res)[:3000])
    rc, out, err = run_dsm(["list"])
    assert rc == 0 and "deepseek-r1:7b" in out, fmt(rc, out, err)


def test_name_option(run_dsm, hub, summary, dsm_home):
    res = pull_ok(run_dsm, REF, "--name", "my-shards")
    # a name without a tag may get the default ":latest" tag, as in docker/ollama
    assert res["name"] in ("my-shards", "my-shards:latest"), res["name"]
    rc, out, err = run_dsm(["show", "my-shards", "--json"])
    assert rc == 0, fmt(rc, out, err)
    assert {f["path"] for f in show_files(parse_json_stdout(rc, out, err))} == set(summary_files(summary, REPO))


def test_quiet_prints_nothing_on_success(run_dsm, hub, dsm_home):
    rc, out, err = run_dsm(["pull", REF, "--quiet"])
    assert rc == 0, fmt(rc, out, err)
    assert out.strip() == "" and err.strip() == "", "--quiet must print nothing but errors\n" + fmt(rc, out, err)
    assert manifest_files(dsm_home) and len(verify_store(dsm_home)) >= 6, "--quiet pull stored nothing"


def test_progress_is_plain_on_non_terminal(run_dsm, hub, dsm_home):
    rc, out, err = run_dsm(["pull", REF])
    assert rc == 0, fmt(rc, out, err)
    assert manifest_files(dsm_home), "pull stored no manifest\n" + fmt(rc, out, err)
    assert err.strip(), "a pull without --quiet should report progress on stderr"
    assert "\x1b[" not in err and "\r" not in err, (
        "stderr is not a terminal: progress must be plain lines without escape codes or carriage returns\n"
        + repr(err[:2000]))


def test_same_content_under_several_paths_is_downloaded_once(run_dsm, hub, summary, dsm_home):
    """test-org/dupes holds the same config.json and the same 3 MiB LFS file in three folders."""
    repo = "test-org/dupes"
    expected = summary_files(summary, repo)
    rc, out, err = run_dsm(["pull", repo, "--json"])
    ctx = fmt(rc, out, err)
    assert rc == 0, "pull of duplicated content failed\n" + ctx
    res = parse_json_stdout(rc, out, err)
    assert_pull_matches(res, expected, dsm_home, ctx)
    digests = verify_store(dsm_home)
    assert len(digests) == 2, f"three copies of two contents must be stored as two blobs: {digests}\n{ctx}"
    st = hub.stats()
    weights = expected["ckpt-1/weights.bin"]
    assert st["bytes_by_sha256"].get(weights["sha256"], 0) == weights["size"], (
        f"the shared LFS content must be downloaded exactly once: {st['bytes_by_sha256']}\n{ctx}")
    config_gets = [r for r in hub_requests(st) if r["method"] == "GET" and r["path"].split("?")[0].endswith("/config.json")
                   and "resolve-cache" in r["path"]]
    assert len(config_gets) == 1, f"the shared small file must be fetched once, got {[r['path'] for r in config_gets]}\n{ctx}"
    assert not list((dsm_home / "partials").glob("*.part")), "partial files left after a successful pull"


def test_terminal_progress_redraws_per_file_and_total(run_dsm, hub, summary, dsm_home):
    """On a terminal, stderr shows per-file lines and a total line with speed and ETA, redrawn in place."""
    import os
    import pty
    import select
    import subprocess
    import time

    hub.config(cdn_bandwidth=4_000_000)  # 4 MB/s per connection: the pull takes a few seconds
    master, slave = pty.openpty()
    p = subprocess.Popen([run_dsm.bin, "pull", "test-org/big", "--connections", "4"], env=run_dsm.env(None, None),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, start_new_session=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif p.poll() is not None:
            break
    rc = p.wait(timeout=30)
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert rc == 0, f"pull on a terminal failed: {text[-2000:]}"
    assert "\x1b[" in text, f"no cursor control on a terminal: {text[-500:]!r}"
    assert "big.bin" in text and "[4 conn]" in text, f"no per-file line: {text[-800:]!r}"
    assert "total " in text and "/s" in text and "ETA" in text, f"no total line with speed and ETA: {text[-800:]!r}"
    assert text.count("total ") >= 3, f"the display was not redrawn: {text[-800:]!r}"
