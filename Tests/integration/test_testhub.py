"""Tests of the test hub itself (Tests/Fixtures/testhub.py), independent of dsm.

Run: python3 -m pytest Tests/integration/test_testhub.py -q
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Fixtures")
sys.path.insert(0, FIXTURES)

from hubctl import start_hub  # noqa: E402

TOKEN_OK = "hf_testtoken_OK_1234567890"
TOKEN_NOT_APPROVED = "hf_testtoken_NOTAPPROVED_99"


# -- fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    root = tmp_path_factory.mktemp("repos")
    out = subprocess.run([sys.executable, os.path.join(FIXTURES, "make_test_repos.py"), str(root),
                          "--big-mib", "12"], check=True, capture_output=True)
    summary = json.loads(out.stdout)
    assert summary == json.load(open(root / "summary.json"))
    return root, summary


@pytest.fixture(scope="module")
def hub_proc(repos):
    with start_hub(repos[0]) as h:
        yield h
        with open(h.stderr_path) as f:
            err = f.read()
    assert "Traceback" not in err, err


@pytest.fixture
def hub(hub_proc):
    hub_proc.reset(config=True)
    yield hub_proc
    hub_proc.reset(config=True)


@pytest.fixture
def summary(repos):
    return repos[1]


def request(url, method="GET", headers=None, body=None, timeout=10):
    """One request without following redirects -> (status, headers dict (lower-case), body)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, u.path + ("?" + u.query if u.query else ""), body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def bearer(tok):
    return {"Authorization": f"Bearer {tok}"}


def cdn_url(hub, repo, path, rev="main", headers=None):
    st, h, _ = request(f"{hub.hub}/{repo}/resolve/{rev}/{path}", "HEAD", headers)
    assert st == 302, (st, h)
    return h["location"]


def blob(repos, repo, path):
    with open(os.path.join(repos[0], repo, path), "rb") as f:
        return f.read()


# -- startup ------------------------------------------------------------------------------

def test_ready_file_and_urls(hub):
    assert hub.hub.startswith("http://127.0.0.1:") and hub.cdn.startswith("http://127.0.0.1:")
    assert hub.hub != hub.cdn
    assert hub.pid == hub.proc.pid


def test_cli_ready_file_and_stdout(repos, tmp_path):
    ready = tmp_path / "ready.json"
    p = subprocess.Popen([sys.executable, os.path.join(FIXTURES, "testhub.py"), "--root", str(repos[0]),
                          "--ready-file", str(ready), "--page-size", "5"], stdout=subprocess.PIPE, text=True)
    try:
        line = json.loads(p.stdout.readline())
        assert json.load(open(ready)) == line and line["pid"] == p.pid
        st, h, body = request(line["hub"] + "/api/models/test-org/multi-shard/tree/main?recursive=true")
        assert st == 200 and len(json.loads(body)) == 5 and 'rel="next"' in h["link"]
    finally:
        p.terminate()
        assert p.wait(5) == 0


# -- resolve --------------------------------------------------------------------------------

def test_lfs_resolve_is_302_to_cdn(hub, summary):
    f = summary["test-org/multi-shard"]["files"]["model-00001-of-00002.safetensors"]
    for method in ("HEAD", "GET"):
        st, h, body = request(f"{hub.hub}/test-org/multi-shard/resolve/main/model-00001-of-00002.safetensors", method)
        assert st == 302
        assert h["location"].startswith(hub.cdn + "/blobs/" + f["sha256"] + "?")
        assert "Expires=" in h["location"] and "Signature=" in h["location"]
        assert h["x-linked-etag"] == f'"{f["sha256"]}"' and h["etag"] == f'"{f["sha256"]}"'
        assert int(h["x-linked-size"]) == f["size"]
        assert h["x-repo-commit"] == summary["test-org/multi-shard"]["commit"]
        assert int(h["content-length"]) > 0 and len(body) == (0 if method == "HEAD" else int(h["content-length"]))
        assert h["ratelimit"].startswith('"resolvers";r=') and "q=3000;w=300" in h["ratelimit-policy"]
        assert "x-xet-hash" in h and 'rel="xet-auth"' in h["link"]


def test_small_file_is_307_relative_to_resolve_cache(hub, summary, repos):
    f = summary["test-org/multi-shard"]["files"]["config.json"]
    commit = summary["test-org/multi-shard"]["commit"]
    st, h, _ = request(f"{hub.hub}/test-org/multi-shard/resolve/main/config.json", "HEAD")
    assert st == 307
    loc = h["location"]
    assert loc.startswith(f"/api/resolve-cache/models/test-org/multi-shard/{commit}/config.json?")
    assert f"etag=%22{f['oid']}%22" in loc and "x-linked-etag" not in h
    for target in (loc, loc.split("?")[0]):  # with and without its query
        st, h2, body = request(hub.hub + target)
        assert st == 200
        assert h2["etag"] == f'"{f["oid"]}"' and h2["x-repo-commit"] == commit
        assert int(h2["content-length"]) == f["size"] and body == blob(repos, "test-org/multi-shard", "config.json")
    # the ETag is the git blob sha1
    data = blob(repos, "test-org/multi-shard", "config.json")
    assert f["oid"] == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_empty_file(hub, summary):
    f = summary["test-org/multi-shard"]["files"]["empty.txt"]
    assert f["oid"] == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert f["sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    st, h, _ = request(f"{hub.hub}/test-org/multi-shard/resolve/main/empty.txt", "HEAD")
    st, h, body = request(hub.hub + h["location"])
    assert st == 200 and h["content-length"] == "0" and body == b""


def test_resolve_cache_gzip(hub, repos):
    url = f"{hub.hub}/test-org/multi-shard/resolve/main/config.json"
    loc = request(url, "HEAD")[1]["location"]
    st, h, body = request(hub.hub + loc, headers={"Accept-Encoding": "gzip"})
    assert st == 200 and h["content-encoding"] == "gzip"
    assert gzip.decompress(body) == blob(repos, "test-org/multi-shard", "config.json")
    st, h, body = request(hub.hub + loc, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in h and body == blob(repos, "test-org/multi-shard", "config.json")


def test_resolve_cache_range(hub, repos):
    loc = request(f"{hub.hub}/test-org/multi-shard/resolve/main/config.json", "HEAD")[1]["location"]
    data = blob(repos, "test-org/multi-shard", "config.json")
    st, h, body = request(hub.hub + loc, headers={"Range": "bytes=10-19"})
    assert st == 206 and body == data[10:20] and h["content-range"] == f"bytes 10-19/{len(data)}"


def test_raw_returns_pointer_for_lfs(hub, summary, repos):
    f = summary["test-org/multi-shard"]["files"]["model-00002-of-00002.safetensors"]
    st, _, body = request(f"{hub.hub}/test-org/multi-shard/raw/main/model-00002-of-00002.safetensors")
    assert st == 200
    assert body == (b"version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
                    % (f["sha256"].encode(), f["size"]))
    assert hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest() == f["oid"]
    st, _, body = request(f"{hub.hub}/test-org/multi-shard/raw/main/config.json")
    assert body == blob(repos, "test-org/multi-shard", "config.json")


# -- CDN and Range ---------------------------------------------------------------------------

def test_cdn_range_semantics(hub, summary, repos):
    path = "model-00002-of-00002.safetensors"
    data = blob(repos, "test-org/multi-shard", path)
    T, sha = len(data), summary["test-org/multi-shard"]["files"][path]["sha256"]
    url = cdn_url(hub, "test-org/multi-shard", path)
    st, h, body = request(url)
    assert st == 200 and body == data and h["accept-ranges"] == "bytes" and int(h["content-length"]) == T
    assert h["etag"].strip('"') != sha and sha not in h["etag"]
    cases = [("bytes=0-0", 0, 0), ("bytes=100-", 100, T - 1), ("bytes=5-9", 5, 9),
             (f"bytes=10-{T + 1000}", 10, T - 1), (f"bytes={T - 1}-", T - 1, T - 1), ("bytes=-4", T - 4, T - 1)]
    for rng, a, b in cases:
        st, h, body = request(url, headers={"Range": rng})
        assert st == 206, rng
        assert h["content-range"] == f"bytes {a}-{b}/{T}" and body == data[a:b + 1]
        assert int(h["content-length"]) == b - a + 1
    for rng in (f"bytes={T}-", f"bytes={T + 5}-{T + 10}"):
        st, h, body = request(url, headers={"Range": rng})
        assert st == 416 and h["content-range"] == f"bytes */{T}"
    st, h, body = request(url, "HEAD", headers={"Range": "bytes=0-99"})
    assert st == 206 and h["content-length"] == "100" and body == b""


def test_cdn_signature_and_expiry(hub):
    url = cdn_url(hub, "test-org/multi-shard", "model-00002-of-00002.safetensors")
    assert request(url, "HEAD")[0] == 200
    assert request(url.replace("Signature=", "Signature=00"), "HEAD")[0] == 403
    assert request(url.split("?")[0], "HEAD")[0] == 403
    hub.config(url_ttl=-5)
    st, _, body = request(cdn_url(hub, "test-org/multi-shard", "model-00002-of-00002.safetensors"))
    assert st == 403 and b"expired" in body


def test_keep_alive(hub):
    u = urllib.parse.urlsplit(hub.hub)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    for _ in range(3):
        conn.request("GET", "/api/models/test-org/multi-shard")
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read())["id"] == "test-org/multi-shard"
    conn.request("GET", "/test-org/nope/resolve/main/x")  # errors keep the connection usable too
    r = conn.getresponse()
    r.read()
    conn.request("HEAD", "/test-org/multi-shard/resolve/main/config.json")
    assert conn.getresponse().status == 307
    conn.close()


# -- API --------------------------------------------------------------------------------------

def test_model_info(hub, summary):
    s = summary["test-org/multi-shard"]
    st, _, body = request(f"{hub.hub}/api/models/test-org/multi-shard")
    info = json.loads(body)
    assert st == 200 and info["id"] == info["modelId"] == "test-org/multi-shard" and info["sha"] == s["commit"]
    assert info["private"] is False and info["gated"] is False
    assert sorted(x["rfilename"] for x in info["siblings"]) == sorted(s["files"])
    assert all(set(x) == {"rfilename"} for x in info["siblings"])
    info = json.loads(request(f"{hub.hub}/api/models/test-org/multi-shard/revision/main?blobs=true")[2])
    sib = {x["rfilename"]: x for x in info["siblings"]}
    lfs = sib["model-00001-of-00002.safetensors"]
    f = s["files"]["model-00001-of-00002.safetensors"]
    assert lfs["size"] == f["size"] and lfs["blobId"] == f["oid"]
    assert lfs["lfs"] == {"sha256": f["sha256"], "size": f["size"], "pointerSize": 125 + len(str(f["size"]))}
    assert "lfs" not in sib["config.json"] and sib["config.json"]["blobId"] == s["files"]["config.json"]["oid"]


def test_tree_recursive_and_top_level(hub, summary):
    s = summary["test-org/multi-shard"]
    st, h, body = request(f"{hub.hub}/api/models/test-org/multi-shard/tree/main?recursive=true")
    items = json.loads(body)
    assert st == 200 and "link" not in h
    files = {i["path"]: i for i in items if i["type"] == "file"}
    dirs = {i["path"] for i in items if i["type"] == "directory"}
    assert set(files) == set(s["files"]) and dirs == {"sub", "sub/dir"}
    sh = files["model-00001-of-00002.safetensors"]
    assert sh["lfs"]["oid"] == s["files"]["model-00001-of-00002.safetensors"]["sha256"]
    assert sh["oid"] == s["files"]["model-00001-of-00002.safetensors"]["oid"] and "lfs" not in files["config.json"]
    top = json.loads(request(f"{hub.hub}/api/models/test-org/multi-shard/tree/main")[2])
    assert {i["path"] for i in top} == {p for p in s["files"] if "/" not in p} | {"sub"}
    sub = json.loads(request(f"{hub.hub}/api/models/test-org/multi-shard/tree/main/sub/dir")[2])
    assert [i["path"] for i in sub] == ["sub/dir/notes.md"]


def test_tree_pagination(hub, summary):
    url = f"{hub.hub}/api/models/test-org/many-files/tree/main?recursive=true"
    pages, items = 0, []
    while url:
        st, h, body = request(url)
        assert st == 200
        page = json.loads(body)
        pages += 1
        assert len(page) <= 1000
        items += page
        link = h.get("link")
        url = link[link.index("<") + 1:link.index(">")] if link else None
        if url:
            assert link.endswith('; rel="next"') and url.startswith(hub.hub) and "cursor=" in url
    assert pages == 3
    files = [i["path"] for i in items if i["type"] == "file"]
    assert len(files) == 2500 and len(set(files)) == 2500 and set(files) == set(summary["test-org/many-files"]["files"])
    assert len(items) == 2500 + 275
    hub.config(page_size=2)  # the control API changes the page size; revision in Link stays quoted
    st, h, body = request(f"{hub.hub}/api/models/test-org/multi-shard/tree/refs%2Fpr%2F1?recursive=true")
    assert len(json.loads(body)) == 2 and "/tree/refs%2Fpr%2F1?recursive=true&cursor=" in h["link"]
    assert request(f"{hub.hub}/api/models/test-org/multi-shard/tree/main?cursor=garbage")[0] == 400


def test_paths_info(hub, summary):
    s = summary["test-org/multi-shard"]
    body = urllib.parse.urlencode([("paths", "config.json"), ("paths", "model-00002-of-00002.safetensors"),
                                   ("paths", "sub"), ("paths", "missing.txt")])
    st, _, out = request(f"{hub.hub}/api/models/test-org/multi-shard/paths-info/main", "POST",
                         {"Content-Type": "application/x-www-form-urlencoded"}, body)
    out = {i["path"]: i for i in json.loads(out)}
    assert st == 200 and set(out) == {"config.json", "model-00002-of-00002.safetensors", "sub"}
    assert out["model-00002-of-00002.safetensors"]["lfs"]["oid"] == s["files"]["model-00002-of-00002.safetensors"]["sha256"]
    assert out["sub"]["type"] == "directory"


def test_revisions(hub, summary):
    s = summary["test-org/multi-shard"]
    pr = s["revisions"]["refs/pr/1"]
    assert pr["commit"] != s["commit"]
    info = json.loads(request(f"{hub.hub}/api/models/test-org/multi-shard/revision/refs%2Fpr%2F1")[2])
    assert info["sha"] == pr["commit"]
    names = {x["rfilename"] for x in info["siblings"]}
    assert "pr-only.txt" in names and "sub/dir/notes.md" not in names
    st, h, _ = request(f"{hub.hub}/test-org/multi-shard/resolve/refs%2Fpr%2F1/pr-only.txt", "HEAD")
    assert st == 307 and h["x-repo-commit"] == pr["commit"]
    st, h, body = request(hub.hub + h["location"])
    assert body == b"This file exists only in refs/pr/1.\n"
    # the commit id itself resolves; dropped files are gone in that revision
    assert request(f"{hub.hub}/test-org/multi-shard/resolve/{pr['commit']}/config.json", "HEAD")[0] == 307
    st, h, _ = request(f"{hub.hub}/test-org/multi-shard/resolve/{pr['commit']}/sub/dir/notes.md", "HEAD")
    assert st == 404 and h["x-error-code"] == "EntryNotFound" and h["x-repo-commit"] == pr["commit"]
    assert json.loads(request(f"{hub.hub}/api/models/test-org/multi-shard/revision/{s['commit']}")[2])["sha"] == s["commit"]


# -- errors -----------------------------------------------------------------------------------

def _err(url, method="HEAD", headers=None):
    st, h, body = request(url, method, headers)
    return st, h.get("x-error-code"), h.get("x-error-message"), h


def test_errors(hub, summary):
    H = hub.hub
    st, code, msg, _ = _err(f"{H}/test-org/does-not-exist/resolve/main/config.json")
    assert (st, code) == (401, "RepoNotFound")
    st, _, body = request(f"{H}/api/models/test-org/does-not-exist")
    assert st == 401 and "error" in json.loads(body)
    assert _err(f"{H}/test-org/multi-shard/resolve/nope/config.json")[:2] == (404, "RevisionNotFound")
    assert _err(f"{H}/test-org/multi-shard/resolve/{'ab' * 20}/config.json")[:2] == (404, "RevisionNotFound")
    st, code, _, h = _err(f"{H}/test-org/multi-shard/resolve/main/nope.txt")
    assert (st, code) == (404, "EntryNotFound") and h["x-repo-commit"] == summary["test-org/multi-shard"]["commit"]
    st, _, msg, _ = _err(f"{H}/test-org/disabled/resolve/main/config.json")
    assert st == 403 and msg == "Access to this resource is disabled."
    st, _, msg, _ = _err(f"{H}/test-org/multi-shard/resolve/main/config.json", headers=bearer("hf_bogus"))
    assert st == 401 and msg == "Invalid credentials in Authorization header"


def test_gated(hub):
    url = f"{hub.hub}/test-org/gated/resolve/main/model.safetensors"
    st, code, msg, _ = _err(url)
    assert (st, code) == (401, "GatedRepo") and "is restricted" in msg and "Please log in" in msg
    st, code, msg, _ = _err(url, headers=bearer(TOKEN_NOT_APPROVED))
    assert (st, code) == (403, "GatedRepo") and "not in the authorized list" in msg
    assert request(url, "HEAD", bearer(TOKEN_OK))[0] == 302
    # resolve-cache is gated too; model info and tree are public
    loc = request(f"{hub.hub}/test-org/gated/resolve/main/config.json", "HEAD", bearer(TOKEN_OK))[1]["location"]
    assert _err(hub.hub + loc, "GET")[:2] == (401, "GatedRepo")
    assert request(hub.hub + loc, "GET", bearer(TOKEN_OK))[0] == 200
    st, _, body = request(f"{hub.hub}/api/models/test-org/gated")
    assert st == 200 and json.loads(body)["gated"] == "auto"
    assert request(f"{hub.hub}/api/models/test-org/gated/tree/main")[0] == 200


def test_private(hub):
    for url in (f"{hub.hub}/api/models/test-org/private", f"{hub.hub}/test-org/private/resolve/main/config.json",
                f"{hub.hub}/api/models/test-org/private/tree/main"):
        assert _err(url, "GET")[:2] == (401, "RepoNotFound")
        assert _err(url, "GET", bearer(TOKEN_NOT_APPROVED))[:2] == (401, "RepoNotFound")
        assert request(url, "GET", bearer(TOKEN_OK))[0] in (200, 307)
    info = json.loads(request(f"{hub.hub}/api/models/test-org/private", headers=bearer(TOKEN_OK))[2])
    assert info["private"] is True


def test_auth_stats_cdn_violation(hub):
    h = bearer(TOKEN_OK)
    loc = request(f"{hub.hub}/test-org/private/resolve/main/config.json", "HEAD", h)[1]["location"]
    assert request(hub.hub + loc, "GET", h)[0] == 200  # same-host hop with the token
    url = cdn_url(hub, "test-org/private", "model.safetensors", headers=h)
    assert request(url, "HEAD")[0] == 200
    assert hub.stats()["cdn_auth_violations"] == 0
    assert request(url, "HEAD", h)[0] == 200  # still served, but recorded
    # The hub records a request after its response is sent: give a loaded machine a moment to catch up.
    deadline = time.time() + 5
    while (s := hub.stats())["cdn_auth_violations"] == 0 and time.time() < deadline:
        time.sleep(0.02)
    assert s["cdn_auth_violations"] == 1 and s["resolve_auth_seen"] == 3
    cdn = [r for r in s["requests"] if r["server"] == "cdn"]
    assert [r["auth"] for r in cdn] == [False, True]
    hub.reset()
    assert hub.stats() == {"requests": [], "cdn_auth_violations": 0, "bytes_by_sha256": {}, "resolve_auth_seen": 0}


def test_huge_and_traversal(hub, summary):
    T = 10 * 1024 ** 4
    tree = {i["path"]: i for i in json.loads(request(f"{hub.hub}/api/models/test-org/huge/tree/main?recursive=true")[2])}
    assert tree["huge.bin"]["size"] == T and tree["huge.bin"]["lfs"]["size"] == T
    assert tree["huge.bin"]["lfs"]["oid"] == hashlib.sha256(b"huge.bin").hexdigest()
    st, h, _ = request(f"{hub.hub}/test-org/huge/resolve/main/huge.bin", "HEAD")
    assert st == 302 and h["x-linked-size"] == str(T)
    st, h, body = request(h["location"], headers={"Range": f"bytes={T - 10}-"})
    assert st == 206 and body == bytes(10) and h["content-range"] == f"bytes {T - 10}-{T - 1}/{T}"
    paths = {i["path"] for i in json.loads(request(f"{hub.hub}/api/models/test-org/traversal/tree/main?recursive=true")[2])}
    assert paths == {"config.json", "../escape.txt", "/etc/evil.txt"}


# -- stats -------------------------------------------------------------------------------------

def test_stats_bytes(hub, summary):
    f = summary["test-org/multi-shard"]["files"]["model-00002-of-00002.safetensors"]
    url = cdn_url(hub, "test-org/multi-shard", "model-00002-of-00002.safetensors")
    request(url, headers={"Range": "bytes=0-999"})
    request(url, headers={"Range": "bytes=1000-"})
    s = hub.stats()
    assert s["bytes_by_sha256"][f["sha256"]] == f["size"]
    cdn = [r for r in s["requests"] if r["server"] == "cdn"]
    assert [(r["status"], r["range"], r["bytes_sent"], r["file"]) for r in cdn] == [
        (206, "bytes=0-999", 1000, "model-00002-of-00002.safetensors"),
        (206, "bytes=1000-", f["size"] - 1000, "model-00002-of-00002.safetensors")]
    hubreqs = [r for r in s["requests"] if r["server"] == "hub"]
    assert hubreqs[0]["method"] == "HEAD" and hubreqs[0]["status"] == 302


# -- faults ------------------------------------------------------------------------------------

SHARD2 = "model-00002-of-00002.safetensors"


def test_fault_status(hub):
    url = f"{hub.hub}/test-org/multi-shard/resolve/main/config.json"
    hub.faults([{"match": "config.json", "server": "hub", "kind": "status", "status": 503, "retry_after": 2, "count": 2}])
    for _ in range(2):
        st, h, body = request(url, "GET")
        assert st == 503 and h["retry-after"] == "2" and "error" in json.loads(body)
    assert request(url, "HEAD")[0] == 307
    hub.faults([{"match": "/resolve/", "kind": "status", "status": 429, "ratelimit_reset": 7, "method": "HEAD"}])
    assert request(url, "GET")[0] == 307  # method filter
    st, h, _ = request(url, "HEAD")
    assert st == 429 and h["ratelimit"] == '"resolvers";r=0;t=7'
    hub.faults([{"match": "", "server": "cdn", "kind": "status", "status": 500, "count": -1}])
    cdn = cdn_url(hub, "test-org/multi-shard", SHARD2)
    assert [request(cdn, "HEAD")[0] for _ in range(3)] == [500, 500, 500]
    assert hub.fault_status()[0]["fired"] == 3


def test_fault_reset(hub, repos):
    url = cdn_url(hub, "test-org/multi-shard", SHARD2)
    hub.faults([{"match": SHARD2, "server": "cdn", "kind": "reset", "after_bytes": 100000}])
    with pytest.raises((ConnectionResetError, http.client.IncompleteRead)):
        request(url)
    assert request(url)[2] == blob(repos, "test-org/multi-shard", SHARD2)  # fired once
    r = [x for x in hub.stats()["requests"] if x["server"] == "cdn"][0]
    assert r["aborted"] and r["faults"] == ["reset"] and 0 < r["bytes_sent"] <= 100000


def test_fault_truncate(hub, repos):
    url = cdn_url(hub, "test-org/multi-shard", SHARD2)
    hub.faults([{"match": SHARD2, "kind": "truncate", "after_bytes": 12345}])
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    conn.request("GET", u.path + "?" + u.query)
    r = conn.getresponse()
    assert r.status == 200 and int(r.headers["Content-Length"]) == len(blob(repos, "test-org/multi-shard", SHARD2))
    with pytest.raises(http.client.IncompleteRead) as ei:
        r.read()
    assert len(ei.value.partial) == 12345
    assert [x["bytes_sent"] for x in hub.stats()["requests"] if x["server"] == "cdn"] == [12345]


def test_fault_corrupt(hub, repos):
    data = blob(repos, "test-org/multi-shard", SHARD2)
    url = cdn_url(hub, "test-org/multi-shard", SHARD2)
    hub.faults([{"match": SHARD2, "kind": "corrupt", "offset": 5000}])
    assert request(url, headers={"Range": "bytes=0-999"})[2] == data[:1000]  # offset outside: not consumed
    body = request(url, headers={"Range": "bytes=4000-5999"})[2]
    assert body != data[4000:6000] and body[1000] == data[5000] ^ 1 and body[:1000] == data[4000:5000]
    assert request(url)[2] == data


def test_fault_ignore_range_and_range_200(hub, repos):
    data = blob(repos, "test-org/multi-shard", SHARD2)
    url = cdn_url(hub, "test-org/multi-shard", SHARD2)
    hub.faults([{"match": SHARD2, "kind": "ignore_range"}])
    assert request(url)[0] == 200  # no Range: rule not consumed
    st, h, body = request(url, headers={"Range": "bytes=100-199"})
    assert st == 200 and body == data and "content-range" not in h
    hub.faults([{"match": SHARD2, "kind": "range_200"}])
    st, h, body = request(url, headers={"Range": "bytes=100-199"})
    assert st == 200 and body == data[100:200] and h["content-range"] == f"bytes 100-199/{len(data)}"
    assert request(url, headers={"Range": "bytes=100-199"})[0] == 206


def test_fault_stall(hub, repos):
    data = blob(repos, "test-org/multi-shard", SHARD2)
    url = cdn_url(hub, "test-org/multi-shard", SHARD2)
    hub.faults([{"match": SHARD2, "kind": "stall", "after_bytes": 1000, "seconds": 1.5}])
    with pytest.raises((socket.timeout, TimeoutError)):
        request(url, timeout=0.5)
    hub.faults([{"match": SHARD2, "kind": "stall", "after_bytes": 1000, "seconds": 1.0}])
    t0 = time.monotonic()
    assert request(url, timeout=5)[2] == data
    assert time.monotonic() - t0 >= 0.9


def test_fault_bandwidth_and_cdn_cap(hub, repos):
    url = cdn_url(hub, "test-org/multi-shard", SHARD2)
    hub.faults([{"match": SHARD2, "kind": "bandwidth", "bytes_per_sec": 1_000_000}])
    t0 = time.monotonic()
    assert len(request(url, headers={"Range": "bytes=0-499999"})[2]) == 500000
    assert time.monotonic() - t0 >= 0.4
    hub.faults([])
    hub.config(cdn_bandwidth=2_000_000)
    t0 = time.monotonic()
    request(url, headers={"Range": "bytes=0-999999"})
    assert time.monotonic() - t0 >= 0.4
    hub.config(cdn_bandwidth=None)
    t0 = time.monotonic()
    request(url)
    assert time.monotonic() - t0 < 0.5


def test_bad_fault_rule_rejected(hub):
    with pytest.raises(urllib.error.HTTPError) as ei:
        hub.faults([{"kind": "nope"}])
    assert ei.value.code == 400


def test_client_disconnect_is_quiet(hub):
    url = cdn_url(hub, "test-org/big", "big.bin")
    u = urllib.parse.urlsplit(url)
    for _ in range(3):
        s = socket.create_connection((u.hostname, u.port))
        s.sendall(f"GET {u.path}?{u.query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        s.recv(1000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    time.sleep(0.3)
    assert request(url, "HEAD")[0] == 200
    with open(hub.stderr_path) as f:
        assert "Traceback" not in f.read()
