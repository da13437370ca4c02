"""The versioned registry through the real binary: the release workflow (create, tag, release, promote, rollback,
history) with show/list checked at every step, every bad command refused with the state untouched, pulls recording
versions, concurrent dsm processes losing no update, gc racing a create, kill -9 at random moments, gc and
verify --repair."""
from __future__ import annotations

import json
import os
import random
import re
import signal
import time
from pathlib import Path

import pytest

from conftest import DEMO_REPO, fmt, parse_json_stdout, pull_ok, sha256_file, verify_store

NAME = "my-r1:7b"
ENV = {"USER": "registry-tester"}
PULL_REF = "hf.co/test-org/multi-shard"


def make_gguf(path, seed: int, mib: int = 0) -> Path:
    """A valid GGUF (written by the gguf package) whose tensor depends on `seed`; `mib` adds that many MiB."""
    import numpy as np
    from gguf import GGUFWriter
    rng = np.random.default_rng(seed)
    w = GGUFWriter(str(path), "llama")
    w.add_name(f"registry-test-{seed}")
    w.add_tensor("t", rng.random(64 + mib * 262144, dtype=np.float32))
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    return Path(path)


def ok(run_dsm, *args, **kw):
    rc, out, err = run_dsm(list(args), env=ENV, **kw)
    assert rc == 0, f"dsm {' '.join(map(str, args))} failed\n" + fmt(rc, out, err)
    return out, err


def js(run_dsm, *args):
    out, err = ok(run_dsm, *args, "--json")
    return parse_json_stdout(0, out, err)


def folder(home, name=NAME) -> Path:
    return Path(home) / "registry" / name


def snapshot(home, name=NAME):
    """The bytes that make a name's registry state: state.json, history.jsonl and the version manifests."""
    d = folder(home, name)
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def summary(state: dict) -> dict:
    """A state.json as history entries record it (before/after)."""
    s = {"stable": state.get("stable"), "canary": state.get("canary"), "tags": state["tags"],
         "weight": state["weight"] if state.get("canary") else 0, "versions": [v["number"] for v in state["versions"]]}
    return {k: v for k, v in s.items() if v is not None}


def check_history(run_dsm, home, name=NAME) -> list:
    """history --json is the chain of committed changes: sequences 1..n, each one's before the previous one's after,
    the last one's after the committed state."""
    state = json.loads((folder(home, name) / "state.json").read_bytes())
    entries = js(run_dsm, "history", name)
    assert [e["sequence"] for e in entries] == list(range(1, state["revision"] + 1)), entries
    for a, b in zip(entries, entries[1:]):
        assert b["before"] == a["after"], f"entry {b['sequence']} does not start where {a['sequence']} ended (lost update)"
    if entries:
        assert entries[-1]["after"] == summary(state), (entries[-1], state)
    return entries


def check_agree(run_dsm, home, stable, canary, weight, tags, versions, name=NAME, view=True):
    """state.json, show --json, list --json and (with `view`) the stable view in manifests/ all say the same."""
    state = json.loads((folder(home, name) / "state.json").read_bytes())
    assert summary(state) == {k: v for k, v in dict(stable=stable, canary=canary, weight=weight, tags=tags,
                                                    versions=versions).items() if v is not None}, state
    shown = js(run_dsm, "show", name)
    assert shown["routing"] == {k: v for k, v in dict(stable=stable, canary=canary, weight=weight).items() if v is not None}
    assert shown["version"] == stable and shown["tags"] == tags, shown
    refs = lambda n: (["stable"] if n == stable else []) + (["canary"] if n == canary else []) \
        + sorted(f"tag {t}" for t, v in tags.items() if v == n)
    assert [(v["version"], v["channels"]) for v in shown["versions"]] == [(n, refs(n)) for n in versions]
    stable_manifest = next(v["manifest"] for v in state["versions"] if v["number"] == stable)
    assert shown["manifest"] == stable_manifest
    path = Path(home) / "manifests" / (name + ".json")
    assert not view or path.read_bytes() == (folder(home, name) / "versions" / f"sha256-{stable_manifest}.json").read_bytes()
    row = next(r for r in js(run_dsm, "list") if r["name"] == name)
    assert (row["versions"], row.get("stable"), row.get("canary"), row["weight"], row["tags"], row["manifest"]) == \
        (versions, stable, canary, weight, tags, stable_manifest), row
    return shown


def refused(run_dsm, home, args, message, name=NAME):
    before = snapshot(home, name) if folder(home, name).exists() else None
    rc, out, err = run_dsm(args, env=ENV)
    assert rc == 1 and re.search(message, err), f"expected exit 1 and /{message}/\n" + fmt(rc, out, err)
    assert "Error" in err and not out.strip(), fmt(rc, out, err)
    after = snapshot(home, name) if folder(home, name).exists() else None
    assert after == before, f"dsm {' '.join(map(str, args))} was refused but changed the registry"


def test_release_workflow(run_dsm, dsm_home, tmp_path):
    a, b = make_gguf(tmp_path / "a.gguf", 1), make_gguf(tmp_path / "b.gguf", 2)
    out, err = ok(run_dsm, "create", NAME, "--from", a)
    assert out.strip() == f"{NAME}@v1" and "(stable)" in err, err
    check_agree(run_dsm, dsm_home, 1, None, 0, {}, [1])
    out, err = ok(run_dsm, "create", NAME, "--from", b)
    assert out.strip() == f"{NAME}@v2" and "still means v1" in err and "dsm release" in err, err
    check_agree(run_dsm, dsm_home, 1, None, 0, {}, [1, 2])

    time.sleep(1.1)  # a later created_at: the manifest of the repeat differs, yet must not linger
    (tmp_path / "copy").mkdir()
    again = (tmp_path / "copy" / "b.gguf")
    again.write_bytes(b.read_bytes())
    before = snapshot(dsm_home)
    out, err = ok(run_dsm, "create", NAME, "--from", again)
    assert out.strip() == f"{NAME}@v2" and "nothing new was recorded" in err, err
    assert snapshot(dsm_home) == before, "the same files again changed the registry"
    assert js(run_dsm, "gc", "--dry-run")["versionManifests"] == []

    _, err = ok(run_dsm, "tag", f"{NAME}@v2", "prod-candidate")
    assert "prod-candidate" in err, err
    check_agree(run_dsm, dsm_home, 1, None, 0, {"prod-candidate": 2}, [1, 2])
    ok(run_dsm, "release", NAME, "--canary", "prod-candidate", "--weight", "10")
    check_agree(run_dsm, dsm_home, 1, 2, 10, {"prod-candidate": 2}, [1, 2])
    _, err = ok(run_dsm, "release", NAME, "--weight", "50")
    assert "canary v2 at 10% → stable v1, canary v2 at 50%" in err, err
    check_agree(run_dsm, dsm_home, 1, 2, 50, {"prod-candidate": 2}, [1, 2])
    files = lambda shown: [(f["path"], f["sha256"], f["size"]) for f in shown["files"]]
    a_files, b_files = [("model.gguf", sha256_file(p), p.stat().st_size) for p in (a, b)]
    for sel, n, want in [("v1", 1, a_files), ("stable", 1, a_files), ("canary", 2, b_files), ("prod-candidate", 2, b_files)]:
        shown = js(run_dsm, "show", f"{NAME}@{sel}")
        assert shown["version"] == n and files(shown) == [want], (sel, shown)
    for f in js(run_dsm, "show", f"{NAME}@v1")["files"]:
        assert sha256_file(f["blob"]) == f["sha256"]

    ok(run_dsm, "promote", NAME)
    assert files(check_agree(run_dsm, dsm_home, 2, None, 0, {"prod-candidate": 2}, [1, 2])) == [b_files]
    ok(run_dsm, "rollback", NAME)
    assert files(check_agree(run_dsm, dsm_home, 1, None, 0, {"prod-candidate": 2}, [1, 2])) == [a_files]
    ok(run_dsm, "rollback", NAME, "--to", "v2")
    check_agree(run_dsm, dsm_home, 2, None, 0, {"prod-candidate": 2}, [1, 2])

    entries = check_history(run_dsm, dsm_home)
    assert [(e["verb"], e.get("version")) for e in entries] == [
        ("add", 1), ("add", 2), ("tag", 2), ("release", 2), ("release", 2), ("promote", 2), ("rollback", 1), ("rollback", 2)]
    assert [e["command"] for e in entries[2:]] == [
        f"dsm tag {NAME}@v2 prod-candidate", f"dsm release {NAME} --canary prod-candidate --weight 10",
        f"dsm release {NAME} --weight 50", f"dsm promote {NAME}", f"dsm rollback {NAME}", f"dsm rollback {NAME} --to v2"]
    assert entries[0]["command"] == f"dsm create {NAME} --from {a}"
    assert {e["user"] for e in entries} == {"registry-tester"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["time"]) for e in entries)
    assert (entries[3]["before"], entries[3]["after"]) == (
        {"stable": 1, "weight": 0, "tags": {"prod-candidate": 2}, "versions": [1, 2]},
        {"stable": 1, "canary": 2, "weight": 10, "tags": {"prod-candidate": 2}, "versions": [1, 2]})
    text, _ = ok(run_dsm, "history", NAME)
    assert [l.split()[0] for l in text.splitlines()] == [f"#{i}" for i in range(1, 9)], text
    rc, out, err = run_dsm(["verify"])
    assert rc == 0, fmt(rc, out, err)


def test_create_from_a_checkpoint_folder(run_dsm, dsm_home, repos):
    ckpt = repos / DEMO_REPO
    want = sorted((p.name, p.stat().st_size, sha256_file(p)) for p in ckpt.iterdir() if p.is_file() and p.name[0] != ".")
    out, err = ok(run_dsm, "create", "demo:ckpt", "--from", ckpt, timeout=120)
    shown = js(run_dsm, "show", "demo:ckpt")
    assert shown["kind"] == "hf-snapshot" and sorted((f["path"], f["size"], f["sha256"]) for f in shown["files"]) == want
    out, err = ok(run_dsm, "create", "demo:ckpt", "--from", ckpt, timeout=120)
    assert out.strip() == "demo:ckpt@v1" and "nothing new was recorded" in err, err
    verify_store(dsm_home)


def setup_three(run_dsm, tmp_path):
    """v1 (stable), v2, v3 tagged keep; no canary, no previous stable."""
    for i in (1, 2, 3):
        ok(run_dsm, "create", NAME, "--from", make_gguf(tmp_path / f"{i}.gguf", i))
    ok(run_dsm, "tag", f"{NAME}@v3", "keep")


NOT_STORED = "other:x is not in the store"
REFUSALS = [
    (["tag", f"{NAME}@v9", "x"], "has no version v9"),
    (["release", NAME, "--canary", "v9", "--weight", "10"], "has no version v9"),
    (["release", NAME, "--canary", "v2", "--weight", "101"], "must be 0 to 100.*not 101"),
    (["release", NAME, "--canary", "v2", "--weight", "-1"], "must be 0 to 100.*not -1"),
    (["release", NAME, "--weight", "20"], "no canary to adjust"),
    (["release", NAME, "--canary", "v1", "--weight", "10"], "v1 is already the stable version"),
    (["release", NAME, "--canary", "nosuchtag"], "has no tag 'nosuchtag'"),
    (["promote", NAME], "no canary to promote"),
    (["rollback", NAME], "no previous stable version"),
    (["rollback", NAME, "--to", "v1"], "v1 is already the stable version"),
    (["rollback", NAME, "--to", "v9"], "has no version v9"),
    (["tag", f"{NAME}@v2", "v2"], "'v2' is not a valid tag"),
    (["tag", f"{NAME}@v2", "stable"], "'stable' is not a valid tag"),
    (["tag", f"{NAME}@v2", "9lives"], "'9lives' is not a valid tag"),
    (["tag", f"{NAME}@v2", "gone", "--delete"], "has no tag 'gone'"),
    (["rm", f"{NAME}@v1"], r"v1 of my-r1:7b is in use \(stable\).*--force"),
    (["rm", f"{NAME}@keep"], r"v3 of my-r1:7b is in use \(tag keep\)"),
    (["rm", f"{NAME}@v9"], "has no version v9"),
    (["rm", NAME], "say which version"),
    (["show", f"{NAME}@v9"], "has no version v9"),
    (["create", f"{NAME}@v4", "--from", "/dev/null"], "without @"),
    (["create", NAME, "--from", "{tmp}/1.json"], "is not a GGUF file"),
    (["create", NAME, "--from", "{tmp}/missing.gguf"], "does not exist"),
    (["create", NAME, "--from", "{tmp}"], "has no config.json"),
]
REFUSALS += [([cmd, *args], NOT_STORED) for cmd, *args in [
    ("tag", "other:x@v1", "t"), ("release", "other:x", "--canary", "v1", "--weight", "5"), ("promote", "other:x"),
    ("rollback", "other:x"), ("history", "other:x"), ("rm", "other:x@v1")]]


@pytest.mark.parametrize("args,message", REFUSALS, ids=[" ".join(a) for a, _ in REFUSALS])
def test_bad_command_is_refused_and_changes_nothing(run_dsm, dsm_home, tmp_path, args, message):
    setup_three(run_dsm, tmp_path)
    (tmp_path / "1.json").write_text('{"not": "a GGUF"}')
    refused(run_dsm, dsm_home, [a.format(tmp=tmp_path) for a in args], message)
    assert not list((dsm_home / "registry").glob("other*")), "a refused command on an unknown name created it"
    check_agree(run_dsm, dsm_home, 1, None, 0, {"keep": 3}, [1, 2, 3])
    assert len(check_history(run_dsm, dsm_home)) == 4


def test_rm_force_clears_pointers_and_numbers_are_not_reused(run_dsm, dsm_home, tmp_path):
    setup_three(run_dsm, tmp_path)
    ok(run_dsm, "release", NAME, "--canary", "v2", "--weight", "30")
    refused(run_dsm, dsm_home, ["rm", f"{NAME}@canary"], r"in use \(canary\)")
    ok(run_dsm, "rm", f"{NAME}@canary", "--force")
    check_agree(run_dsm, dsm_home, 1, None, 0, {"keep": 3}, [1, 3])
    ok(run_dsm, "rm", f"{NAME}@v3", "--force")
    check_agree(run_dsm, dsm_home, 1, None, 0, {}, [1])
    ok(run_dsm, "rm", f"{NAME}@v1", "--force")
    refused(run_dsm, dsm_home, ["show", NAME], "has no stable version")
    assert not (dsm_home / "manifests" / "my-r1:7b.json").exists(), "the stable view outlived its version"
    row = next(r for r in js(run_dsm, "list") if r["name"] == NAME)  # still listed: its numbers and history live on
    assert (row["versions"], row.get("stable"), row["size"]) == ([], None, 0), row
    out, err = ok(run_dsm, "create", NAME, "--from", tmp_path / "2.gguf")
    assert out.strip() == f"{NAME}@v4", "version numbers are never reused"
    check_agree(run_dsm, dsm_home, 4, None, 0, {}, [4])
    assert [e["verb"] for e in check_history(run_dsm, dsm_home)][-4:] == ["rm", "rm", "rm", "add"]


def test_pulls_record_versions(run_dsm, dsm_home):
    first = pull_ok(run_dsm, PULL_REF)
    second = pull_ok(run_dsm, PULL_REF)
    assert (first["version"], first["stable"], second["version"]) == (1, 1, 1), (first, second)
    name = PULL_REF + ":latest"
    shown = check_agree(run_dsm, dsm_home, 1, None, 0, {}, [1], name=name)
    assert shown["manifest"] == first["manifest"] == second["manifest"]
    assert sha256_file(dsm_home / "manifests" / "hf.co/test-org/multi-shard:latest.json") == shown["manifest"]
    assert len(check_history(run_dsm, dsm_home, name)) == 1
    assert len(list((folder(dsm_home, name) / "versions").iterdir())) == 1, "the re-pull left a manifest behind"

    rc, out, err = run_dsm(["pull", PULL_REF, "--revision", "refs/pr/1", "--name", name])
    assert rc == 0 and re.search(r"note: .*@v2, a new version; .* still means v1.*--canary v2", err), fmt(rc, out, err)
    assert "pr-only.txt" not in {f["path"] for f in check_agree(run_dsm, dsm_home, 1, None, 0, {}, [1, 2], name=name)["files"]}
    assert "pr-only.txt" in {f["path"] for f in js(run_dsm, "show", name + "@v2")["files"]}
    assert js(run_dsm, "gc")["blobs"] == [], "gc removed blobs of a version"
    verify_store(dsm_home)


def test_kill_9_during_pulls_registering_versions(run_dsm, start_dsm, dsm_home):
    """Pulls of two revisions (both already downloaded, so each run is mostly registration) killed at random
    moments: every name's state is the old or the new one, history is a chain, verify passes, a first commit killed
    leaves nothing visible, and gc clears what it left."""
    seed = int(os.environ.get("DSM_TEST_SEED", time.time()))
    print(f"DSM_TEST_SEED={seed}")
    rng = random.Random(seed)
    name = PULL_REF + ":latest"
    pull_ok(run_dsm, PULL_REF)
    pull_ok(run_dsm, PULL_REF, "--revision", "refs/pr/1", "--name", name.replace(":latest", ":pr"))
    killed = 0
    for i in range(24):
        target = name if i % 3 else f"{PULL_REF}:new{i}"  # every third pull is the first commit of a new name
        cmd = ["pull", PULL_REF, "--name", target, "--quiet"] + (["--revision", "refs/pr/1"] if rng.random() < 0.5 else [])
        st = folder(dsm_home, target) / "state.json"
        before = json.loads(st.read_bytes()) if st.exists() else None
        p = start_dsm(cmd, env=ENV)
        time.sleep(rng.uniform(0.005, 0.25))
        if p.poll() is None:
            killed += 1
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
        after = json.loads(st.read_bytes()) if st.exists() else None
        if before is None:
            assert after is None or after["revision"] == 1, after
        else:
            assert after["revision"] in (before["revision"], before["revision"] + 1), (cmd, before, after)
            assert after["revision"] == before["revision"] or len(after["versions"]) == len(before["versions"]) + 1
        if after is not None:
            check_history(run_dsm, dsm_home, target)
            check_agree(run_dsm, dsm_home, after["stable"], after.get("canary"), 0, after["tags"],
                        [v["number"] for v in after["versions"]], name=target, view=False)
        else:
            assert target not in {r["name"] for r in js(run_dsm, "list")}, "an uncommitted first pull is listed"
        rc, out, err = run_dsm(["verify"])
        assert rc == 0, f"after kill -9 of {cmd}\n" + fmt(rc, out, err)
    assert killed >= 6, f"only {killed} of 24 pulls were still running when killed"
    js(run_dsm, "gc", "--partials-older-than", "0")
    for d in (dsm_home / "registry").rglob("*:*"):
        if d.is_dir():
            assert (d / "state.json").exists(), f"gc left {d}, a name whose first commit never happened"
    for p in (dsm_home / "registry").rglob("sha256-*.json"):
        st = json.loads((p.parent.parent / "state.json").read_bytes())
        assert p.name[7:-5] in {v["manifest"] for v in st["versions"]}, f"gc left {p}, the manifest of no version"
    pull_ok(run_dsm, PULL_REF, "--revision", "refs/pr/1", "--name", name)  # the store still pulls
    rc, out, err = run_dsm(["verify"])
    assert rc == 0, fmt(rc, out, err)


def test_names_differing_only_in_case_are_refused(run_dsm, dsm_home, tmp_path):
    ok(run_dsm, "create", "My-R1:7b", "--from", make_gguf(tmp_path / "a.gguf", 1))
    refused(run_dsm, dsm_home, ["create", "my-r1:7b", "--from", tmp_path / "a.gguf"], r"differs only in case from the stored name My-R1:7b",
            name="my-r1:7b")
    refused(run_dsm, dsm_home, ["show", "my-r1:7b"], r"no model named", name="my-r1:7b")
    refused(run_dsm, dsm_home, ["tag", "my-r1:7b@v1", "x"], r"did you mean My-R1:7b\?", name="my-r1:7b")
    assert [r["name"] for r in js(run_dsm, "list")] == ["My-R1:7b"]


def test_text_history_names_the_tag(run_dsm, dsm_home, tmp_path):
    ok(run_dsm, "create", NAME, "--from", make_gguf(tmp_path / "a.gguf", 1))
    ok(run_dsm, "tag", f"{NAME}@v1", "golden")
    ok(run_dsm, "tag", f"{NAME}@v1", "golden", "--delete")
    out, _ = ok(run_dsm, "history", NAME)
    lines = out.strip().splitlines()
    assert re.search(r"#2 .* tag v1 golden ", lines[1]) and re.search(r"#3 .* untag v1 golden ", lines[2]), out


def test_concurrent_commands_lose_no_update(run_dsm, start_dsm, dsm_home, tmp_path):
    for i in (1, 2, 3):
        ok(run_dsm, "create", NAME, "--from", make_gguf(tmp_path / f"{i}.gguf", i))
    ok(run_dsm, "release", NAME, "--canary", "v2", "--weight", "5")
    big = make_gguf(tmp_path / "4.gguf", 4, mib=8)
    cmds = [["tag", f"{NAME}@v1", f"t{k}"] for k in range(12)] + [["tag", f"{NAME}@canary", f"c{k}"] for k in range(6)] + [
        ["release", NAME, "--canary", "v3", "--weight", "10"], ["release", NAME, "--canary", "v2", "--weight", "15"],
        ["release", NAME, "--weight", "20"], ["release", NAME, "--weight", "30"], ["promote", NAME],
        ["create", NAME, "--from", big], ["gc"], ["pull", PULL_REF, "--quiet"]]
    random.shuffle(cmds)
    procs = [(cmd, start_dsm(cmd, env=ENV)) for cmd in cmds]
    changes = 0
    for cmd, p in procs:
        rc, out, err = run_dsm.wait(p, timeout=120)
        if rc == 0:
            changes += cmd[0] not in ("gc", "pull")
        else:  # only refusals that depend on the order: no canary after the promote, or the promote made it stable
            assert rc == 1 and re.search(r"has no canary|no canary to adjust|v[23] is already the stable", err), \
                f"{cmd}\n" + fmt(rc, out, err)
    entries = check_history(run_dsm, dsm_home)
    assert len(entries) == 4 + changes, f"{changes} commands succeeded but history has {len(entries) - 4} new entries"
    for e in entries:  # @canary was resolved in the state the tag was applied to, not in an older one
        assert "@canary" not in e["command"] or e["version"] == e["before"].get("canary"), e
    state = json.loads((folder(dsm_home) / "state.json").read_bytes())
    assert {t: v for t, v in state["tags"].items() if t[0] == "t"} == {f"t{k}": 1 for k in range(12)}
    assert [v["number"] for v in state["versions"]] == [1, 2, 3, 4]
    rc, out, err = run_dsm(["verify"])
    assert rc == 0, fmt(rc, out, err)
    assert js(run_dsm, "show", PULL_REF + ":latest")["version"] == 1


def test_gc_waits_for_a_create_in_progress(run_dsm, start_dsm, dsm_home, tmp_path):
    ok(run_dsm, "create", NAME, "--from", make_gguf(tmp_path / "small.gguf", 1))
    big = make_gguf(tmp_path / "big.gguf", 2, mib=200)
    create = start_dsm(["create", NAME, "--from", big])
    deadline = time.time() + 30
    while not list((dsm_home / "partials").glob("create.tmp-*")):  # the copy into the store has begun
        assert create.poll() is None and time.time() < deadline, "the create finished before it was seen copying"
        time.sleep(0.002)
    gc = start_dsm(["gc", "--partials-older-than", "0", "--json"])
    started = time.time()
    while create.poll() is None:
        assert gc.poll() is None, "gc finished while a create was still storing its blob"
        time.sleep(0.005)
    assert time.time() - started > 0.15, "the create ended too soon after gc started to show that gc waited"
    rc, out, err = run_dsm.wait(create)
    assert rc == 0 and out.strip() == f"{NAME}@v2", fmt(rc, out, err)
    rc, out, err = run_dsm.wait(gc)
    assert rc == 0 and parse_json_stdout(rc, out, err)["blobs"] == [], fmt(rc, out, err)
    assert (dsm_home / "blobs" / f"sha256-{sha256_file(big)}").is_file()
    rc, out, err = run_dsm(["verify", NAME])
    assert rc == 0, fmt(rc, out, err)


def test_kill_9_at_random_moments_leaves_old_or_new_state(run_dsm, start_dsm, dsm_home, tmp_path):
    seed = int(os.environ.get("DSM_TEST_SEED", time.time()))
    print(f"DSM_TEST_SEED={seed}")  # shown when the test fails; set it to replay the same commands
    rng = random.Random(seed)
    for i in (1, 2, 3):
        ok(run_dsm, "create", NAME, "--from", make_gguf(tmp_path / f"{i}.gguf", i))
    in_flight = 0
    for i in range(60):
        v, w = f"v{rng.randint(1, 3)}", str(rng.randint(0, 100))
        cmd = rng.choice([["release", NAME, "--canary", v, "--weight", w], ["release", NAME, "--weight", w], ["promote", NAME],
                          ["rollback", NAME], ["rollback", NAME, "--to", v], ["tag", f"{NAME}@{v}", f"k{i}"],
                          ["create", NAME, "--from", f"new{i}.gguf"], ["gc", "--partials-older-than", "0"]])
        if cmd[0] == "create":
            cmd[-1] = make_gguf(tmp_path / cmd[-1], 100 + i, mib=rng.randint(1, 6))
        before = json.loads((folder(dsm_home) / "state.json").read_bytes())
        p = start_dsm(cmd, env=ENV)
        time.sleep(rng.uniform(0.003, 0.04))  # startup to past the end of most commands
        if p.poll() is None:
            in_flight += 1
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        after = json.loads((folder(dsm_home) / "state.json").read_bytes())
        assert after["revision"] in (before["revision"], before["revision"] + 1), (cmd, before, after)
        if after["revision"] == before["revision"]:
            assert after == before, f"{cmd}: the state changed without a new revision"
        entries = check_history(run_dsm, dsm_home)
        if after["revision"] > before["revision"]:
            assert entries[-1]["before"] == summary(before) and entries[-1]["command"] == "dsm " + " ".join(map(str, cmd))
        rc, out, err = run_dsm(["verify"])
        assert rc == 0, f"after kill -9 of {cmd}\n" + fmt(rc, out, err)
        r = after
        # A kill between the commit and the update of the stable view leaves the view behind until the next change.
        check_agree(run_dsm, dsm_home, r["stable"], r.get("canary"), r["weight"] if r.get("canary") else 0, r["tags"],
                    [v["number"] for v in r["versions"]], view=False)
        ok(run_dsm, "tag", NAME, f"probe{i}")  # the next command works, on top of what the kill left
        assert len(check_history(run_dsm, dsm_home)) == after["revision"] + 1
        check_agree(run_dsm, dsm_home, r["stable"], r.get("canary"), r["weight"] if r.get("canary") else 0,
                    {**r["tags"], f"probe{i}": r["stable"]}, [v["number"] for v in r["versions"]])
    assert in_flight >= 20, f"only {in_flight} of 60 commands were still running when killed"
    old = time.time() - 7200
    for p in list(dsm_home.rglob("*.tmp-*")):
        os.utime(p, (old, old))
    ok(run_dsm, "gc", "--partials-older-than", "0")
    assert not list(dsm_home.rglob("*.tmp-*")), "gc left temp files of interrupted runs"
    rc, out, err = run_dsm(["verify"])
    assert rc == 0, fmt(rc, out, err)


def test_gc_removes_only_blobs_no_version_uses(run_dsm, dsm_home, tmp_path):
    a, b, c = (make_gguf(tmp_path / f"{n}.gguf", n) for n in (1, 2, 3))
    blob = lambda p: dsm_home / "blobs" / f"sha256-{sha256_file(p)}"
    for p in (a, b, c):
        ok(run_dsm, "create", NAME, "--from", p)
    ok(run_dsm, "create", "other:x", "--from", a)
    ok(run_dsm, "release", NAME, "--canary", "v2", "--weight", "5")
    old, fresh = dsm_home / "partials" / "old.part", dsm_home / "partials" / "fresh.part"
    old.write_bytes(b"x"), fresh.write_bytes(b"y")
    os.utime(old, (time.time() - 7200,) * 2)
    assert js(run_dsm, "gc") == {"blobs": [], "bytes": 0, "partials": ["old.part"], "versionManifests": [], "temporaries": [], "versionFolders": []}
    assert fresh.exists() and all(blob(p).exists() for p in (a, b, c))

    v2_manifest = js(run_dsm, "show", f"{NAME}@v2")["manifest"]
    ok(run_dsm, "rm", f"{NAME}@v2", "--force")
    dry = js(run_dsm, "gc", "--dry-run")
    assert dry["blobs"] == [sha256_file(b)] and blob(b).exists(), dry
    done = js(run_dsm, "gc")
    assert done["blobs"] == [sha256_file(b)] and done["versionManifests"] == [f"{NAME}@sha256:{v2_manifest}"], done
    assert not blob(b).exists() and blob(a).exists() and blob(c).exists()
    ok(run_dsm, "rm", f"{NAME}@v1", "--force")  # other:x still holds a's file
    assert js(run_dsm, "gc")["blobs"] == [] and blob(a).exists()
    assert set(verify_store(dsm_home)) == {sha256_file(a), sha256_file(c)}
    rc, out, err = run_dsm(["verify"])
    assert rc == 0, fmt(rc, out, err)


def corrupt(path: Path):
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_repair_quarantines_and_a_new_copy_restores(run_dsm, dsm_home, tmp_path):
    a, b = make_gguf(tmp_path / "a.gguf", 1), make_gguf(tmp_path / "b.gguf", 2)
    ok(run_dsm, "create", NAME, "--from", a)
    ok(run_dsm, "create", NAME, "--from", b)
    bad = dsm_home / "blobs" / f"sha256-{sha256_file(b)}"
    corrupt(bad)
    rc, out, err = run_dsm(["verify"])
    assert rc == 1 and f"{sha256_file(b)}: corrupted" in out and f"{NAME}@v2 model.gguf" in out, fmt(rc, out, err)
    assert bad.exists(), "verify without --repair moved a blob"
    rc, out, err = run_dsm(["verify", NAME, "--repair", "--json"])
    report = parse_json_stdout(rc, out, err)
    assert rc == 1 and [p["blob"] for p in report["problems"]] == [sha256_file(b)], fmt(rc, out, err)
    q = dsm_home / "quarantine" / bad.name
    assert not bad.exists() and q.is_file() and report["problems"][0]["quarantined"] == str(q)
    rc, out, err = run_dsm(["verify"])
    assert rc == 1 and "missing (quarantined as corrupted)" in out, "a quarantined blob is still a problem\n" + fmt(rc, out, err)
    out, err = ok(run_dsm, "create", NAME, "--from", b)
    assert "nothing new was recorded" in err and bad.is_file()
    rc, out, err = run_dsm(["verify"])
    assert rc == 0, fmt(rc, out, err)

    pulled = pull_ok(run_dsm, PULL_REF)
    lfs = max(pulled["files"], key=lambda f: f["size"])
    corrupt(Path(lfs["blob"]))
    assert run_dsm(["verify", PULL_REF, "--repair"])[0] == 1
    again = pull_ok(run_dsm, PULL_REF)
    assert again["version"] == 1 and again["downloaded_bytes"] >= lfs["size"], again
    rc, out, err = run_dsm(["verify"])
    assert rc == 0, fmt(rc, out, err)
    verify_store(dsm_home)
