"""Catalog, hash and argument validation."""
from __future__ import annotations

import hashlib
import os

import pytest

from conftest import fmt, hub_requests, manifest_files, parse_json_stdout


def test_catalog_lists_deepseek_r1_7b(run_dsm, hub):
    rc, out, err = run_dsm(["catalog"])
    assert rc == 0, fmt(rc, out, err)
    line = [l for l in out.splitlines() if "deepseek-r1:7b" in l]
    assert line, "dsm catalog does not list deepseek-r1:7b\n" + fmt(rc, out, err)
    assert "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B" in out, "dsm catalog does not show the 7b repo\n" + out


def _find_entry(obj, name, repo):
    """True if some JSON object holds both the catalog name (as key or value) and the repo."""
    if isinstance(obj, dict):
        vals = {v for v in obj.values() if isinstance(v, str)}
        if repo in vals and (name in vals or any(name in str(v) for v in vals)):
            return True
        for k, v in obj.items():
            if k == name and isinstance(v, dict) and repo in {x for x in v.values() if isinstance(x, str)}:
                return True
            if _find_entry(v, name, repo):
                return True
    elif isinstance(obj, list):
        return any(_find_entry(v, name, repo) for v in obj)
    return False


def test_catalog_json(run_dsm, hub):
    rc, out, err = run_dsm(["catalog", "--json"])
    assert rc == 0, fmt(rc, out, err)
    data = parse_json_stdout(rc, out, err)
    assert _find_entry(data, "deepseek-r1:7b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"), (
        "dsm catalog --json has no entry tying deepseek-r1:7b to deepseek-ai/DeepSeek-R1-Distill-Qwen-7B\n"
        + out[:3000])


def test_hash_matches_hashlib(run_dsm, hub, tmp_path):
    files = {"empty.bin": b"", "one.bin": b"\x7f", "three-mib.bin": os.urandom(3 * 1024 * 1024 + 17)}
    paths = []
    for n, data in files.items():
        p = tmp_path / n
        p.write_bytes(data)
        paths.append(p)
    rc, out, err = run_dsm(["hash", *paths])
    assert rc == 0, fmt(rc, out, err)
    lines = [l for l in out.splitlines() if l.strip()]
    assert len(lines) == len(paths), f"one line per file expected\n{out}"
    for p, l in zip(paths, lines):
        digest, _, name = l.partition("  ")
        assert digest == hashlib.sha256(p.read_bytes()).hexdigest(), f"wrong digest for {p.name}: {l}"
        assert name == str(p), f"sha256sum-style '<digest>  <file>' expected: {l!r}"


def test_hash_missing_file(run_dsm, hub, tmp_path):
    rc, out, err = run_dsm(["hash", tmp_path / "nope.bin"])
    assert rc != 0 and "nope.bin" in err, fmt(rc, out, err)


def test_unknown_catalog_name(run_dsm, hub, dsm_home):
    rc, out, err = run_dsm(["pull", "deepseek-r9:123b"])
    ctx = fmt(rc, out, err)
    assert rc != 0, ctx
    assert "deepseek-r9:123b" in err, "the message must name the unknown model\n" + ctx
    assert "dsm catalog" in err, "the message must say how to see the catalog (dsm catalog)\n" + ctx
    assert not manifest_files(dsm_home)


@pytest.mark.parametrize("ref", ["hf.co/", "hf.co/only-org", "org/na me", "hf.co/org/name/extra/parts"])
def test_invalid_reference_is_usage_error(run_dsm, hub, dsm_home, ref):
    rc, out, err = run_dsm(["pull", ref])
    ctx = fmt(rc, out, err)
    assert rc not in (0, 130) and rc > 0, f"invalid reference {ref!r} must be rejected\n" + ctx
    assert ref.strip() in err or "reference" in err.lower() or "usage" in err.lower(), (
        f"the message must explain the invalid reference {ref!r}\n" + ctx)
    assert not hub_requests(hub.stats()), f"dsm contacted the hub for an invalid reference {ref!r}"


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_bad_connections_rejected(run_dsm, hub, dsm_home, value):
    rc, out, err = run_dsm(["pull", "hf.co/test-org/multi-shard", "--connections", value])
    ctx = fmt(rc, out, err)
    assert rc not in (0, 130) and rc > 0, f"--connections {value} must be rejected\n" + ctx
    assert "connections" in err, "the message must name --connections\n" + ctx
    assert not hub_requests(hub.stats()), "dsm contacted the hub despite invalid arguments"


def test_show_unknown_name(run_dsm, hub, dsm_home):
    rc, out, err = run_dsm(["show", "hf.co/test-org/never-pulled:latest"])
    assert rc != 0 and "never-pulled" in err, fmt(rc, out, err)


def test_offline_mode_refuses_to_contact_the_hub(run_dsm, hub):
    rc, out, err = run_dsm(["pull", "test-org/multi-shard"], env={"HF_HUB_OFFLINE": "1"})
    assert rc == 1 and "HF_HUB_OFFLINE" in err and "unset" in err, err
    assert not hub.stats()["requests"], "offline mode must not send any request"


@pytest.mark.parametrize("args", [["--help"], ["pull", "--help"], ["serve", "-h"], ["help", "quantize"], ["fit", "--help"]])
def test_help_prints_the_commands_help(run_dsm, args):
    """--help reaches run() as ArgumentParser's own error type: it must be printed as help, exit 0."""
    rc, out, err = run_dsm(args)
    assert rc == 0 and out.startswith("OVERVIEW:") and "USAGE:" in out and "CommandError" not in out + err, fmt(rc, out, err)
