"""The artifact layer through the real binary: every SOURCE form a command reads resolves the same way in convert,
quantize and fit; a store written by a dsm from before the registry (a stable view with no registry state) is not
read but reported with what to do, and gc keeps its blobs; and every store write leaves only files the sweepers
recognise when it is killed (the kill -9 storms of the pull, create and quantize tests run through the same
`Ingest`)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import fmt, parse_json_stdout
from test_registry import make_gguf

NAME = "layer-test:q8"


def test_every_reader_refuses_an_unknown_source_the_same_way(run_dsm, dsm_home, tmp_path):
    missing = tmp_path / "missing.gguf"
    for cmd, words in ((["convert", str(missing)], "neither a folder nor a model in"),
                       (["quantize", str(missing), "--q8"], "neither a file, a folder nor a model in"),
                       (["fit", str(missing)], "neither a stored model")):
        rc, out, err = run_dsm(cmd)
        assert rc == 1 and words in err and err.startswith("Error: "), f"{cmd}\n" + fmt(rc, out, err)
        assert str(dsm_home) in err or cmd[0] == "fit", fmt(rc, out, err)


def test_selectors_resolve_in_every_reader(run_dsm, dsm_home, tmp_path):
    for seed in (1, 2):
        rc, out, err = run_dsm(["create", NAME, "--from", str(make_gguf(tmp_path / f"m{seed}.gguf", seed))])
        assert rc == 0, fmt(rc, out, err)
    rc, out, err = run_dsm(["tag", f"{NAME}@v2", "candidate"])
    assert rc == 0, fmt(rc, out, err)
    for ref, version in ((NAME, 1), (f"{NAME}@v2", 2), (f"{NAME}@candidate", 2), (f"{NAME}@stable", 1)):
        rc, out, err = run_dsm(["fit", ref, "--json"])
        assert rc == 0, fmt(rc, out, err)
        assert f"{NAME}@v{version}" in json.dumps(parse_json_stdout(rc, out, err)), (ref, out)
    rc, out, err = run_dsm(["quantize", f"{NAME}@v9", "--q8", "--dry-run"])
    assert rc == 1 and "v9" in err, fmt(rc, out, err)


def test_a_store_from_before_the_registry_is_reported_not_read(run_dsm, dsm_home, tmp_path):
    rc, out, err = run_dsm(["create", NAME, "--from", str(make_gguf(tmp_path / "m.gguf", 3))])
    assert rc == 0, fmt(rc, out, err)
    view = dsm_home / "manifests" / f"{NAME}.json"
    blobs = sorted(p.name for p in (dsm_home / "blobs").iterdir())
    # what an older dsm left: the view and the blobs, no registry
    shutil.rmtree(dsm_home / "registry")
    assert view.is_file()
    rc, out, err = run_dsm(["show", NAME])
    assert rc == 1 and "older dsm" in err and "dsm pull" in err and "dsm create" in err, fmt(rc, out, err)
    rc, out, err = run_dsm(["quantize", NAME, "--q8", "--dry-run"])
    assert rc == 1 and "older dsm" in err, fmt(rc, out, err)
    rc, out, err = run_dsm(["list"])
    assert rc == 0 and NAME not in out and "older dsm" in err, fmt(rc, out, err)
    rc, out, err = run_dsm(["gc", "--json"])
    assert rc == 0 and parse_json_stdout(rc, out, err)["blobs"] == [], fmt(rc, out, err)
    assert sorted(p.name for p in (dsm_home / "blobs").iterdir()) == blobs
    # registering the files again makes the name readable
    rc, out, err = run_dsm(["create", NAME, "--from", str(tmp_path / "m.gguf")])
    assert rc == 0 and out.strip() == f"{NAME}@v1", fmt(rc, out, err)


def test_a_killed_write_leaves_only_sweepable_files(run_dsm, start_dsm, dsm_home, tmp_path):
    big = make_gguf(tmp_path / "big.gguf", 4, mib=64)
    import time
    for _ in range(3):
        p = start_dsm(["create", NAME, "--from", str(big)])
        deadline = time.time() + 30
        while not list((dsm_home / "partials").glob("create.tmp-*")) and p.poll() is None and time.time() < deadline:
            time.sleep(0.002)
        p.kill()
        p.wait()
        left = [q.name for q in (dsm_home / "partials").iterdir()] if (dsm_home / "partials").exists() else []
        assert all(".tmp-" in n for n in left), left
    rc, out, err = run_dsm(["gc", "--partials-older-than", "0", "--json"])
    assert rc == 0, fmt(rc, out, err)
    rc, out, err = run_dsm(["verify"])
    assert rc == 0, fmt(rc, out, err)
