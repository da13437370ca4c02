"""Gated, private, disabled and missing repos; where tokens come from; tokens never printed."""
from __future__ import annotations

import re

import pytest

from conftest import (assert_pull_matches, fmt, grep_tree_for, manifest_files, pull_ok,
                      summary_files, verify_store)

TOKEN_OK = "hf_testtoken_OK_1234567890"
TOKEN_NOT_APPROVED = "hf_testtoken_NOTAPPROVED_99"
GATED = "test-org/gated"
PRIVATE = "test-org/private"
NOT_FOUND = r"not found|does not exist|doesn't exist|no such"


def _fails(run_dsm, ref, env=None, extra=()):
    rc, out, err = run_dsm(["pull", ref, *extra], env=env)
    ctx = fmt(rc, out, err)
    assert rc == 1, f"pull of {ref} should fail with exit 1\n" + ctx
    return err, ctx


def _check_token_reached_same_host_hops(hub):
    st = hub.stats()
    assert st["cdn_auth_violations"] == 0, "the token was sent to the CDN (cross-host redirect)"
    assert st["resolve_auth_seen"] > 0, "the hub never saw the token on resolve / resolve-cache"
    rc_hops = [r for r in st["requests"] if r["path"].startswith("/api/resolve-cache/")]
    assert rc_hops, "no resolve-cache request (the non-LFS files must go through the 307 hop)"
    assert all(r["auth"] for r in rc_hops), (
        f"the same-host resolve-cache hop lost the token: {[(r['path'], r['status']) for r in rc_hops if not r['auth']]}")


def test_gated_without_token(run_dsm, hub, dsm_home):
    err, ctx = _fails(run_dsm, "hf.co/" + GATED)
    low = err.lower()
    assert GATED in err, "the message must name the repo\n" + ctx
    assert "gated" in low, "the message must say the repo is gated\n" + ctx
    assert "HF_TOKEN" in err, "the message must say to set HF_TOKEN\n" + ctx
    assert re.search(r"request access|ask for access|accept (its|the) (conditions|terms)|access", low), (
        "the message must say to request access / accept the conditions\n" + ctx)
    assert not manifest_files(dsm_home)


def test_gated_token_not_approved(run_dsm, hub, dsm_home):
    err, ctx = _fails(run_dsm, "hf.co/" + GATED, env={"HF_TOKEN": TOKEN_NOT_APPROVED})
    low = err.lower()
    assert GATED in err, ctx
    assert re.search(r"not (yet )?(been )?approved|authori[sz]ed list|403", low), (
        "the message must say the token's access to the gated repo is not approved (403)\n" + ctx)
    assert not manifest_files(dsm_home)


def _gated_ok(run_dsm, hub, summary, dsm_home, env):
    res = pull_ok(run_dsm, "hf.co/" + GATED, env=env)
    assert_pull_matches(res, summary_files(summary, GATED), dsm_home, str(res)[:2000])
    _check_token_reached_same_host_hops(hub)


def test_gated_with_hf_token(run_dsm, hub, summary, dsm_home):
    _gated_ok(run_dsm, hub, summary, dsm_home, {"HF_TOKEN": TOKEN_OK})


def test_gated_with_hf_home_token_file(run_dsm, hub, summary, dsm_home, tmp_path):
    hf_home = tmp_path / "hf-home"
    hf_home.mkdir()
    (hf_home / "token").write_text(TOKEN_OK + "\n")
    _gated_ok(run_dsm, hub, summary, dsm_home, {"HF_HOME": hf_home})


def test_gated_with_hf_token_path(run_dsm, hub, summary, dsm_home, tmp_path):
    tok = tmp_path / "elsewhere" / "my-token"
    tok.parent.mkdir()
    tok.write_text(TOKEN_OK)
    _gated_ok(run_dsm, hub, summary, dsm_home, {"HF_TOKEN_PATH": tok})


def test_gated_with_default_token_file(run_dsm, hub, summary, dsm_home, fake_home):
    """No HF_HOME / HF_TOKEN_PATH: the token file huggingface-cli writes, ~/.cache/huggingface/token."""
    tok = fake_home / ".cache" / "huggingface" / "token"
    tok.parent.mkdir(parents=True)
    tok.write_text(TOKEN_OK)
    _gated_ok(run_dsm, hub, summary, dsm_home, {})


def test_hf_token_wins_over_token_file(run_dsm, hub, summary, dsm_home, tmp_path):
    hf_home = tmp_path / "hf-home"
    hf_home.mkdir()
    (hf_home / "token").write_text(TOKEN_NOT_APPROVED)
    _gated_ok(run_dsm, hub, summary, dsm_home, {"HF_HOME": hf_home, "HF_TOKEN": TOKEN_OK})


def test_private_without_token(run_dsm, hub, dsm_home):
    err, ctx = _fails(run_dsm, "hf.co/" + PRIVATE)
    low = err.lower()
    assert PRIVATE in err, ctx
    assert re.search(NOT_FOUND, low) and "private" in low, "message must say 'not found or private'\n" + ctx
    assert "HF_TOKEN" in err, "message must suggest setting HF_TOKEN\n" + ctx
    assert not manifest_files(dsm_home)


def test_private_with_token(run_dsm, hub, summary, dsm_home):
    res = pull_ok(run_dsm, "hf.co/" + PRIVATE, env={"HF_TOKEN": TOKEN_OK})
    assert_pull_matches(res, summary_files(summary, PRIVATE), dsm_home, str(res)[:2000])
    _check_token_reached_same_host_hops(hub)


def test_invalid_token(run_dsm, hub, dsm_home):
    err, ctx = _fails(run_dsm, "hf.co/test-org/multi-shard", env={"HF_TOKEN": "hf_this_token_is_unknown"})
    assert re.search(r"invalid (credentials|token)|token .*(invalid|rejected|not valid)", err, re.I), (
        "an unknown token must be reported as invalid credentials\n" + ctx)
    assert "hf_this_token_is_unknown" not in err


def test_disabled_repo(run_dsm, hub, dsm_home):
    err, ctx = _fails(run_dsm, "hf.co/test-org/disabled")
    assert "disabled" in err.lower(), "message must say the repo is disabled\n" + ctx


def test_missing_repo(run_dsm, hub, dsm_home):
    err, ctx = _fails(run_dsm, "hf.co/test-org/does-not-exist")
    assert "test-org/does-not-exist" in err and re.search(NOT_FOUND, err.lower()), (
        "a missing repo must give a 'repository not found' message naming it\n" + ctx)


def test_missing_revision(run_dsm, hub, dsm_home):
    err, ctx = _fails(run_dsm, "hf.co/test-org/multi-shard", extra=["--revision", "no-such-branch"])
    low = err.lower()
    assert "no-such-branch" in err and "revision" in low and re.search(NOT_FOUND, low), (
        "a missing revision must give a 'revision not found' message naming it\n" + ctx)
    assert not manifest_files(dsm_home)


def test_missing_commit_revision(run_dsm, hub, dsm_home):
    bogus = "0123456789abcdef0123456789abcdef01234567"
    err, ctx = _fails(run_dsm, "hf.co/test-org/multi-shard", extra=["--revision", bogus])
    assert bogus in err and "revision" in err.lower() and re.search(NOT_FOUND, err.lower()), ctx


# -- the token is never printed or stored -------------------------------------------------

TOKEN_RUNS = [
    # (id, ref, extra args, env token, faults, expect success)
    ("gated_ok_json", "hf.co/" + GATED, ["--json"], TOKEN_OK, [], True),
    ("gated_ok_text", "hf.co/" + GATED, [], TOKEN_OK, [], True),
    ("private_ok_json", "hf.co/" + PRIVATE, ["--json"], TOKEN_OK, [], True),
    ("missing_rev_json", "hf.co/" + GATED, ["--json", "--revision", "nope"], TOKEN_OK, [], False),
    ("missing_repo_text", "hf.co/test-org/nope", [], TOKEN_OK, [], False),
    ("not_approved_json", "hf.co/" + GATED, ["--json"], TOKEN_NOT_APPROVED, [], False),
    ("not_approved_text", "hf.co/" + GATED, [], TOKEN_NOT_APPROVED, [], False),
    ("server_errors_text", "hf.co/" + GATED, ["--retries", "1"], TOKEN_OK,
     [{"match": "model.safetensors", "server": "any", "kind": "status", "status": 500, "count": -1}], False),
    ("corrupt_json", "hf.co/" + GATED, ["--json", "--retries", "1"], TOKEN_OK,
     [{"match": "model.safetensors", "server": "cdn", "kind": "corrupt", "offset": 100, "count": -1}], False),
]


@pytest.mark.parametrize("case", TOKEN_RUNS, ids=[c[0] for c in TOKEN_RUNS])
def test_token_never_printed_or_stored(run_dsm, hub, dsm_home, fake_home, case):
    _, ref, extra, token, faults, ok = case
    hub.faults(faults)
    rc, out, err = run_dsm(["pull", ref, *extra], env={"HF_TOKEN": token}, timeout=120)
    ctx = fmt(rc, out, err)
    assert rc == (0 if ok else 1), f"unexpected exit status for {case[0]}\n" + ctx
    assert any(r["auth"] for r in hub.stats()["requests"] if r["server"] == "hub"), (
        "dsm never sent the token to the hub, so this run proves nothing\n" + ctx)
    if ok:
        assert manifest_files(dsm_home), "successful pull wrote no manifest\n" + ctx
    else:
        assert "error" in err.lower() and not manifest_files(dsm_home), ctx
    assert token not in out, "the token appears on stdout\n" + ctx
    assert token not in err, "the token appears on stderr\n" + ctx
    if ok:
        # show/list outputs must not leak it either
        for args in (["list"], ["list", "--json"]):
            rc2, out2, err2 = run_dsm(args, env={"HF_TOKEN": token})
            assert rc2 == 0 and token not in out2 + err2, fmt(rc2, out2, err2)
    # nothing under DSM_HOME (manifests, partial state, logs, locks) holds the token
    hits = grep_tree_for(dsm_home, token.encode())
    assert not hits, f"the token was written to files under DSM_HOME: {hits}"
    hits = grep_tree_for(fake_home, token.encode())
    assert not hits, f"the token was written to files under HOME: {hits}"
    verify_store(dsm_home)
